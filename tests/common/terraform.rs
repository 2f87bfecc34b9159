//! Locating the Terraform CLIs and running them against the built provider.
