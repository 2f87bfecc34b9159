//! One module per resource type.

pub mod workspace_run;
