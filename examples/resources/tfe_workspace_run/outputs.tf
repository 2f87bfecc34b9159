# Chained workspaces: the child's run gets the parent's outputs as run variables. The parent's outputs
# are read once its run has applied and the server has processed its state, so the child's run, in the
# same apply, sees them.
resource "tfe_workspace_run" "network" {
  workspace_id = var.parent_workspace_id

  apply {
    manual_confirm = false
  }
}

resource "tfe_workspace_run" "app" {
  workspace_id = var.child_workspace_id

  apply {
    manual_confirm = false
    variables = {
      vpc_id      = jsonencode(tfe_workspace_run.network.nonsensitive_outputs.vpc_id)
      subnet_ids  = jsonencode(tfe_workspace_run.network.nonsensitive_outputs.subnet_ids)
      db_password = jsonencode(tfe_workspace_run.network.outputs.db_password)
    }
  }
}

output "network_run" {
  value = {
    url       = tfe_workspace_run.network.url
    status    = tfe_workspace_run.network.status
    additions = tfe_workspace_run.network.resource_additions
  }
}
