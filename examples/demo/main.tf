# The demo's configuration: the parent workspace's first apply must finish before the child's is queued,
# and on destroy the child's destroy run finishes before the parent's is queued (Terraform destroys in
# reverse dependency order). The provider reads TFE_HOSTNAME and TFE_TOKEN from the environment;
# run.sh seeds the two workspaces in tfe-emulator and passes their ids in as variables.

terraform {
  required_providers {
    tfe = {
      source = "hashicorp/tfe"
    }
  }
}

variable "parent_workspace_id" {
  type        = string
  description = "ID (ws-...) of the workspace whose runs go first."
}

variable "child_workspace_id" {
  type        = string
  description = "ID (ws-...) of the workspace that depends on the parent."
}

resource "tfe_workspace_run" "parent" {
  workspace_id = var.parent_workspace_id

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

resource "tfe_workspace_run" "child" {
  workspace_id = var.child_workspace_id

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

  depends_on = [tfe_workspace_run.parent]
}

output "parent_run_id" {
  value = tfe_workspace_run.parent.id
}

output "child_run_id" {
  value = tfe_workspace_run.child.id
}
