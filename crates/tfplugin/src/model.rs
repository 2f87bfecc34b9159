//! Typed models of a resource's values: a struct whose fields are read from and written to a
//! [`Value`] object in one place, declared with [`value_model!`](crate::value_model), instead of
//! attribute names spelled at every use.
//!
//! A field's type says how null and unknown read: `Option<T>` is `None` for both (`T` a string, bool,
//! integer, list of strings or map of strings); [`Value`] keeps the
//! raw value (for plan-time code that must tell unknown from null); `Vec<M>` of another model reads a
//! list or set of nested blocks (null or unknown: empty), `Option<M>` a single nested block (null or
//! unknown: `None`). [`fill_defaults`] gives null attributes their schema defaults before a read.

use crate::schema::{Block, Schema};
use crate::value::Value;

/// How one field reads from and writes to a [`Value`].
pub trait ValueField: Sized {
    /// The field from the attribute's value.
    fn from_value(value: &Value) -> Self;
    /// The attribute's value from the field.
    fn to_value(&self) -> Value;
}

impl ValueField for Option<String> {
    fn from_value(value: &Value) -> Self {
        value.as_str().map(str::to_owned)
    }
    fn to_value(&self) -> Value {
        self.as_deref().map_or(Value::Null, Value::string)
    }
}

impl ValueField for Option<bool> {
    fn from_value(value: &Value) -> Self {
        value.as_bool()
    }
    fn to_value(&self) -> Value {
        self.map_or(Value::Null, Value::Bool)
    }
}

impl ValueField for Option<i64> {
    fn from_value(value: &Value) -> Self {
        value.as_i64()
    }
    fn to_value(&self) -> Value {
        self.map_or(Value::Null, Value::int)
    }
}

/// A list or set of strings; an element that is not a known string is left out (validation refuses them first).
impl ValueField for Option<Vec<String>> {
    fn from_value(value: &Value) -> Self {
        match value {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(
                items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_owned))
                    .collect(),
            ),
            _ => None,
        }
    }
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, |items| {
            Value::List(items.iter().map(Value::string).collect())
        })
    }
}

/// A map of strings; an element that is not a known string is left out (validation refuses them first).
impl ValueField for Option<std::collections::BTreeMap<String, String>> {
    fn from_value(value: &Value) -> Self {
        match value {
            Value::Map(items) | Value::Object(items) => Some(
                items
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect(),
            ),
            _ => None,
        }
    }
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, |items| {
            Value::Map(
                items
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::string(v)))
                    .collect(),
            )
        })
    }
}

impl ValueField for Value {
    fn from_value(value: &Value) -> Self {
        value.clone()
    }
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<M: ValueModel> ValueField for Vec<M> {
    fn from_value(value: &Value) -> Self {
        value.elements().iter().map(M::from_value).collect()
    }
    fn to_value(&self) -> Value {
        Value::List(self.iter().map(ValueModel::to_value).collect())
    }
}

impl<M: ValueModel> ValueField for Option<M> {
    fn from_value(value: &Value) -> Self {
        (!value.is_null() && !value.is_unknown()).then(|| M::from_value(value))
    }
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ValueModel::to_value)
    }
}

/// A struct read from and written to a [`Value`] object; see [`value_model!`](crate::value_model).
pub trait ValueModel: Sized {
    /// The attribute (or nested block) names of the fields, in declaration order.
    const ATTRIBUTES: &'static [&'static str];
    /// Reads every field from `value` (a null or unknown object reads as all-null fields).
    fn from_value(value: &Value) -> Self;
    /// Sets every field's attribute on `value`, leaving other attributes as they are.
    fn write_to(&self, value: &mut Value);

    /// An object with only this model's attributes.
    fn to_value(&self) -> Value {
        let mut value = Value::Object(Default::default());
        self.write_to(&mut value);
        value
    }
}

/// Sets every attribute of `block` that has a default and is null in `value` (an object) to that
/// default, as planning does: for reading values that may predate a default (stored state) or that
/// have not been planned (configuration).
pub fn fill_defaults(value: &mut Value, block: &Block) {
    for attribute in &block.attributes {
        if let Some(default) = &attribute.default
            && value.attr(&attribute.name).is_null()
        {
            value.set_attr(&attribute.name, default.clone());
        }
    }
}

/// The attribute names of `M` that `schema` does not declare at its top level (for a test that the
/// model and the schema agree).
pub fn undeclared_attributes<M: ValueModel>(schema: &Schema) -> Vec<&'static str> {
    M::ATTRIBUTES
        .iter()
        .copied()
        .filter(|name| {
            !schema.block.attributes.iter().any(|a| a.name == *name)
                && !schema.block.blocks.iter().any(|b| b.type_name == *name)
        })
        .collect()
}

