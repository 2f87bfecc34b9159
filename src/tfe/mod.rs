//! The TFE API v2 client and wire types: knows nothing about Terraform.
