# The demo's configuration: the first example of the tfe_workspace_run page, as HCL. An organization,
# a GitHub OAuth client, and two workspaces linked to a repository through it; then a run in each.
# The parent workspace's first apply must finish before the child's is queued, and on destroy the
# child's destroy run finishes before the parent's is queued (Terraform destroys in reverse
# dependency order), after which the workspaces, the client and the organization are deleted.
# The provider reads TFE_HOSTNAME and TFE_TOKEN from the environment (run.sh points them at tfe-emulator).

terraform {
  required_providers {
    tfe = {
      source = "hashicorp/tfe"
    }
  }
}

resource "tfe_organization" "test-organization" {
  name  = "my-org-name"
  email = "admin@company.com"
}

resource "tfe_oauth_client" "test" {
  organization     = tfe_organization.test-organization.name
  api_url          = "https://api.github.com"
  http_url         = "https://github.com"
  oauth_token      = "oauth_token_id"
  service_provider = "github"
}

resource "tfe_workspace" "parent" {
  name           = "parent-ws"
  organization   = tfe_organization.test-organization.name
  queue_all_runs = false
  vcs_repo {
    branch         = "main"
    identifier     = "my-org-name/vcs-repository"
    oauth_token_id = tfe_oauth_client.test.oauth_token_id
  }
}

resource "tfe_workspace" "child" {
  name           = "child-ws"
  organization   = tfe_organization.test-organization.name
  queue_all_runs = false
  vcs_repo {
    branch         = "main"
    identifier     = "my-org-name/vcs-repository"
    oauth_token_id = tfe_oauth_client.test.oauth_token_id
  }
}

resource "tfe_workspace_run" "ws_run_parent" {
  workspace_id = tfe_workspace.parent.id

  apply {
    manual_confirm    = false
    wait_for_run      = true
    retry_attempts    = 5
    retry_backoff_min = 5
  }

  destroy {
    manual_confirm    = false
    wait_for_run      = true
    retry_attempts    = 3
    retry_backoff_min = 10
  }
}

resource "tfe_workspace_run" "ws_run_child" {
  workspace_id = tfe_workspace.child.id

  apply {
    manual_confirm    = false
    retry_attempts    = 5
    retry_backoff_min = 5
  }

  destroy {
    manual_confirm    = false
    wait_for_run      = true
    retry_attempts    = 3
    retry_backoff_min = 10
  }

  depends_on = [tfe_workspace_run.ws_run_parent]
}

output "parent_run_id" {
  value = tfe_workspace_run.ws_run_parent.id
}

output "child_run_id" {
  value = tfe_workspace_run.ws_run_child.id
}
