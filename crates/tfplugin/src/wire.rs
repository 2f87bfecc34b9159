//! Conversions between the plugin layer's own types and the generated protobuf types.

use super::codec::{self, CodecError};
use super::diagnostics::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
use super::proto::tfplugin6 as pb;
use super::schema::{Attribute, Block, NestedBlock, NestingMode, Schema};
use super::value::{Type, Value};

pub(crate) fn schema_to_proto(schema: &Schema) -> pb::Schema {
    pb::Schema {
        version: schema.version,
        block: Some(block_to_proto(&schema.block, schema.version)),
    }
}

fn block_to_proto(block: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: block.attributes.iter().map(attribute_to_proto).collect(),
        block_types: block.blocks.iter().map(nested_to_proto).collect(),
        description: block.description.clone(),
        description_kind: pb::StringKind::Plain as i32,
        deprecated: false,
    }
}

fn attribute_to_proto(attr: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: attr.name.clone(),
        r#type: attr.ty.to_json().to_string().into_bytes(),
        nested_type: None,
        description: attr.description.clone(),
        required: attr.required,
        optional: attr.optional,
        computed: attr.computed,
        sensitive: attr.sensitive,
        description_kind: pb::StringKind::Plain as i32,
        deprecated: false,
        write_only: attr.write_only,
    }
}

fn nested_to_proto(nested: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode as N;
    let nesting = match nested.nesting {
        NestingMode::Single => N::Single,
        NestingMode::List => N::List,
        NestingMode::Set => N::Set,
        NestingMode::Map => N::Map,
        NestingMode::Group => N::Group,
    };
    pb::schema::NestedBlock {
        type_name: nested.type_name.clone(),
        block: Some(block_to_proto(&nested.block, 0)),
        nesting: nesting as i32,
        min_items: nested.min_items,
        max_items: nested.max_items,
    }
}

pub(crate) fn path_to_proto(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .0
            .iter()
            .map(|step| pb::attribute_path::Step {
                selector: Some(match step {
                    PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                    PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

fn diagnostic_to_proto(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.attribute.as_ref().map(path_to_proto),
    }
}

pub(crate) fn diagnostics_to_proto(diags: &Diagnostics) -> Vec<pb::Diagnostic> {
    diags.iter().map(diagnostic_to_proto).collect()
}

/// Decodes an optional DynamicValue; problems become an error diagnostic naming `what`.
pub(crate) fn decode(
    value: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<Value> {
    let Some(dv) = value else {
        return Some(Value::Null);
    };
    match codec::decode_dynamic(&dv.msgpack, &dv.json, ty) {
        Ok(v) => Some(v),
        Err(e) => {
            diags.error(format!("Could not decode the {what}"), e.to_string());
            None
        }
    }
}

/// Encodes as msgpack, always.
pub(crate) fn encode(value: &Value, ty: &Type) -> Result<pb::DynamicValue, CodecError> {
    Ok(pb::DynamicValue {
        msgpack: codec::encode_msgpack(value, ty)?,
        json: Vec::new(),
    })
}

/// Encodes, turning a failure into an error diagnostic (a provider bug, but never a gRPC error).
pub(crate) fn encode_or_report(
    value: &Value,
    ty: &Type,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<pb::DynamicValue> {
    match encode(value, ty) {
        Ok(dv) => Some(dv),
        Err(e) => {
            diags.error(
                format!("Provider bug: could not encode the {what}"),
                e.to_string(),
            );
            None
        }
    }
}

/// Whether the calling Terraform said it understands write-only attributes (1.11 and later; older
/// releases send no capabilities at all).
pub(crate) fn write_only_allowed(capabilities: Option<&pb::ClientCapabilities>) -> bool {
    capabilities.is_some_and(|c| c.write_only_attributes_allowed)
}
