//! One module per resource type.

pub(crate) mod common;
pub(crate) mod oauth_client;
pub(crate) mod organization;
pub(crate) mod workspace;
pub(crate) mod workspace_run;
