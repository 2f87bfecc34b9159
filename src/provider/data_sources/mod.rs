//! One module per data source type.

pub(crate) mod outputs;
pub(crate) mod workspace;
