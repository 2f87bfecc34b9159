//! The msgpack half: what Terraform sends and what the provider always replies with.

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use super::{CodecError, child, mismatch, parse_decimal};
use crate::value::{Number, Type, Value};

/// Deeper values than this are refused rather than risking the stack; real configurations
/// nest a handful of levels.
const MAX_DEPTH: usize = 100;

/// Decodes msgpack (what Terraform sends in `DynamicValue.msgpack`) as a value of type `ty`.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut reader = bytes;
    let raw = rmpv::decode::read_value_with_max_depth(&mut reader, MAX_DEPTH)
        .map_err(|e| CodecError::Msgpack(e.to_string()))?;
    if !reader.is_empty() {
        return Err(CodecError::Trailing);
    }
    from_msgpack(&raw, ty, "")
}

/// Encodes `value` as msgpack of type `ty`, the form every reply to Terraform uses.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let raw = to_msgpack(value, ty, "")?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &raw).map_err(|e| CodecError::Msgpack(e.to_string()))?;
    Ok(out)
}

fn mp_number(raw: &Mp) -> Option<Number> {
    match raw {
        Mp::Integer(i) => i
            .as_i64()
            .map(Number::Int)
            .or_else(|| i.as_u64().map(Number::UInt)),
        // cty numbers are never NaN (Terraform cannot make one); infinities it does have.
        Mp::F32(f) => Some(Number::Float(f64::from(*f))).filter(|n| !n.as_f64().is_nan()),
        Mp::F64(f) => Some(Number::Float(*f)).filter(|n| !n.as_f64().is_nan()),
        // cty writes numbers that do not fit a float as decimal strings.
        Mp::String(s) => s.as_str().and_then(parse_decimal),
        _ => None,
    }
}

fn describe_mp(raw: &Mp) -> String {
    match raw {
        Mp::Nil => "nil".into(),
        Mp::Boolean(_) => "bool".into(),
        Mp::F32(f) if f.is_nan() => "NaN".into(),
        Mp::F64(f) if f.is_nan() => "NaN".into(),
        Mp::Integer(_) | Mp::F32(_) | Mp::F64(_) => "number".into(),
        Mp::String(_) => "string".into(),
        Mp::Binary(_) => "binary".into(),
        Mp::Array(a) => format!("array of {}", a.len()),
        Mp::Map(m) => format!("map of {}", m.len()),
        Mp::Ext(code, _) => format!("extension {code}"),
    }
}

fn from_msgpack(raw: &Mp, ty: &Type, path: &str) -> Result<Value, CodecError> {
    match raw {
        Mp::Nil => return Ok(Value::Null),
        // Code 0 is cty's unknown; code 12 a refined unknown. Any extension means unknown here.
        Mp::Ext(_, _) => return Ok(Value::Unknown),
        _ => {}
    }
    match ty {
        Type::Bool => raw
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| mismatch(path, ty, describe_mp(raw))),
        Type::Number => mp_number(raw)
            .map(Value::Number)
            .ok_or_else(|| mismatch(path, ty, describe_mp(raw))),
        Type::String => match raw {
            Mp::String(s) => s
                .as_str()
                .map(Value::string)
                .ok_or_else(|| mismatch(path, ty, "invalid UTF-8")),
            _ => Err(mismatch(path, ty, describe_mp(raw))),
        },
        Type::List(elem) | Type::Set(elem) => {
            let items = raw
                .as_array()
                .ok_or_else(|| mismatch(path, ty, describe_mp(raw)))?;
            let values = items
                .iter()
                .enumerate()
                .map(|(i, item)| from_msgpack(item, elem, &child(path, i)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::Set(values)
            } else {
                Value::List(values)
            })
        }
        Type::Tuple(elems) => {
            let items = raw
                .as_array()
                .ok_or_else(|| mismatch(path, ty, describe_mp(raw)))?;
            if items.len() != elems.len() {
                return Err(mismatch(path, ty, format!("array of {}", items.len())));
            }
            let values = items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (item, t))| from_msgpack(item, t, &child(path, i)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Tuple(values))
        }
        Type::Map(elem) => {
            let entries = raw
                .as_map()
                .ok_or_else(|| mismatch(path, ty, describe_mp(raw)))?;
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = k
                    .as_str()
                    .ok_or_else(|| mismatch(path, ty, "a non-string map key"))?;
                out.insert(key.to_string(), from_msgpack(v, elem, &child(path, key))?);
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let entries = raw
                .as_map()
                .ok_or_else(|| mismatch(path, ty, describe_mp(raw)))?;
            let mut out: BTreeMap<String, Value> =
                attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
            for (k, v) in entries {
                let key = k
                    .as_str()
                    .ok_or_else(|| mismatch(path, ty, "a non-string attribute name"))?;
                // Attributes the schema does not know are dropped (e.g. removed in a newer schema).
                if let Some(attr_ty) = attrs.get(key) {
                    out.insert(
                        key.to_string(),
                        from_msgpack(v, attr_ty, &child(path, key))?,
                    );
                }
            }
            Ok(Value::Object(out))
        }
        Type::Dynamic => {
            // [JSON type, value]
            let pair = raw
                .as_array()
                .filter(|a| a.len() == 2)
                .ok_or_else(|| mismatch(path, ty, describe_mp(raw)))?;
            let type_json = match &pair[0] {
                Mp::Binary(b) => serde_json::from_slice(b)?,
                Mp::String(s) => serde_json::from_slice(s.as_bytes())?,
                other => return Err(mismatch(path, ty, describe_mp(other))),
            };
            let concrete =
                Type::from_json(&type_json).map_err(|e| mismatch(path, ty, e.to_string()))?;
            if concrete == Type::Dynamic {
                return Err(mismatch(
                    path,
                    ty,
                    "a dynamic value wrapping another dynamic type",
                ));
            }
            from_msgpack(&pair[1], &concrete, path)
        }
    }
}

