//! Generic planning for managed resources, as SDKv2 behaves: write schema defaults for
//! unconfigured attributes, mark computed attributes unknown when a new object will be created,
//! and list the changed attributes that force replacement.

use super::diagnostics::AttributePath;
use super::schema::{Block, NestingMode, Schema};
use super::value::Value;

/// The generic part of a plan.
#[derive(Debug, Clone)]
pub struct GenericPlan {
    /// The state Terraform will propose to apply: the proposed state with defaults written and computed attributes unknown where a new object is made.
    pub planned_state: Value,
    /// Changed attributes whose change replaces the resource (their `force_new` is set).
    pub requires_replace: Vec<AttributePath>,
    /// Opaque bytes Terraform hands back to ApplyResourceChange; starts as the prior private data.
    pub planned_private: Vec<u8>,
}

/// Plans from Terraform's proposed new state. `prior` is null on create; a null `proposed` means destroy.
pub fn plan_resource(
    schema: &Schema,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> GenericPlan {
    if proposed.is_null() {
        return GenericPlan {
            planned_state: Value::Null,
            requires_replace: Vec::new(),
            planned_private: Vec::new(),
        };
    }
    let mut planned = proposed.clone();
    apply_defaults(&schema.block, &mut planned, config);
    let mut requires_replace = Vec::new();
    if !prior.is_null() {
        collect_replacements(
            &schema.block,
            prior,
            &planned,
            &AttributePath::default(),
            &mut requires_replace,
        );
    }
    if prior.is_null() || !requires_replace.is_empty() {
        mark_computed_unknown(&schema.block, &mut planned, config);
    }
    GenericPlan {
        planned_state: planned,
        requires_replace,
        planned_private: Vec::new(),
    }
}

/// Sets each attribute that has a default and is null in `config` to that default, in nested blocks too.
pub fn apply_defaults(block: &Block, planned: &mut Value, config: &Value) {
    if !matches!(planned, Value::Object(_)) {
        return;
    }
    for attr in &block.attributes {
        if let Some(default) = &attr.default
            && config.attr(&attr.name).is_null()
        {
            planned.set_attr(&attr.name, default.clone());
        }
    }
    for nested in &block.blocks {
        let config_value = config.attr(&nested.type_name).clone();
        let Some(planned_value) = planned.attr_mut(&nested.type_name) else {
            continue;
        };
        for_each_instance(nested.nesting, planned_value, &config_value, |p, c| {
            apply_defaults(&nested.block, p, c)
        });
    }
}

/// Marks computed attributes without a default that the configuration leaves null as unknown.
pub fn mark_computed_unknown(block: &Block, planned: &mut Value, config: &Value) {
    if !matches!(planned, Value::Object(_)) {
        return;
    }
    for attr in &block.attributes {
        if attr.computed && attr.default.is_none() && config.attr(&attr.name).is_null() {
            planned.set_attr(&attr.name, Value::Unknown);
        }
    }
    for nested in &block.blocks {
        let config_value = config.attr(&nested.type_name).clone();
        let Some(planned_value) = planned.attr_mut(&nested.type_name) else {
            continue;
        };
        for_each_instance(nested.nesting, planned_value, &config_value, |p, c| {
            mark_computed_unknown(&nested.block, p, c)
        });
    }
}

/// Pairs each planned block instance with its configuration: by position for lists, by key for
/// maps; set elements cannot be paired, so each stands for its own configuration.
fn for_each_instance(
    nesting: NestingMode,
    planned: &mut Value,
    config: &Value,
    mut f: impl FnMut(&mut Value, &Value),
) {
    match (nesting, planned) {
        (NestingMode::Single | NestingMode::Group, p @ Value::Object(_)) => f(p, config),
        (NestingMode::List, Value::List(items)) => {
            for (i, p) in items.iter_mut().enumerate() {
                f(p, config.elements().get(i).unwrap_or(&Value::Null))
            }
        }
        (NestingMode::Set, Value::Set(items)) => {
            for p in items.iter_mut() {
                let own = p.clone();
                f(p, &own)
            }
        }
        (NestingMode::Map, Value::Map(m)) => {
            for (k, p) in m.iter_mut() {
                let c = match config {
                    Value::Map(cm) => cm.get(k).cloned().unwrap_or_default(),
                    _ => Value::Null,
                };
                f(p, &c)
            }
        }
        _ => {}
    }
}

fn collect_replacements(
    block: &Block,
    prior: &Value,
    planned: &Value,
    path: &AttributePath,
    out: &mut Vec<AttributePath>,
) {
    for attr in &block.attributes {
        if attr.force_new && prior.attr(&attr.name) != planned.attr(&attr.name) {
            out.push(path.attr(&attr.name));
        }
    }
    for nested in &block.blocks {
        let (p, n) = (
            prior.attr(&nested.type_name),
            planned.attr(&nested.type_name),
        );
        match nested.nesting {
            NestingMode::Single | NestingMode::Group => {
                collect_replacements(&nested.block, p, n, &path.attr(&nested.type_name), out)
            }
            NestingMode::List => {
                for (i, (pi, ni)) in p.elements().iter().zip(n.elements()).enumerate() {
                    collect_replacements(
                        &nested.block,
                        pi,
                        ni,
                        &path.attr(&nested.type_name).index(i),
                        out,
                    )
                }
            }
            // Set and map elements have no stable identity across changes; not tracked here.
            NestingMode::Set | NestingMode::Map => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};
    use crate::value::Type;

    fn schema() -> Schema {
        let inner = Block {
            attributes: vec![
                Attribute::optional("label", Type::String),
                Attribute::with_default("size", Type::Number, Value::int(10)),
                Attribute::computed("uid", Type::String),
                Attribute::optional("zone", Type::String).force_new(),
            ],
            ..Block::default()
        };
        Schema {
            version: 0,
            block: Block {
                attributes: vec![Attribute::computed("id", Type::String)],
                blocks: vec![
                    NestedBlock {
                        type_name: "single".into(),
                        nesting: NestingMode::Single,
                        block: inner.clone(),
                        min_items: 0,
                        max_items: 0,
                    },
                    NestedBlock {
                        type_name: "many".into(),
                        nesting: NestingMode::Set,
                        block: inner,
                        min_items: 0,
                        max_items: 0,
                    },
                ],
                ..Block::default()
            },
        }
    }

    fn inner(label: &str, size: Value, zone: &str) -> Value {
        Value::object([
            ("label", Value::string(label)),
            ("size", size),
            ("uid", Value::Null),
            ("zone", Value::string(zone)),
        ])
    }

    #[test]
    fn defaults_and_unknowns_reach_single_and_set_blocks() {
        let config = Value::object([
            ("id", Value::Null),
            ("single", inner("a", Value::Null, "z1")),
            (
                "many",
                Value::Set(vec![
                    inner("b", Value::int(3), "z1"),
                    inner("c", Value::Null, "z1"),
                ]),
            ),
        ]);
        let plan = plan_resource(&schema(), &Value::Null, &config, &config);
        let single = plan.planned_state.attr("single");
        assert_eq!(single.attr("size"), &Value::int(10));
        assert_eq!(single.attr("uid"), &Value::Unknown);
        let sizes: Vec<&Value> = plan
            .planned_state
            .attr("many")
            .elements()
            .iter()
            .map(|e| e.attr("size"))
            .collect();
        assert_eq!(sizes, vec![&Value::int(3), &Value::int(10)]);
        assert_eq!(plan.planned_state.attr("id"), &Value::Unknown);
    }

    #[test]
    fn nested_force_new_attributes_are_reported_with_their_path() {
        let prior = Value::object([
            ("id", Value::string("x")),
            ("single", inner("a", Value::int(10), "z1")),
            ("many", Value::Set(vec![])),
        ]);
        let config = Value::object([
            ("id", Value::Null),
            ("single", inner("a", Value::Null, "z2")),
            ("many", Value::Set(vec![])),
        ]);
        let mut proposed = config.clone();
        proposed.set_attr("id", Value::string("x"));
        let plan = plan_resource(&schema(), &prior, &proposed, &config);
        assert_eq!(
            plan.requires_replace,
            vec![AttributePath::root("single").attr("zone")]
        );
        // A replacement creates a new object: computed values are unknown again.
        assert_eq!(plan.planned_state.attr("id"), &Value::Unknown);
    }

    #[test]
    fn an_unknown_force_new_value_counts_as_a_change() {
        let prior = Value::object([
            ("id", Value::string("x")),
            ("single", inner("a", Value::int(10), "z1")),
        ]);
        let mut config = prior.clone();
        config.set_attr("id", Value::Null);
        config
            .attr_mut("single")
            .unwrap()
            .set_attr("zone", Value::Unknown);
        let mut proposed = config.clone();
        proposed.set_attr("id", Value::string("x"));
        let plan = plan_resource(&schema(), &prior, &proposed, &config);
        assert_eq!(plan.requires_replace.len(), 1);
    }
}
