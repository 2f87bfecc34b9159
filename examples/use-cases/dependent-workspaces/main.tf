# Use case 1 of the tfe_workspace_run page: workspaces that depend on other workspaces.
#
# The parent workspace builds something others need (here: a cluster whose endpoint is its output). The
# child's first run must not start before the parent's apply has finished, and it needs the parent's
# outputs. So: the parent's run waits for its apply (wait_for_run = true); tfe_outputs then reads the
# parent's outputs and hands the endpoint to the child as a variable; the child's run depends on that
# variable. On destroy the order reverses: the child's destroy run, then the parent's.
#
# The child workspace's own configuration reads the same outputs with terraform_remote_state: see
# child-configuration/.

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

resource "tfe_workspace" "parent" {
  name           = "cluster"
  organization   = tfe_organization.org.name
  queue_all_runs = false
  vcs_repo {
    identifier     = "${var.organization}/cluster"
    oauth_token_id = tfe_oauth_client.github.oauth_token_id
  }
}

resource "tfe_workspace" "child" {
  name           = "app"
  organization   = tfe_organization.org.name
  queue_all_runs = false
  vcs_repo {
    identifier     = "${var.organization}/app"
    oauth_token_id = tfe_oauth_client.github.oauth_token_id
  }
}

resource "tfe_workspace_run" "parent" {
  workspace_id = tfe_workspace.parent.id

  apply {
    manual_confirm = false
    wait_for_run   = true
  }

  destroy {
    manual_confirm = false
    wait_for_run   = true
  }
}

# Read once the parent's apply has written its state.
data "tfe_outputs" "parent" {
  organization = tfe_organization.org.name
  workspace    = tfe_workspace.parent.name

  depends_on = [tfe_workspace_run.parent]
}

resource "tfe_variable" "cluster_endpoint" {
  key          = "cluster_endpoint"
  value        = data.tfe_outputs.parent.nonsensitive_values.cluster_endpoint
  category     = "terraform"
  description  = "Read from the cluster workspace's outputs"
  workspace_id = tfe_workspace.child.id
}

resource "tfe_workspace_run" "child" {
  workspace_id = tfe_workspace.child.id

  apply {
    manual_confirm = false
    wait_for_run   = true
  }

  destroy {
    manual_confirm = false
    wait_for_run   = true
  }

  depends_on = [tfe_workspace_run.parent, tfe_variable.cluster_endpoint]
}

output "cluster_endpoint" {
  value = data.tfe_outputs.parent.nonsensitive_values.cluster_endpoint
}

output "parent_run_id" {
  value = tfe_workspace_run.parent.id
}

output "child_run_id" {
  value = tfe_workspace_run.child.id
}