fn number_to_mp(n: &Number) -> Mp {
    match *n {
        Number::Int(i) => Mp::from(i),
        Number::UInt(u) => Mp::from(u),
        Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
            Mp::from(f as i64)
        }
        Number::Float(f) => Mp::F64(f),
    }
}

fn to_msgpack(value: &Value, ty: &Type, path: &str) -> Result<Mp, CodecError> {
    match (value, ty) {
        (Value::Null, _) => Ok(Mp::Nil),
        (Value::Unknown, _) => Ok(Mp::Ext(0, vec![0])),
        (v, Type::Dynamic) => {
            let concrete = v.inferred_type();
            let type_bytes = concrete.to_json().to_string().into_bytes();
            Ok(Mp::Array(vec![
                Mp::Binary(type_bytes),
                to_msgpack(v, &concrete, path)?,
            ]))
        }
        (Value::Bool(b), Type::Bool) => Ok(Mp::Boolean(*b)),
        (Value::Number(n), Type::Number) => Ok(number_to_mp(n)),
        (Value::String(s), Type::String) => Ok(Mp::from(s.as_str())),
        (
            Value::List(items) | Value::Set(items) | Value::Tuple(items),
            Type::List(elem) | Type::Set(elem),
        ) => items
            .iter()
            .enumerate()
            .map(|(i, v)| to_msgpack(v, elem, &child(path, i)))
            .collect::<Result<Vec<_>, _>>()
            .map(Mp::Array),
        (Value::List(items) | Value::Tuple(items), Type::Tuple(elems))
            if items.len() == elems.len() =>
        {
            items
                .iter()
                .zip(elems)
                .enumerate()
                .map(|(i, (v, t))| to_msgpack(v, t, &child(path, i)))
                .collect::<Result<Vec<_>, _>>()
                .map(Mp::Array)
        }
        (Value::Map(m) | Value::Object(m), Type::Map(elem)) => m
            .iter()
            .map(|(k, v)| Ok((Mp::from(k.as_str()), to_msgpack(v, elem, &child(path, k))?)))
            .collect::<Result<Vec<_>, CodecError>>()
            .map(Mp::Map),
        (Value::Object(m) | Value::Map(m), Type::Object(attrs)) => {
            // cty insists on exactly the type's attributes: write every one, nil when absent.
            attrs
                .iter()
                .map(|(k, t)| {
                    let v = m.get(k).unwrap_or(&Value::Null);
                    Ok((Mp::from(k.as_str()), to_msgpack(v, t, &child(path, k))?))
                })
                .collect::<Result<Vec<_>, CodecError>>()
                .map(Mp::Map)
        }
        (v, t) => Err(mismatch(
            path,
            t,
            format!("{:?}", v.inferred_type().to_json().to_string()),
        )),
    }
}
