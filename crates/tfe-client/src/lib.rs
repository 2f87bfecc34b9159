//! The TFE API v2 client and wire types: knows nothing about Terraform.
//!
//! [`models`] (the JSON:API wire types) and [`error`] build without features; the HTTP client ([`client`],
//! [`limiter`], [`response`], the parsers of its answers) needs the default `http` feature.

#[cfg(feature = "http")]
pub mod client;
pub mod error;
#[cfg(feature = "http")]
pub mod limiter;
pub mod models;
pub mod requests;
#[cfg(feature = "http")]
pub mod response;
#[cfg(feature = "http")]
mod tls;

#[cfg(feature = "http")]
pub use client::{CurrentOutputs, OutputValue};
#[cfg(feature = "http")]
pub use client::{
    PageRequest, RunLog, RunWithIncludes, ServerInfo, TfeClient, TfeClientConfig,
    default_user_agent,
};
pub use error::TfeError;
pub use models::*;
pub use requests::{
    Cleared, ConfigurationVersionOptions, CreateOAuthClient, CreateRun, OAuthTokenOptions,
    OrganizationOptions, RequestDocument, RequestError, RunActionOptions, VariableOptions,
    WorkspaceOptions,
};
