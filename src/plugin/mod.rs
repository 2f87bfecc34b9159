//! Terraform plugin protocol 6: knows nothing about TFE.
//!
//! A provider implements [`Provider`] and [`Resource`] (see [`resource`]) using the plain types
//! here ([`Value`], [`Schema`], [`Diagnostics`]); [`serve`] does the rest: handshake, TLS,
//! gRPC, encoding, generic validation and planning, cancellation and logging.

pub mod codec;
pub mod diagnostics;
pub mod handshake;
pub mod logging;
pub mod plan;
pub mod proto;
pub mod resource;
pub mod schema;
pub mod serve;
pub mod server;
pub mod tls;
pub mod validate;
pub mod value;
mod wire;

pub use diagnostics::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
pub use resource::{
    ApplyRequest, ApplyResponse, ConfigureRequest, DataSource, ImportRequest, ImportResponse,
    ImportedResource, PlanRequest, Provider, ReadDataRequest, ReadRequest, ReadResponse, Resource,
};
pub use schema::{Attribute, Block, NestedBlock, NestingMode, Schema};
pub use value::{Number, Type, Value};
