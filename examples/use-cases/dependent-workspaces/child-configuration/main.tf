# What the child workspace's own configuration does with the parent's outputs: Terraform's
# terraform_remote_state data source with the `remote` backend, as the Runs pages' "Cross-Workspace State
# Access" shows. It reads the parent workspace's current state through the API (the token comes from the
# CLI configuration's credentials block for the host, or `terraform login`).

variable "hostname" {
  type    = string
  default = "app.terraform.io"
}

variable "organization" {
  type    = string
  default = "my-org-name"
}

data "terraform_remote_state" "cluster" {
  backend = "remote"

  config = {
    hostname     = var.hostname
    organization = var.organization
    workspaces = {
      name = "cluster"
    }
  }
}

output "cluster_endpoint" {
  value = data.terraform_remote_state.cluster.outputs.cluster_endpoint
}

output "cluster_ca_certificate" {
  value     = data.terraform_remote_state.cluster.outputs.cluster_ca_certificate
  sensitive = true
}
