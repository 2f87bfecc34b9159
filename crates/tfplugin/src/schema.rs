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
    pub block: Block,
}

#[derive(Clone, Default)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub description: String,
    /// Groups of attribute/block names of which at least one must be set.
    pub at_least_one_of: Vec<Vec<String>>,
    /// Groups of attribute/block names of which at most one may be set.
    pub conflicts: Vec<Vec<String>>,
}

#[derive(Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// Written into the plan when the configuration leaves the attribute null (SDKv2 style).
    /// An attribute with a default is advertised as optional + computed.
    pub default: Option<Value>,
    /// A change of this attribute replaces the resource.
    pub force_new: bool,
    pub validators: Vec<Validator>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestingMode {
    Single,
    List,
    Set,
    Map,
    Group,
}

#[derive(Clone)]
pub struct NestedBlock {
    pub type_name: String,
    pub nesting: NestingMode,
    pub block: Block,
    pub min_items: i64,
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
            default: None,
            force_new: false,
            validators: Vec::new(),
        }
    }

    pub fn required(name: &str, ty: Type) -> Self {
        Attribute {
            required: true,
            ..Attribute::new(name, ty)
        }
    }

    pub fn optional(name: &str, ty: Type) -> Self {
        Attribute {
            optional: true,
            ..Attribute::new(name, ty)
        }
    }

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

    pub fn describe(mut self, description: &str) -> Self {
        self.description = description.to_string();
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

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

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    pub fn nested_block(&self, name: &str) -> Option<&NestedBlock> {
        self.blocks.iter().find(|b| b.type_name == name)
    }

    /// The default of attribute `name`, or null when it has none (or is not declared).
    pub fn default_of(&self, name: &str) -> Value {
        self.attribute(name)
            .and_then(|a| a.default.clone())
            .unwrap_or(Value::Null)
    }
}

impl NestedBlock {
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
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}
