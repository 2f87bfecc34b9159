# Use case 2 of the tfe_workspace_run page: a more reliable queue_all_runs = true.
#
# Both workspaces run a configuration that declares `variable "region"` without a default.
#
# - "eager" is created with queue_all_runs = true: its first run is queued the moment the workspace
#   exists, before Terraform can create its tfe_variable (which needs the workspace's ID). The run's plan
#   fails with "No value for required variable".
# - "steady" is created with queue_all_runs = false; its first run is a tfe_workspace_run that depends on
#   its variables, so it is queued only once they exist, and it applies. wait_for_run = false: the apply
#   does not wait for the run, which goes on (auto-applied) after Terraform has finished.

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

variable "region" {
  type    = string
  default = "eu-west-1"
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

# The race: the initial run starts without the variable below.
resource "tfe_workspace" "eager" {
  name           = "eager"
  organization   = tfe_organization.org.name
  queue_all_runs = true
  vcs_repo {
    identifier     = "${var.organization}/service"
    oauth_token_id = tfe_oauth_client.github.oauth_token_id
  }
}

resource "tfe_variable" "eager_region" {
  key          = "region"
  value        = var.region
  category     = "terraform"
  workspace_id = tfe_workspace.eager.id
}

# The cure: no initial run from the workspace; a tfe_workspace_run queued after the variables.
resource "tfe_workspace" "steady" {
  name           = "steady"
  organization   = tfe_organization.org.name
  queue_all_runs = false
  vcs_repo {
    identifier     = "${var.organization}/service"
    oauth_token_id = tfe_oauth_client.github.oauth_token_id
  }
}

resource "tfe_variable" "steady_region" {
  key          = "region"
  value        = var.region
  category     = "terraform"
  workspace_id = tfe_workspace.steady.id
}

resource "tfe_variable" "steady_token" {
  key          = "CLOUD_API_TOKEN"
  value        = "not-a-real-token"
  category     = "env"
  sensitive    = true
  workspace_id = tfe_workspace.steady.id
}

resource "tfe_workspace_run" "steady" {
  workspace_id = tfe_workspace.steady.id

  apply {
    manual_confirm = false
    wait_for_run   = false
  }

  # Empties the workspace before it is deleted (safe delete refuses a workspace that manages resources).
  destroy {
    manual_confirm = false
    wait_for_run   = true
  }

  depends_on = [tfe_variable.steady_region, tfe_variable.steady_token]
}

output "steady_run_id" {
  value = tfe_workspace_run.steady.id
}
