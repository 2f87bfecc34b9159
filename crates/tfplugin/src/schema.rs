//! Schemas in Terraform's terms, plus the declarative rules a resource can attach to them
//! (defaults, forces-replacement, validators, at-least-one-of) and the value type they imply.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::diagnostics::{AttributePath, Diagnostics};
use super::value::{Type, Value};

/// A validator for one attribute's known, non-null value. Report problems on `path`.
pub type Validator = Arc<dyn Fn(&Value, &AttributePath, &mut Diagnostics) + Send + Sync>;

/// A resource, data source or provider schema.
#[derive(Clone, Default)]
pub struct Schema {
    /// Recorded in state as `schema_version`.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

/// A configuration block: attributes and nested blocks.
#[derive(Clone, Default)]
pub struct Block {
    /// The block's attributes.
    pub attributes: Vec<Attribute>,
    /// The blocks nested in it.
    pub blocks: Vec<NestedBlock>,
    /// Shown in documentation and by language servers.
    pub description: String,
    /// Groups of attribute/block names of which at least one must be set.
    pub at_least_one_of: Vec<Vec<String>>,
    /// Groups of attribute/block names of which at most one may be set.
    pub conflicts: Vec<Vec<String>>,
}

/// One attribute of a block. Build it with [`Attribute::required`], [`optional`](Attribute::optional), [`computed`](Attribute::computed) or [`with_default`](Attribute::with_default), then the builder methods.
#[derive(Clone)]
pub struct Attribute {
    /// The attribute's name in configuration and state.
    pub name: String,
    /// Its value type.
    pub ty: Type,
    /// Shown in documentation and by language servers.
    pub description: String,
    /// The configuration must set it.
    pub required: bool,
    /// The configuration may set it.
    pub optional: bool,
    /// The provider sets it (together with `optional`: when the configuration does not).
    pub computed: bool,
    /// Terraform hides the value in plans and output.
    pub sensitive: bool,
    /// Write-only (Terraform 1.11 and later): the value reaches the provider in the configuration only and
    /// is never kept in plan or state; the framework makes it null there whenever the calling Terraform says
    /// it understands write-only attributes. Older Terraform ignores the flag and treats the attribute as an
    /// ordinary one, stored in state (mark it sensitive too). Never computed, never with a default.
    pub write_only: bool,
    /// Written into the plan when the configuration leaves the attribute null (SDKv2 style).
    /// An attribute with a default is advertised as optional + computed.
    pub default: Option<Value>,
    /// A change of this attribute replaces the resource.
    pub force_new: bool,
    /// Run on the attribute's value when it is known and not null, in order.
    pub validators: Vec<Validator>,
}

/// How a nested block may appear in its parent, as in Terraform's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestingMode {
    /// At most once; the value is an object (null when absent).
    Single,
    /// Any number of times, in order; the value is a list of objects.
    List,
    /// Any number of times, unordered and without duplicates; the value is a set of objects.
    Set,
    /// Once per label; the value is a map of objects.
    Map,
    /// Exactly once, possibly written empty: an absent block reads as the object with its attributes null, never as null.
    Group,
}

/// A block nested in another, with how often it may appear.
#[derive(Clone)]
pub struct NestedBlock {
    /// The block's name in configuration and state.
    pub type_name: String,
    /// How it may repeat.
    pub nesting: NestingMode,
    /// What each instance holds.
    pub block: Block,
    /// The fewest instances allowed; 0 for no minimum.
    pub min_items: i64,
    /// The most instances allowed; 0 for no maximum.
    pub max_items: i64,
}

