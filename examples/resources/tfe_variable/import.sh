#!/usr/bin/env bash
# Import a workspace variable as <organization>/<workspace name>/<variable id>.
terraform import tfe_variable.region my-org-name/app-prod/var-5rTwnSaRPogw6apb
