# Re-run in place: whenever app_version changes, applying queues a new apply run in the workspace with
# the apply block's settings and records it. No replacement and no destroy run, even with a destroy block.
variable "app_version" {
  type    = string
  default = "1.4.2"
}

resource "tfe_workspace_run" "release" {
  workspace_id = var.parent_workspace_id

  triggers = {
    app_version = var.app_version
  }

  apply {
    manual_confirm = false
    message        = "Release ${var.app_version}"
    variables = {
      app_version = jsonencode(var.app_version)
    }
  }

  destroy {
    manual_confirm = false
  }
}