impl Attribute {
    fn new(name: &str, ty: Type) -> Self {
        Attribute {
            name: name.to_string(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            default: None,
            force_new: false,
            validators: Vec::new(),
        }
    }

    /// An attribute the configuration must set.
    pub fn required(name: &str, ty: Type) -> Self {
        Attribute {
            required: true,
            ..Attribute::new(name, ty)
        }
    }

    /// An attribute the configuration may set; null when it does not.
    pub fn optional(name: &str, ty: Type) -> Self {
        Attribute {
            optional: true,
            ..Attribute::new(name, ty)
        }
    }

    /// An attribute only the provider sets.
    pub fn computed(name: &str, ty: Type) -> Self {
        Attribute {
            computed: true,
            ..Attribute::new(name, ty)
        }
    }

    /// Optional, and `default` in the plan when not configured.
    pub fn with_default(name: &str, ty: Type, default: Value) -> Self {
        Attribute {
            optional: true,
            computed: true,
            default: Some(default),
            ..Attribute::new(name, ty)
        }
    }

    /// Sets the description.
    pub fn describe(mut self, description: &str) -> Self {
        self.description = description.to_string();
        self
    }

    /// Marks the value sensitive, hidden in plans and output.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Marks the value write-only (see [`Attribute::write_only`]).
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// Makes a change of the value replace the resource.
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

    /// Adds a validator (see [`Validator`]).
    pub fn validate(
        mut self,
        validator: impl Fn(&Value, &AttributePath, &mut Diagnostics) + Send + Sync + 'static,
    ) -> Self {
        self.validators.push(Arc::new(validator));
        self
    }
}

impl Block {
    /// The object type values of this block have: attributes plus nested blocks.
    pub fn value_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.ty.clone()))
            .collect();
        for nested in &self.blocks {
            attrs.insert(nested.type_name.clone(), nested.value_type());
        }
        Type::Object(attrs)
    }

    /// The attribute called `name`, if declared.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// The nested block called `name`, if declared.
    pub fn nested_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.type_name == name)
    }

    /// Sets every write-only attribute of `value` (an object of this block), in nested blocks too, to null:
    /// what plan and state hold of them for a Terraform that understands write-only attributes.
    pub fn null_write_only(&self, value: &mut Value) {
        if !matches!(value, Value::Object(_)) {
            return;
        }
        for attr in self.attributes.iter().filter(|a| a.write_only) {
            value.set_attr(&attr.name, Value::Null);
        }
        for nested in &self.blocks {
            let Some(instances) = value.attr_mut(&nested.type_name) else {
                continue;
            };
            match (nested.nesting, instances) {
                (NestingMode::Single | NestingMode::Group, object) => {
                    nested.block.null_write_only(object)
                }
                (NestingMode::Map, Value::Map(items) | Value::Object(items)) => items
                    .values_mut()
                    .for_each(|item| nested.block.null_write_only(item)),
                (_, Value::List(items) | Value::Set(items) | Value::Tuple(items)) => items
                    .iter_mut()
                    .for_each(|item| nested.block.null_write_only(item)),
                _ => {}
            }
        }
    }

    /// Whether this block or one nested in it has a write-only attribute.
    pub fn has_write_only(&self) -> bool {
        self.attributes.iter().any(|a| a.write_only)
            || self.blocks.iter().any(|b| b.block.has_write_only())
    }

    /// The default of attribute `name`, or null when it has none (or is not declared).
    pub fn default_of(&self, name: &str) -> Value {
        self.attribute(name)
            .and_then(|a| a.default.clone())
            .unwrap_or(Value::Null)
    }
}

impl NestedBlock {
    /// The type of the block's value in its parent: the object itself for SINGLE and GROUP, a list, set or map of it otherwise.
    pub fn value_type(&self) -> Type {
        let inner = self.block.value_type();
        match self.nesting {
            NestingMode::Single | NestingMode::Group => inner,
            NestingMode::List => Type::list(inner),
            NestingMode::Set => Type::set(inner),
            NestingMode::Map => Type::map(inner),
        }
    }

    /// The block's instances with their paths: one for SINGLE/GROUP (when present), one per element otherwise.
    pub fn instances<'a>(
        &self,
        value: &'a Value,
        path: &AttributePath,
    ) -> Vec<(AttributePath, &'a Value)> {
        match (self.nesting, value) {
            (_, Value::Null | Value::Unknown) => Vec::new(),
            (NestingMode::Single | NestingMode::Group, v) => vec![(path.clone(), v)],
            (NestingMode::Map, Value::Map(m) | Value::Object(m)) => {
                m.iter().map(|(k, v)| (path.key(k), v)).collect()
            }
            (_, v) => v
                .elements()
                .iter()
                .enumerate()
                .map(|(i, v)| (path.index(i), v))
                .collect(),
        }
    }
}

impl Schema {
    /// The object type of a whole resource (or provider, or data source) value.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}
