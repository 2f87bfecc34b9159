//! terraform-provider-tfe: a Terraform provider for HCP Terraform / Terraform Enterprise runs,
//! and a local TFE API emulator to test it offline.
//!
//! Layers, each knowing one thing; dependencies point one way:
//! `provider -> plugin`, `provider -> tfe`, `emulator -> tfe` (wire types only).
//! - [`plugin`]: Terraform's plugin protocol 6 (handshake, TLS, gRPC, values, schemas, diagnostics, logs).
//! - [`provider`]: the provider configuration and its resources, described in Terraform's terms.
//! - [`tfe`]: the REST client for the TFE API v2 and its wire types; knows nothing about Terraform.
//! - [`emulator`]: `tfe-emulator`, a local stand-in for the TFE API.
//! - [`pem`]: PEM certificate reading shared by `plugin` and `tfe`; [`fuzzing`]: the fuzz targets' entry
//!   functions (`fuzz/`, `tests/fuzz_corpora.rs`).

pub mod emulator;
pub mod fuzzing;
pub mod pem;
pub mod plugin;
pub mod provider;
pub mod tfe;
