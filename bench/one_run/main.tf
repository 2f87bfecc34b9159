# One tfe_workspace_run whose apply the bench times: queue, auto-confirm, wait until applied.
variable "workspace_id" {
  type = string
}

resource "tfe_workspace_run" "bench" {
  workspace_id = var.workspace_id

  apply {
    manual_confirm = false
    wait_for_run   = true
  }
}
