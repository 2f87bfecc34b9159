# The demo's second step: what the child workspace's configuration does once parent-ws has applied. It reads
# the parent's outputs twice, as HashiCorp users do: with this provider's tfe_outputs data source, and with
# Terraform's own terraform_remote_state (backend "remote", the Runs pages' "Cross-Workspace State Access").
# run.sh passes the emulator's address as `hostname`; the provider takes TFE_HOSTNAME and TFE_TOKEN, and
# Terraform's remote backend the CLI configuration's credentials block for the host.

terraform {
  required_providers {
    tfe = {
      source = "hashicorp/tfe"
    }
  }
}

variable "hostname" {
  type    = string
  default = "app.terraform.io"
}

variable "organization" {
  type    = string
  default = "my-org-name"
}

data "tfe_outputs" "parent" {
  organization = var.organization
  workspace    = "parent-ws"
}

data "terraform_remote_state" "parent" {
  backend = "remote"

  config = {
    hostname     = var.hostname
    organization = var.organization
    workspaces = {
      name = "parent-ws"
    }
  }
}

output "cluster_endpoint_from_tfe_outputs" {
  value = data.tfe_outputs.parent.nonsensitive_values.cluster_endpoint
}

output "cluster_endpoint_from_remote_state" {
  value = data.terraform_remote_state.parent.outputs.cluster_endpoint
}
