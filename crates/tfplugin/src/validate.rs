//! Generic configuration checks driven by the schema: required attributes, per-attribute
//! validators, at-least-one-of groups and block counts. Unknown values are never judged: they
//! are checked again once known (Terraform validates again before apply).

use super::diagnostics::{AttributePath, Diagnostics};
use super::schema::{Block, NestingMode};
use super::value::Value;

/// Checks `value` (an object of `block`'s type) found at `path`; an empty path means the root.
pub fn validate_block(block: &Block, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    if value.is_null() || value.is_unknown() {
        return;
    }

    for attr in &block.attributes {
        let v = value.attr(&attr.name);
        if attr.required && v.is_null() {
            diags.attribute_error(
                path.attr(&attr.name),
                "Missing required argument",
                format!(
                    "The argument \"{}\" is required, but no definition was found.",
                    attr.name
                ),
            );
        }
        if !v.is_null() && v.is_wholly_known() {
            for validator in &attr.validators {
                validator(v, &path.attr(&attr.name), diags);
            }
        }
    }

    for group in &block.at_least_one_of {
        let state: Vec<Option<bool>> = group.iter().map(|name| is_set(value.attr(name))).collect();
        let any_set = state.contains(&Some(true));
        let any_unknown = state.contains(&None);
        if !any_set && !any_unknown {
            let names = group
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ");
            diags.attribute_error(
                path.attr(&group[0]),
                "Missing required argument",
                format!("At least one of {names} must be specified."),
            );
        }
    }

    for group in &block.conflicts {
        let set: Vec<&String> = group
            .iter()
            .filter(|name| is_set(value.attr(name)) == Some(true))
            .collect();
        if set.len() > 1 {
            let names = set
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ");
            diags.attribute_error(
                path.attr(set[1]),
                "Conflicting arguments",
                format!("Only one of {names} may be specified."),
            );
        }
    }

    for nested in &block.blocks {
        let v = value.attr(&nested.type_name);
        let block_path = path.attr(&nested.type_name);
        if matches!(nested.nesting, NestingMode::List | NestingMode::Set) && v.is_wholly_known() {
            let count = v.elements().len() as i64;
            if nested.min_items > 0 && count < nested.min_items {
                diags.attribute_error(
                    block_path.clone(),
                    "Insufficient blocks",
                    format!(
                        "At least {} \"{}\" blocks are required.",
                        nested.min_items, nested.type_name
                    ),
                );
            }
            if nested.max_items > 0 && count > nested.max_items {
                diags.attribute_error(
                    block_path.clone(),
                    "Too many blocks",
                    format!(
                        "No more than {} \"{}\" blocks are allowed.",
                        nested.max_items, nested.type_name
                    ),
                );
            }
        }
        for (instance_path, instance) in nested.instances(v, &block_path) {
            validate_block(&nested.block, instance, &instance_path, diags);
        }
    }
}

/// Some(true) when set, Some(false) when null or an empty block list, None when unknown.
fn is_set(v: &Value) -> Option<bool> {
    match v {
        Value::Unknown => None,
        Value::Null => Some(false),
        Value::List(items) | Value::Set(items) => Some(!items.is_empty()),
        _ => Some(true),
    }
}

/// Validator: an integer attribute must be at least `min`.
pub fn int_at_least(
    min: i64,
) -> impl Fn(&Value, &AttributePath, &mut Diagnostics) + Send + Sync + 'static {
    move |v, path, diags| match v.as_i64() {
        Some(n) if n >= min => {}
        Some(n) => diags.attribute_error(
            path.clone(),
            "Invalid value",
            format!("{path} must be at least {min}, got {n}."),
        ),
        None => diags.attribute_error(
            path.clone(),
            "Invalid value",
            format!("{path} must be a whole number."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};
    use crate::value::Type;

    fn block() -> Block {
        Block {
            attributes: vec![
                Attribute::optional("a", Type::String),
                Attribute::optional("b", Type::String),
                Attribute::optional("n", Type::Number).validate(int_at_least(1)),
            ],
            blocks: vec![NestedBlock {
                type_name: "item".into(),
                nesting: NestingMode::List,
                block: Block {
                    attributes: vec![Attribute::required("name", Type::String)],
                    ..Block::default()
                },
                min_items: 1,
                max_items: 2,
            }],
            conflicts: vec![vec!["a".into(), "b".into()]],
            ..Block::default()
        }
    }

    fn check(value: Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate_block(&block(), &value, &AttributePath::default(), &mut diags);
        diags
    }

    fn item(name: Value) -> Value {
        Value::object([("name", name)])
    }

    #[test]
    fn conflicting_required_and_counted_values_are_reported_with_paths() {
        let d = check(Value::object([
            ("a", Value::string("x")),
            ("b", Value::string("y")),
            ("n", Value::int(0)),
            (
                "item",
                Value::List(vec![
                    item(Value::Null),
                    item(Value::string("ok")),
                    item(Value::string("3")),
                ]),
            ),
        ]));
        let paths: Vec<String> = d
            .iter()
            .map(|d| d.attribute.as_ref().unwrap().to_string())
            .collect();
        assert_eq!(paths, vec!["n", "b", "item", "item[0].name"]);
    }

    #[test]
    fn too_few_blocks_and_clean_configurations() {
        let d = check(Value::object([("item", Value::List(vec![]))]));
        assert_eq!(d.0[0].summary, "Insufficient blocks");
        let d = check(Value::object([
            ("a", Value::string("x")),
            ("item", Value::List(vec![item(Value::string("i"))])),
        ]));
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn unknown_values_are_left_for_later() {
        let d = check(Value::object([
            ("a", Value::Unknown),
            ("b", Value::string("y")),
            ("n", Value::Unknown),
            ("item", Value::Unknown),
        ]));
        assert!(d.is_empty(), "{d:?}");
    }
}
