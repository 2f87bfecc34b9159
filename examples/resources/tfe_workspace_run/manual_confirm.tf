# A person confirms both runs in the HCP Terraform UI.
resource "tfe_workspace_run" "manual" {
  workspace_id = var.parent_workspace_id

  apply {
    manual_confirm = true
  }

  destroy {
    manual_confirm = true
    wait_for_run   = true
  }
}
