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
    let at = |name: &str| {
        if path.0.is_empty() {
            AttributePath::root(name)
        } else {
            path.attr(name)
        }
    };

    for attr in &block.attributes {
        let v = value.attr(&attr.name);
        if attr.required && v.is_null() {
            diags.attribute_error(
                at(&attr.name),
                "Missing required argument",
                format!(
                    "The argument \"{}\" is required, but no definition was found.",
                    attr.name
                ),
            );
        }
        if !v.is_null() && v.is_wholly_known() {
            for validator in &attr.validators {
                validator(v, &at(&attr.name), diags);
            }
        }
    }

    for group in &block.at_least_one_of {
        let state: Vec<Option<bool>> = group
            .iter()
            .map(|name| is_set(block, value.attr(name)))
            .collect();
        let any_set = state.contains(&Some(true));
        let any_unknown = state.contains(&None);
        if !any_set && !any_unknown {
            let names = group
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ");
            diags.attribute_error(
                at(&group[0]),
                "Missing required argument",
                format!("At least one of {names} must be specified."),
            );
        }
    }

    for nested in &block.blocks {
        let v = value.attr(&nested.type_name);
        let block_path = at(&nested.type_name);
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
fn is_set(block: &Block, v: &Value) -> Option<bool> {
    if v.is_unknown() {
        return None;
    }
    if block.nested_block_is_collection(v) {
        return Some(!v.elements().is_empty());
    }
    Some(!v.is_null())
}

impl Block {
    fn nested_block_is_collection(&self, v: &Value) -> bool {
        matches!(v, Value::List(_) | Value::Set(_))
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
