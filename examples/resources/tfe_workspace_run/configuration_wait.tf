# A workspace created in the same apply still fetches its configuration from VCS when its run is to be
# queued: the run waits for the configuration (within timeouts.create, at most 10 minutes) instead of
# failing to fetch it.
variable "vcs_oauth_token_id" {
  type    = string
  default = "ot-example0000000"
}

resource "tfe_workspace" "service" {
  name           = "service-prod"
  organization   = "my-org-name"
  queue_all_runs = false

  vcs_repo {
    identifier     = "my-org-name/service-infra"
    branch         = "main"
    oauth_token_id = var.vcs_oauth_token_id
  }
}

resource "tfe_workspace_run" "service_first_run" {
  workspace_id = tfe_workspace.service.id

  apply {
    manual_confirm = false
  }

  timeouts {
    create = "20m"
  }
}