/// Declares a struct with [`ValueModel`]: each field names its attribute.
///
/// ```
/// tfplugin::value_model! {
///     /// A thing's values.
///     pub struct Thing {
///         pub id: Option<String> = "id",
///         pub size: Option<i64> = "size",
///     }
/// }
/// use tfplugin::model::ValueModel;
/// let thing = Thing { id: Some("t-1".into()), size: None };
/// let state = thing.to_value();
/// assert_eq!(Thing::from_value(&state), thing);
/// ```
#[macro_export]
macro_rules! value_model {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty = $attr:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        $vis struct $name {
            $( $(#[$field_meta])* $field_vis $field: $ty, )*
        }

        impl $crate::model::ValueModel for $name {
            const ATTRIBUTES: &'static [&'static str] = &[$($attr),*];

            fn from_value(value: &$crate::Value) -> Self {
                Self {
                    $( $field: $crate::model::ValueField::from_value(value.attr($attr)), )*
                }
            }

            fn write_to(&self, value: &mut $crate::Value) {
                $( value.set_attr($attr, $crate::model::ValueField::to_value(&self.$field)); )*
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, Block, NestedBlock, NestingMode};
    use crate::value::Type;

    crate::value_model! {
        struct Repo {
            identifier: Option<String> = "identifier",
        }
    }

    crate::value_model! {
        struct Thing {
            id: Option<String> = "id",
            count: Option<i64> = "count",
            enabled: Option<bool> = "enabled",
            raw: Value = "raw",
            repo: Vec<Repo> = "repo",
        }
    }

    #[test]
    fn a_model_round_trips_and_keeps_other_attributes() {
        let thing = Thing {
            id: Some("t-1".into()),
            count: Some(3),
            enabled: None,
            raw: Value::Unknown,
            repo: vec![Repo {
                identifier: Some("org/repo".into()),
            }],
        };
        let mut value = Value::object([("other", Value::Bool(true))]);
        thing.write_to(&mut value);
        assert_eq!(value.attr("other"), &Value::Bool(true));
        assert_eq!(value.attr("enabled"), &Value::Null);
        assert_eq!(value.attr("raw"), &Value::Unknown);
        assert_eq!(Thing::from_value(&value), thing);
    }

    #[test]
    fn null_and_unknown_read_as_none_and_empty() {
        let value = Value::object([
            ("id", Value::Unknown),
            ("count", Value::Null),
            ("repo", Value::Unknown),
        ]);
        let thing = Thing::from_value(&value);
        assert_eq!(thing.id, None);
        assert_eq!(thing.count, None);
        assert!(thing.repo.is_empty());
        assert_eq!(Thing::from_value(&Value::Null), Thing::default());
    }

    crate::value_model! {
        struct Limits {
            create: Option<String> = "create",
        }
    }

    crate::value_model! {
        struct WithSingle {
            limits: Option<Limits> = "limits",
        }
    }

    #[test]
    fn a_single_nested_block_reads_as_an_option() {
        let set = Value::object([("limits", Value::object([("create", Value::string("5m"))]))]);
        let read = WithSingle::from_value(&set);
        assert_eq!(read.limits.as_ref().unwrap().create.as_deref(), Some("5m"));
        assert_eq!(read.to_value(), set);
        for unset in [Value::Null, Value::Unknown] {
            let value = Value::object([("limits", unset)]);
            assert_eq!(WithSingle::from_value(&value).limits, None);
        }
    }

    #[test]
    fn defaults_fill_null_attributes_only() {
        let block = Block {
            attributes: vec![
                Attribute::with_default("retry", Type::Bool, Value::Bool(true)),
                Attribute::with_default("attempts", Type::Number, Value::int(3)),
                Attribute::optional("message", Type::String),
            ],
            ..Block::default()
        };
        let mut value = Value::object([
            ("retry", Value::Null),
            ("attempts", Value::int(5)),
            ("message", Value::Null),
        ]);
        fill_defaults(&mut value, &block);
        assert_eq!(value.attr("retry"), &Value::Bool(true));
        assert_eq!(value.attr("attempts"), &Value::int(5));
        assert_eq!(value.attr("message"), &Value::Null);
    }

    #[test]
    fn attributes_the_schema_lacks_are_named() {
        let schema = Schema {
            version: 0,
            block: Block {
                attributes: vec![
                    Attribute::computed("id", Type::String),
                    Attribute::optional("count", Type::Number),
                    Attribute::optional("enabled", Type::Bool),
                ],
                blocks: vec![NestedBlock {
                    type_name: "repo".into(),
                    nesting: NestingMode::List,
                    block: Block::default(),
                    min_items: 0,
                    max_items: 1,
                }],
                ..Block::default()
            },
        };
        assert_eq!(undeclared_attributes::<Thing>(&schema), vec!["raw"]);
    }
}
