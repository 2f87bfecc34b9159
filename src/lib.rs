//! terraform-provider-tfe: a Terraform provider for HCP Terraform / Terraform Enterprise runs.
//!
//! The layers are crates, so the compiler keeps them apart; dependencies point one way:
//! `provider -> tfplugin`, `provider -> tfe_client`, `tfe_emulator -> tfe_client` (wire types only).
//! - `tfplugin` (crates/tfplugin): Terraform's plugin protocol 6 (handshake, TLS, gRPC, values, schemas,
//!   diagnostics, logs); knows nothing about TFE.
//! - [`provider`]: the provider configuration and its resources, described in Terraform's terms.
//! - `tfe_client` (crates/tfe-client): the REST client for the TFE API v2 and its wire types; knows nothing
//!   about Terraform.
//! - `tfe_emulator` (crates/tfe-emulator): `tfe-emulator`, a local stand-in for the TFE API; only the tests
//!   use it.
//! - [`fuzzing`]: the fuzz targets' entry functions (`fuzz/`, `tests/fuzz_corpora.rs`).

pub mod fuzzing;
pub mod provider;
