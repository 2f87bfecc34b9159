//! The JSON half: raw state and some requests.

use std::collections::BTreeMap;

use super::{CodecError, child, mismatch, parse_decimal};
use crate::value::{Number, Type, Value};

/// Decodes JSON (as in raw state). Object attributes the type does not have are ignored, and
/// missing ones are null, so state written by an older or newer schema still loads.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let json: serde_json::Value = serde_json::from_slice(bytes)?;
    from_json(&json, ty, "")
}

/// Encodes `value` as JSON of type `ty`, the form raw state and `DynamicValue.json` use.
pub fn encode_json(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    Ok(serde_json::to_vec(&to_json(value, ty, "")?)?)
}

fn describe_json(json: &serde_json::Value) -> String {
    use serde_json::Value as J;
    match json {
        J::Null => "null",
        J::Bool(_) => "bool",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
    .into()
}

pub(crate) fn from_json(
    json: &serde_json::Value,
    ty: &Type,
    path: &str,
) -> Result<Value, CodecError> {
    use serde_json::Value as J;
    if json.is_null() {
        return Ok(Value::Null);
    }
    let fail = || mismatch(path, ty, describe_json(json));
    match ty {
        Type::Bool => match json {
            J::Bool(b) => Ok(Value::Bool(*b)),
            // cty converts "true"/"false" strings to bool.
            J::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
            _ => Err(fail()),
        },
        Type::Number => match json {
            J::Number(n) => n
                .as_i64()
                .map(Number::Int)
                .or_else(|| n.as_u64().map(Number::UInt))
                .or_else(|| n.as_f64().map(Number::Float))
                .map(Value::Number)
                .ok_or_else(fail),
            J::String(s) => parse_decimal(s).map(Value::Number).ok_or_else(fail),
            _ => Err(fail()),
        },
        Type::String => match json {
            J::String(s) => Ok(Value::string(s.clone())),
            J::Bool(b) => Ok(Value::string(b.to_string())),
            J::Number(n) => Ok(Value::string(n.to_string())),
            _ => Err(fail()),
        },
        Type::List(elem) | Type::Set(elem) => {
            let items = json.as_array().ok_or_else(fail)?;
            let values = items
                .iter()
                .enumerate()
                .map(|(i, item)| from_json(item, elem, &child(path, i)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(values)
            } else {
                Value::List(values)
            })
        }
        Type::Tuple(elems) => {
            let items = json
                .as_array()
                .filter(|a| a.len() == elems.len())
                .ok_or_else(fail)?;
            items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (item, t))| from_json(item, t, &child(path, i)))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Tuple)
        }
        Type::Map(elem) => {
            let entries = json.as_object().ok_or_else(fail)?;
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), from_json(v, elem, &child(path, k))?)))
                .collect::<Result<BTreeMap<_, _>, CodecError>>()
                .map(Value::Map)
        }
        Type::Object(attrs) => {
            let entries = json.as_object().ok_or_else(fail)?;
            attrs
                .iter()
                .map(|(k, t)| {
                    let v = match entries.get(k) {
                        Some(v) => from_json(v, t, &child(path, k))?,
                        None => Value::Null,
                    };
                    Ok((k.clone(), v))
                })
                .collect::<Result<BTreeMap<_, _>, CodecError>>()
                .map(Value::Object)
        }
        Type::Dynamic => {
            // {"value": ..., "type": ...}
            let obj = json.as_object().ok_or_else(fail)?;
            let type_json = obj.get("type").ok_or_else(fail)?;
            let concrete =
                Type::from_json(type_json).map_err(|e| mismatch(path, ty, e.to_string()))?;
            if concrete == Type::Dynamic {
                return Err(mismatch(
                    path,
                    ty,
                    "a dynamic value wrapping another dynamic type",
                ));
            }
            from_json(obj.get("value").unwrap_or(&J::Null), &concrete, path)
        }
    }
}

fn to_json(value: &Value, ty: &Type, path: &str) -> Result<serde_json::Value, CodecError> {
    use serde_json::Value as J;
    match (value, ty) {
        (Value::Null, _) => Ok(J::Null),
        (Value::Unknown, _) => Err(mismatch(
            path,
            ty,
            "an unknown value, which JSON cannot hold",
        )),
        (v, Type::Dynamic) => {
            let concrete = v.inferred_type();
            Ok(
                serde_json::json!({"value": to_json(v, &concrete, path)?, "type": concrete.to_json()}),
            )
        }
        (Value::Bool(b), Type::Bool) => Ok(J::Bool(*b)),
        (Value::Number(n), Type::Number) => match *n {
            Number::Int(i) => Ok(J::from(i)),
            Number::UInt(u) => Ok(J::from(u)),
            // Not null: that would silently lose the number.
            Number::Float(f) => serde_json::Number::from_f64(f)
                .map(J::Number)
                .ok_or_else(|| mismatch(path, ty, format!("{f}, which JSON cannot hold"))),
        },
        (Value::String(s), Type::String) => Ok(J::String(s.clone())),
        (
            Value::List(items) | Value::Set(items) | Value::Tuple(items),
            Type::List(elem) | Type::Set(elem),
        ) => items
            .iter()
            .enumerate()
            .map(|(i, v)| to_json(v, elem, &child(path, i)))
            .collect::<Result<Vec<_>, _>>()
            .map(J::Array),
        (Value::List(items) | Value::Tuple(items), Type::Tuple(elems))
            if items.len() == elems.len() =>
        {
            items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (v, t))| to_json(v, t, &child(path, i)))
                .collect::<Result<Vec<_>, _>>()
                .map(J::Array)
        }
        (Value::Map(m) | Value::Object(m), Type::Map(elem)) => m
            .iter()
            .map(|(k, v)| Ok((k.clone(), to_json(v, elem, &child(path, k))?)))
            .collect::<Result<serde_json::Map<_, _>, CodecError>>()
            .map(J::Object),
        (Value::Object(m) | Value::Map(m), Type::Object(attrs)) => attrs
            .iter()
            .map(|(k, t)| {
                Ok((
                    k.clone(),
                    to_json(m.get(k).unwrap_or(&Value::Null), t, &child(path, k))?,
                ))
            })
            .collect::<Result<serde_json::Map<_, _>, CodecError>>()
            .map(J::Object),
        (v, t) => Err(mismatch(path, t, v.inferred_type().to_json().to_string())),
    }
}
