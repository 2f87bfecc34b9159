# Look a workspace up by name, e.g. to queue a run in a workspace managed elsewhere.
data "tfe_workspace" "app" {
  name         = "app-prod"
  organization = "my-org-name"
}

output "app_workspace_id" {
  value = data.tfe_workspace.app.id
}
