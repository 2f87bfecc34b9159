# Use case 3 of the tfe_workspace_run page: safe workspace destruction.
#
# The destroy block queues a destroy run when this configuration is destroyed, and waits for it; only then
# does Terraform delete the workspace, which tfe_workspace does with a safe delete (force_delete = false,
# the default): refused while the workspace still manages resources. Without the destroy block the safe
# delete refuses, and the error names both ways out.

terraform {
  required_providers {
    tfe = {
      source = "hashicorp/tfe"
    }
  }
}

variable "organization" {
  type    = string
  default = "my-org-name"
}

resource "tfe_organization" "org" {
  name  = var.organization
  email = "admin@company.com"
}

resource "tfe_oauth_client" "github" {
  organization     = tfe_organization.org.name
  api_url          = "https://api.github.com"
  http_url         = "https://github.com"
  oauth_token      = "oauth_token_id"
  service_provider = "github"
}

resource "tfe_workspace" "app" {
  name           = "app"
  organization   = tfe_organization.org.name
  queue_all_runs = false
  vcs_repo {
    identifier     = "${var.organization}/app"
    oauth_token_id = tfe_oauth_client.github.oauth_token_id
  }
}

resource "tfe_workspace_run" "app" {
  workspace_id = tfe_workspace.app.id

  apply {
    manual_confirm = false
    wait_for_run   = true
  }

  destroy {
    manual_confirm = false
    wait_for_run   = true
  }
}
