//! One module per resource type (`workspace_run/` a folder: it is half the provider), and `state`, how
//! the CRUD resources build their state from the API's answers.

pub(crate) mod oauth_client;
pub(crate) mod organization;
pub(crate) mod state;
pub(crate) mod variable;
pub(crate) mod workspace;
pub(crate) mod workspace_run;
