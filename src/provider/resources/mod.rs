//! One module per resource type.

pub mod common;
pub mod oauth_client;
pub mod organization;
pub mod workspace;
pub mod workspace_run;
