# A Terraform variable and a sensitive environment variable of a workspace. The API never shows a
# sensitive value again: the state keeps the configured one.
resource "tfe_organization" "example" {
  name  = "my-org-name"
  email = "admin@company.com"
}

resource "tfe_workspace" "app" {
  name           = "app-prod"
  organization   = tfe_organization.example.name
  queue_all_runs = false
}

resource "tfe_variable" "region" {
  key          = "region"
  value        = "eu-west-1"
  category     = "terraform"
  description  = "Where the app is deployed"
  workspace_id = tfe_workspace.app.id
}

resource "tfe_variable" "zones" {
  key          = "zones"
  value        = "[\"a\", \"b\"]"
  category     = "terraform"
  hcl          = true
  workspace_id = tfe_workspace.app.id
}

resource "tfe_variable" "aws_secret" {
  key          = "AWS_SECRET_ACCESS_KEY"
  value        = "not-a-real-secret"
  category     = "env"
  sensitive    = true
  workspace_id = tfe_workspace.app.id
}

output "region" {
  # readable_value is the value without the sensitive mark (null for a sensitive variable).
  value = tfe_variable.region.readable_value
}
