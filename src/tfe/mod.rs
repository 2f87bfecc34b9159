//! The TFE API v2 client and wire types: knows nothing about Terraform.

pub mod client;
pub mod error;
pub mod limiter;
pub mod models;
mod tls;
pub mod untrusted;

pub use client::{
    CreateOAuthClient, CreateRun, PageRequest, RunWithIncludes, ServerInfo, TfeClient,
    TfeClientConfig, WorkspaceOptions, default_user_agent,
};
pub use error::TfeError;
pub use models::*;
