//! Terraform values and types, independent of any wire encoding.

use std::collections::BTreeMap;
use std::fmt;

/// A Terraform type (cty type). Object attributes are kept sorted, as cty does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `true` or `false`.
    Bool,
    /// An arbitrary-precision number in Terraform; see [`Number`] for what this crate keeps.
    Number,
    /// A UTF-8 string.
    String,
    /// "any": the concrete type travels with the value.
    Dynamic,
    /// An ordered list whose elements all have the type given.
    List(Box<Type>),
    /// An unordered set of distinct elements of the type given.
    Set(Box<Type>),
    /// String keys to values of the type given.
    Map(Box<Type>),
    /// Named attributes, each with its own type.
    Object(BTreeMap<String, Type>),
    /// A fixed-length sequence, each element with its own type.
    Tuple(Vec<Type>),
}

/// A number as Terraform sent it. Integers stay exact; everything else is a float.
#[derive(Debug, Clone, Copy)]
pub enum Number {
    /// A whole number that fits an i64.
    Int(i64),
    /// A whole number above `i64::MAX`.
    UInt(u64),
    /// Any other number, as the nearest f64.
    Float(f64),
}

impl Number {
    /// The value as an i64 when it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Number::Int(i) => Some(i),
            Number::UInt(u) => i64::try_from(u).ok(),
            Number::Float(f)
                if f.fract() == 0.0 && f >= i64::MIN as f64 && f <= i64::MAX as f64 =>
            {
                Some(f as i64)
            }
            Number::Float(_) => None,
        }
    }

    /// The value as an f64, rounded when it does not fit exactly.
    pub(crate) fn as_f64(&self) -> f64 {
        match *self {
            Number::Int(i) => i as f64,
            Number::UInt(u) => u as f64,
            Number::Float(f) => f,
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self.as_i64(), other.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => match (*self, *other) {
                (Number::UInt(a), Number::UInt(b)) => a == b,
                _ => self.as_f64() == other.as_f64(),
            },
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::UInt(u) => write!(f, "{u}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

/// A Terraform value. `Null` and `Unknown` carry no type: the schema supplies it when encoding.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// Null: the configuration leaves it unset, or there is no object.
    #[default]
    Null,
    /// Not known until apply.
    Unknown,
    /// A bool.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// A list's elements, in order.
    List(Vec<Value>),
    /// A set's elements; the order carries no meaning.
    Set(Vec<Value>),
    /// A map's elements, by key.
    Map(BTreeMap<String, Value>),
    /// An object's attributes, by name.
    Object(BTreeMap<String, Value>),
    /// A tuple's elements, in order.
    Tuple(Vec<Value>),
}

impl Value {
    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// A whole-number value.
    pub fn int(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }

    /// An object value with the given attributes.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Whether this is null (known to be unset, unlike unknown).
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this value is unknown itself; see [`is_wholly_known`](Value::is_wholly_known) for the values inside.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// An object attribute; `Null` when this is not an object or has no such attribute.
    pub fn attr(&self, name: &str) -> &Value {
        const NULL: Value = Value::Null;
        match self {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// An object attribute to change in place; `None` when this is not an object or has no such attribute.
    pub fn attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => m.get_mut(name),
            _ => None,
        }
    }

    /// Sets an object attribute; does nothing when this is not an object.
    pub fn set_attr(&mut self, name: &str, value: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_string(), value);
        }
    }

    /// The string, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, when this is a bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as an i64, when this is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// Elements of a list, set or tuple; empty for anything else (null included).
    pub fn elements(&self) -> &[Value] {
        match self {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => items,
            _ => &[],
        }
    }

    /// Replaces every unknown inside this value by null (state must never hold unknowns).
    /// Returns whether anything was replaced.
    pub fn unknowns_to_null(&mut self) -> bool {
        let mut replaced = false;
        match self {
            Value::Unknown => {
                *self = Value::Null;
                replaced = true;
            }
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                for item in items.iter_mut() {
                    replaced |= item.unknowns_to_null();
                }
            }
            Value::Map(m) | Value::Object(m) => {
                for item in m.values_mut() {
                    replaced |= item.unknowns_to_null();
                }
            }
            _ => {}
        }
        replaced
    }

    /// The type a value of `Dynamic` type is encoded with, inferred from the value itself.
    pub fn inferred_type(&self) -> Type {
        match self {
            Value::Null | Value::Unknown => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(items) => Type::List(Box::new(common_type(items))),
            Value::Set(items) => Type::Set(Box::new(common_type(items))),
            Value::Map(m) => Type::Map(Box::new(common_type(m.values()))),
            Value::Object(m) => Type::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), v.inferred_type()))
                    .collect(),
            ),
            Value::Tuple(items) => Type::Tuple(items.iter().map(Value::inferred_type).collect()),
        }
    }
}

fn common_type<'a>(items: impl IntoIterator<Item = &'a Value>) -> Type {
    items
        .into_iter()
        .map(Value::inferred_type)
        .find(|t| *t != Type::Dynamic)
        .unwrap_or(Type::Dynamic)
}

/// Errors turning Terraform's JSON type constraints into [`Type`].
#[derive(Debug, thiserror::Error)]
#[error("invalid type constraint: {0}")]
pub struct TypeError(pub String);

impl Type {
    /// `list(t)`.
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }

    /// `set(t)`.
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }

    /// `map(t)`.
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }

    /// The JSON type constraint Terraform expects in schemas, e.g. `["list","string"]`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Type::Bool => json!("bool"),
            Type::Number => json!("number"),
            Type::String => json!("string"),
            Type::Dynamic => json!("dynamic"),
            Type::List(t) => json!(["list", t.to_json()]),
            Type::Set(t) => json!(["set", t.to_json()]),
            Type::Map(t) => json!(["map", t.to_json()]),
            Type::Object(attrs) => {
                let attrs: serde_json::Map<String, serde_json::Value> = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                json!(["object", attrs])
            }
            Type::Tuple(items) => {
                json!(["tuple", items.iter().map(Type::to_json).collect::<Vec<_>>()])
            }
        }
    }

    /// Reads a JSON type constraint, the form [`to_json`](Type::to_json) writes.
    pub fn from_json(json: &serde_json::Value) -> Result<Type, TypeError> {
        use serde_json::Value as J;
        match json {
            J::String(s) => match s.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(TypeError(format!("unknown primitive type {other:?}"))),
            },
            J::Array(parts) if parts.len() >= 2 => {
                let kind = parts[0].as_str().unwrap_or_default();
                match kind {
                    "list" => Ok(Type::list(Type::from_json(&parts[1])?)),
                    "set" => Ok(Type::set(Type::from_json(&parts[1])?)),
                    "map" => Ok(Type::map(Type::from_json(&parts[1])?)),
                    "object" => {
                        let attrs = parts[1].as_object().ok_or_else(|| {
                            TypeError("object attributes must be a JSON object".into())
                        })?;
                        let attrs = attrs
                            .iter()
                            .map(|(k, v)| Ok((k.clone(), Type::from_json(v)?)))
                            .collect::<Result<_, TypeError>>()?;
                        Ok(Type::Object(attrs))
                    }
                    "tuple" => {
                        let items = parts[1].as_array().ok_or_else(|| {
                            TypeError("tuple elements must be a JSON array".into())
                        })?;
                        Ok(Type::Tuple(
                            items
                                .iter()
                                .map(Type::from_json)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    other => Err(TypeError(format!("unknown type kind {other:?}"))),
                }
            }
            other => Err(TypeError(format!("unexpected JSON {other}"))),
        }
    }
}
