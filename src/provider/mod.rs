//! The provider: configuration and resources.

pub mod run_lifecycle;
