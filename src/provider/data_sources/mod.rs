//! One module per data source type.

pub(crate) mod workspace;
