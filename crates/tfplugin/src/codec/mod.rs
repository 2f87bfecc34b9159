//! The one codec for Terraform's `DynamicValue`: msgpack (what Terraform sends and what we always
//! reply with) and JSON (raw state and some requests). Decoding is type-directed: the schema's
//! [`Type`] says how to read each value. Malformed input is an error, never a panic.

use std::collections::BTreeMap;

use rmpv::Value as Mp;

use super::value::{Number, Type, Value};

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("malformed msgpack: {0}")]
    Msgpack(String),
    #[error("malformed JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("at {path}: expected {expected}, found {found}")]
    Mismatch {
        path: String,
        expected: String,
        found: String,
    },
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

// ---------------------------------------------------------------- msgpack

/// Deeper values than this are refused rather than risking the stack; real configurations
/// nest a handful of levels.
const MAX_DEPTH: usize = 100;

pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut reader = bytes;
    let raw = rmpv::decode::read_value_with_max_depth(&mut reader, MAX_DEPTH)
        .map_err(|e| CodecError::Msgpack(e.to_string()))?;
    if !reader.is_empty() {
        return Err(CodecError::Trailing);
    }
    from_msgpack(&raw, ty, "")
}

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

// ---------------------------------------------------------------- JSON

/// Decodes JSON (as in raw state). Object attributes the type does not have are ignored, and
/// missing ones are null, so state written by an older or newer schema still loads.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let json: serde_json::Value = serde_json::from_slice(bytes)?;
    from_json(&json, ty, "")
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn run_type() -> Type {
        let block = Type::Object(
            [
                ("manual_confirm".to_string(), Type::Bool),
                ("retry_attempts".to_string(), Type::Number),
                ("message".to_string(), Type::String),
            ]
            .into(),
        );
        Type::Object(
            [
                ("id".to_string(), Type::String),
                ("apply".to_string(), Type::list(block.clone())),
                ("tags".to_string(), Type::map(Type::String)),
                ("names".to_string(), Type::set(Type::String)),
                (
                    "pair".to_string(),
                    Type::Tuple(vec![Type::String, Type::Number]),
                ),
                ("anything".to_string(), Type::Dynamic),
            ]
            .into(),
        )
    }

    fn sample() -> Value {
        Value::object([
            ("id", Value::Unknown),
            (
                "apply",
                Value::List(vec![Value::object([
                    ("manual_confirm", Value::Bool(true)),
                    ("retry_attempts", Value::int(3)),
                    ("message", Value::Null),
                ])]),
            ),
            (
                "tags",
                Value::Map([("a".to_string(), Value::string("b"))].into()),
            ),
            (
                "names",
                Value::Set(vec![Value::string("x"), Value::Unknown]),
            ),
            (
                "pair",
                Value::Tuple(vec![Value::string("p"), Value::Number(Number::Float(1.5))]),
            ),
            ("anything", Value::List(vec![Value::int(1), Value::int(2)])),
        ])
    }

    #[test]
    fn msgpack_round_trips_unknown_null_and_nested_values() {
        let ty = run_type();
        let bytes = encode_msgpack(&sample(), &ty).unwrap();
        let back = decode_msgpack(&bytes, &ty).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn unknown_is_written_as_extension_zero() {
        assert_eq!(
            encode_msgpack(&Value::Unknown, &Type::String).unwrap(),
            vec![0xd4, 0x00, 0x00]
        );
        // A refined unknown (extension 12 with a payload) also reads as unknown.
        let refined = [0xc7, 0x02, 0x0c, 0x81, 0x01];
        assert_eq!(
            decode_msgpack(&refined, &Type::String).unwrap(),
            Value::Unknown
        );
    }

    #[test]
    fn objects_carry_every_attribute_even_when_absent() {
        let ty = Type::Object(
            [
                ("a".to_string(), Type::String),
                ("b".to_string(), Type::Bool),
            ]
            .into(),
        );
        let bytes = encode_msgpack(&Value::object([("a", Value::string("x"))]), &ty).unwrap();
        let raw = rmpv::decode::read_value(&mut bytes.as_slice()).unwrap();
        assert_eq!(raw.as_map().unwrap().len(), 2);
    }

    #[test]
    fn numbers_decode_from_every_encoding() {
        let cases: Vec<(Mp, Value)> = vec![
            (Mp::from(7u8), Value::int(7)),
            (Mp::from(-7i64), Value::int(-7)),
            (Mp::from(u64::MAX), Value::Number(Number::UInt(u64::MAX))),
            (Mp::F32(2.5), Value::Number(Number::Float(2.5))),
            (Mp::F64(3.0), Value::int(3)),
            (
                Mp::from("12345678901234567890"),
                Value::Number(Number::UInt(12_345_678_901_234_567_890)),
            ),
            (Mp::from("0.25"), Value::Number(Number::Float(0.25))),
        ];
        for (raw, expected) in cases {
            let mut bytes = Vec::new();
            rmpv::encode::write_value(&mut bytes, &raw).unwrap();
            assert_eq!(
                decode_msgpack(&bytes, &Type::Number).unwrap(),
                expected,
                "{raw:?}"
            );
        }
    }

    #[test]
    fn dynamic_values_carry_their_type() {
        let v = Value::string("hi");
        let bytes = encode_msgpack(&v, &Type::Dynamic).unwrap();
        let raw = rmpv::decode::read_value(&mut bytes.as_slice()).unwrap();
        assert_eq!(
            raw.as_array().unwrap()[0],
            Mp::Binary(b"\"string\"".to_vec())
        );
        assert_eq!(decode_msgpack(&bytes, &Type::Dynamic).unwrap(), v);
        assert_eq!(
            encode_msgpack(&Value::Null, &Type::Dynamic).unwrap(),
            vec![0xc0]
        );
    }

    #[test]
    fn json_ignores_attributes_the_schema_no_longer_has() {
        let ty = Type::Object(
            [
                ("id".to_string(), Type::String),
                ("n".to_string(), Type::Number),
            ]
            .into(),
        );
        let v = decode_json(br#"{"id":"run-1","gone":true,"n":"4"}"#, &ty).unwrap();
        assert_eq!(
            v,
            Value::object([("id", Value::string("run-1")), ("n", Value::int(4))])
        );
        let missing = decode_json(br#"{}"#, &ty).unwrap();
        assert_eq!(missing.attr("id"), &Value::Null);
    }

    #[test]
    fn json_round_trips_known_values() {
        let ty = run_type();
        let mut v = sample();
        v.unknowns_to_null();
        let bytes = encode_json(&v, &ty).unwrap();
        assert_eq!(decode_json(&bytes, &ty).unwrap(), v);
    }

    #[test]
    fn dynamic_value_prefers_msgpack_and_treats_empty_as_null() {
        assert_eq!(
            decode_dynamic(&[], &[], &Type::String).unwrap(),
            Value::Null
        );
        assert_eq!(
            decode_dynamic(&[], br#""j""#, &Type::String).unwrap(),
            Value::string("j")
        );
        assert_eq!(
            decode_dynamic(&[0xa1, b'm'], br#""j""#, &Type::String).unwrap(),
            Value::string("m")
        );
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        let ty = run_type();
        let bad_inputs: Vec<Vec<u8>> = vec![
            vec![0xdc],                         // truncated array16 header
            vec![0x92, 0xa1],                   // array missing elements
            vec![0xa3, 0xff, 0xfe, 0xfd],       // invalid UTF-8 string
            vec![0x81, 0xa2, b'i', b'd', 0x01], // number where a string belongs
            vec![0xc0, 0xc0],                   // trailing bytes
            vec![0x91; 5000],                   // deep nesting
        ];
        for bytes in bad_inputs {
            assert!(decode_msgpack(&bytes, &ty).is_err(), "{bytes:02x?}");
        }
        assert!(decode_json(b"{\"id\": ", &ty).is_err());
        assert!(decode_json(b"[1,2]", &ty).is_err());
        assert!(decode_msgpack(&[0x92, 0xc4, 0x01, b'x', 0xc0], &Type::Dynamic).is_err());
    }

    #[test]
    fn nan_is_refused_and_infinity_is_not_written_to_json_as_null() {
        for raw in [Mp::F64(f64::NAN), Mp::F32(f32::NAN)] {
            let mut bytes = Vec::new();
            rmpv::encode::write_value(&mut bytes, &raw).unwrap();
            assert!(decode_msgpack(&bytes, &Type::Number).is_err(), "{raw:?}");
        }
        let inf = Value::Number(Number::Float(f64::INFINITY));
        let bytes = encode_msgpack(&inf, &Type::Number).unwrap();
        assert_eq!(decode_msgpack(&bytes, &Type::Number).unwrap(), inf);
        assert!(encode_json(&inf, &Type::Number).is_err());
    }

    #[test]
    fn json_numbers_round_trip_exactly() {
        // Found by the codec_json fuzz target: without serde_json's float_roundtrip, an integer below
        // i64::MIN read back one ULP off after writing it out.
        let v = decode_json(b"-9223372583604775808", &Type::Number).unwrap();
        let back = decode_json(&encode_json(&v, &Type::Number).unwrap(), &Type::Number).unwrap();
        assert_eq!(back, v);
        assert_eq!(
            v,
            Value::Number(Number::Float(-9_223_372_583_604_775_808.0))
        );
    }

    #[test]
    fn encoding_a_value_of_the_wrong_type_is_an_error() {
        assert!(encode_msgpack(&Value::Bool(true), &Type::String).is_err());
        assert!(encode_json(&Value::Unknown, &Type::String).is_err());
    }
}
