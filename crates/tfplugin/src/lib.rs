//! Terraform plugin protocol 6 for any provider: knows nothing about TFE.
//!
//! A provider implements [`Provider`] and, per resource type, [`Resource`] (see [`resource`]),
//! using the plain types here: [`Value`], [`Type`], [`Schema`]/[`Block`]/[`Attribute`]/
//! [`NestedBlock`], [`Diagnostics`] with [`AttributePath`]. [`serve::serve`] does the rest:
//! handshake, mutual TLS, gRPC, the msgpack/JSON codec, generic validation (required,
//! validators, at-least-one-of, conflicts, block counts) and planning (defaults, unknown computed
//! attributes, forces-replacement), cancellation on StopProvider, and hclog logging.
//!
//! ```
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use tfplugin::*;
//!
//! struct Thing;
//!
//! #[async_trait]
//! impl Resource for Thing {
//!     fn type_name(&self) -> &str { "example_thing" }
//!
//!     fn schema(&self) -> Schema {
//!         Schema { version: 0, block: Block {
//!             attributes: vec![
//!                 Attribute::computed("id", Type::String),
//!                 Attribute::required("name", Type::String).force_new(),
//!                 Attribute::with_default("size", Type::Number, Value::int(1)),
//!             ],
//!             ..Block::default()
//!         } }
//!     }
//!
//!     async fn create(&self, request: ApplyRequest) -> ApplyResponse {
//!         let mut state = request.planned_state; // defaults filled, `id` unknown
//!         tokio::select! {
//!             _ = request.cancel.cancelled() => {
//!                 // Terraform sent StopProvider: keep what exists remotely, report the error.
//!                 return ApplyResponse::failed(Value::Null, Diagnostics::from_error("Stopped", "Terraform asked to stop."));
//!             }
//!             _ = std::future::ready(()) => {}
//!         }
//!         state.set_attr("id", Value::string("thing-1"));
//!         ApplyResponse::ok(state)
//!     }
//!
//!     async fn delete(&self, _request: ApplyRequest) -> Diagnostics { Diagnostics::new() }
//! }
//!
//! struct Example;
//!
//! #[async_trait]
//! impl Provider for Example {
//!     fn schema(&self) -> Schema { Schema::default() }
//!     async fn configure(&self, _request: ConfigureRequest) -> Diagnostics { Diagnostics::new() }
//!     fn resources(&self) -> Vec<Arc<dyn Resource>> { vec![Arc::new(Thing)] }
//! }
//!
//! // In main(): serve::serve(Arc::new(Example), serve::ServeOptions {
//! //     provider_address: "registry.terraform.io/example/example".into(), debug: false })
//! let _service = server::ProviderService::new(Arc::new(Example));
//! ```

pub mod codec;
pub mod diagnostics;
mod framework;
pub mod handshake;
pub mod logging;
pub mod model;
pub mod plan;
/// The generated protobuf code, with the gRPC client stubs: public only with the `test-client` feature, for
/// tests that play Terraform's side. Everything else sees this crate's own types.
#[cfg(feature = "test-client")]
pub mod proto;
#[cfg(not(feature = "test-client"))]
mod proto;
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
