# Read the outputs of another workspace's current state, e.g. a network workspace's subnet.
data "tfe_outputs" "network" {
  organization = "my-org-name"
  workspace    = "network-prod"
}

output "subnet_id" {
  # nonsensitive_values holds only the outputs the network workspace does not mark sensitive.
  value = data.tfe_outputs.network.nonsensitive_values.subnet_id
}

output "database_password" {
  # values holds every output and is sensitive as a whole.
  value     = data.tfe_outputs.network.values.database_password
  sensitive = true
}
