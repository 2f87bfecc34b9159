# Only a destroy run, queued when this resource is destroyed, bounded by a timeout.
resource "tfe_workspace_run" "destroy_only" {
  workspace_id = var.child_workspace_id

  destroy {
    manual_confirm = false
    wait_for_run   = true
    message        = "Destroyed by tfe_workspace_run before the workspace is deleted"
  }

  timeouts {
    delete = "1h30m"
  }
}
