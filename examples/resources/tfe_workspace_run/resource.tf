# A parent workspace whose first apply must finish before the child's, and whose resources are
# destroyed by a destroy run before the configuration goes away.
variable "parent_workspace_id" {
  type    = string
  default = "ws-parent000000000"
}

variable "child_workspace_id" {
  type    = string
  default = "ws-child0000000000"
}

resource "tfe_workspace_run" "ws_run_parent" {
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

resource "tfe_workspace_run" "ws_run_child" {
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

  depends_on = [tfe_workspace_run.ws_run_parent]
}
