//! Terraform plugin protocol 6: knows nothing about TFE.

pub mod proto;
