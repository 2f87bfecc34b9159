# Fail at the first errored run instead of queuing another one.
resource "tfe_workspace_run" "no_retries" {
  workspace_id = var.parent_workspace_id

  apply {
    manual_confirm = false
    retry          = false
  }

  destroy {
    manual_confirm = false
    retry          = false
    wait_for_run   = true
  }
}
