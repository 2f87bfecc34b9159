# A GitHub connection; workspaces link repositories through its oauth_token_id.
variable "github_token" {
  type      = string
  sensitive = true
  default   = "replace-me"
}

resource "tfe_oauth_client" "github" {
  organization     = "my-org-name"
  api_url          = "https://api.github.com"
  http_url         = "https://github.com"
  oauth_token      = var.github_token
  service_provider = "github"
}
