# The token is best left out of configuration: set TFE_TOKEN or run `terraform login`.
provider "tfe" {
  hostname     = "app.terraform.io" # or your Terraform Enterprise host
  organization = "my-org-name"
}
