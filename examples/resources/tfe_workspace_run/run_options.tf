# Run options: a run limited to one module that replaces one of its resources, and a refresh-only run
# that applies its refresh even when nothing changed.
resource "tfe_workspace_run" "dns_only" {
  workspace_id = var.parent_workspace_id

  apply {
    manual_confirm    = false
    target_addrs      = ["module.dns"]
    replace_addrs     = ["module.dns.aws_route53_record.www"]
    allow_empty_apply = true
  }
}

resource "tfe_workspace_run" "refresh" {
  workspace_id = var.child_workspace_id

  apply {
    manual_confirm    = false
    refresh_only      = true
    allow_empty_apply = true
  }
}
