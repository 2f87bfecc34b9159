//! Terraform plugin protocol 6: knows nothing about TFE.

pub mod codec;
pub mod proto;
pub mod value;

pub use value::{Number, Type, Value};
