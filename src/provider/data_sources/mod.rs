//! One module per data source type.

pub mod workspace;
