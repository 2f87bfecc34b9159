# An organization; its ID is its name.
resource "tfe_organization" "example" {
  name  = "my-org-name"
  email = "admin@company.com"
}
