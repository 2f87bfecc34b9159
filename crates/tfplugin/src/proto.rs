//! Generated protobuf/gRPC code. Only the plugin layer uses these types; everything above it sees
//! the plugin layer's own value, schema and diagnostic types.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

pub mod go_plugin {
    tonic::include_proto!("plugin");
}
