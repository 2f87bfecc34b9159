//! The one codec for Terraform's `DynamicValue`: msgpack (what Terraform sends and what we always
//! reply with) and JSON (raw state and some requests). Decoding is type-directed: the schema's
//! [`Type`] says how to read each value. Malformed input is an error, never a panic.
//!
//! One file per encoding (`msgpack.rs`, `json.rs`); the errors and the path and number helpers both use
//! are here.

mod json;
mod msgpack;
#[cfg(test)]
mod tests;

pub use json::{decode_json, encode_json};
pub use msgpack::{decode_msgpack, encode_msgpack};

use crate::value::{Number, Type, Value};

/// Why bytes could not be decoded as a value of the given type, or a value not encoded as one.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The bytes are not msgpack, or msgpack that cty cannot hold.
    #[error("malformed msgpack: {0}")]
    Msgpack(String),
    /// The bytes are not JSON.
    #[error("malformed JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Well-formed input whose value does not fit the type.
    #[error("at {path}: expected {expected}, found {found}")]
    Mismatch {
        /// Where, as dotted steps from the root (`apply.0.name`); `(root)` for the value itself.
        path: String,
        /// The type the schema asked for there.
        expected: String,
        /// What the input held instead.
        found: String,
    },
    /// One msgpack value was read and bytes were left over.
    #[error("trailing bytes after the msgpack value")]
    Trailing,
}

fn mismatch(path: &str, expected: &Type, found: impl Into<String>) -> CodecError {
    CodecError::Mismatch {
        path: if path.is_empty() {
            "(root)".into()
        } else {
            path.into()
        },
        expected: expected.to_json().to_string(),
        found: found.into(),
    }
}

fn child(path: &str, step: impl std::fmt::Display) -> String {
    if path.is_empty() {
        step.to_string()
    } else {
        format!("{path}.{step}")
    }
}

/// Decodes a `DynamicValue` the way Terraform means it: msgpack if present, else JSON, else null.
pub fn decode_dynamic(msgpack: &[u8], json: &[u8], ty: &Type) -> Result<Value, CodecError> {
    if !msgpack.is_empty() {
        decode_msgpack(msgpack, ty)
    } else if !json.is_empty() {
        decode_json(json, ty)
    } else {
        Ok(Value::Null)
    }
}

/// A number written as decimal text (cty's form for numbers no float holds), as the narrowest number kind.
fn parse_decimal(s: &str) -> Option<Number> {
    let s = s.trim();
    s.parse::<i64>()
        .map(Number::Int)
        .or_else(|_| s.parse::<u64>().map(Number::UInt))
        .ok()
        .or_else(|| {
            s.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Number::Float)
        })
}
