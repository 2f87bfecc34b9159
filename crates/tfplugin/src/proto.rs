//! Generated protobuf/gRPC code. Only the plugin layer uses these types; everything above it sees
//! the plugin layer's own value, schema and diagnostic types.
// Generated, so not held to the workspace's lints; when the module is private (without `test-client`) the
// messages the server never builds would also warn as dead code.
#![allow(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    unreachable_pub,
    dead_code
)]

pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

pub mod go_plugin {
    tonic::include_proto!("plugin");
}
