# A workspace following the main branch of a repository, without a first run on creation
# (a tfe_workspace_run can queue and wait for it instead).
variable "oauth_token_id" {
  type    = string
  default = "ot-example0000000"
}

resource "tfe_workspace" "app" {
  name           = "app-prod"
  organization   = "my-org-name"
  queue_all_runs = false
  auto_apply     = false

  vcs_repo {
    identifier     = "my-org-name/app-infra"
    branch         = "main"
    oauth_token_id = var.oauth_token_id
  }
}
