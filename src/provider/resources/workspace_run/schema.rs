//! The schema of `tfe_workspace_run`: HashiCorp's (single-item `apply`/`destroy` list blocks, the same
//! defaults) plus what this provider adds, all optional or computed so that the official configuration and
//! state work unchanged: `timeouts`, `triggers` (re-run in place), the run options of each block, and the
//! computed attributes that hand back what the run did; the checks across attributes that the schema's own
//! validators cannot make; and the upgrade that reads the official provider's state (version 1) without a
//! diff.

use super::lifecycle::Operation;
use crate::provider::duration::parse_duration;
use tfplugin::model::fill_defaults;
use tfplugin::validate::int_at_least;
use tfplugin::{
    Attribute, AttributePath, Block, Diagnostics, NestedBlock, NestingMode, Schema, Type, Value,
};

pub(crate) const TYPE_NAME: &str = "tfe_workspace_run";
/// 1 is the official provider's (and this provider's before the run options and computed attributes); 2
/// added `triggers`, the run options and the computed attributes, all null in upgraded state.
pub(crate) const SCHEMA_VERSION: i64 = 2;

// ------------------------------------------------------------------ schema

/// The settings of one `apply` or `destroy` block: the official resource's, with its defaults, then the
/// run options. `refresh_only` is the apply block's only (a refresh-only run cannot destroy). The apply
/// block's `variables` is write-only where Terraform supports it (1.11 and later: never in plan or state);
/// the destroy block's cannot be, because a destroy runs when the configuration is gone, from state alone.
pub(super) fn run_settings_block(operation: Operation) -> Block {
    let description = match operation {
        Operation::Apply => {
            "Settings of the apply run queued when the resource is created (and when `triggers` changes)."
        }
        Operation::Destroy => "Settings of the destroy run queued when the resource is destroyed.",
    };
    let variables = Attribute::optional("variables", Type::map(Type::String))
        .sensitive()
        .validate(check_variables);
    let variables = match operation {
        Operation::Apply => variables.write_only().describe(
            "Run-scoped Terraform variables, over the workspace's for this run only: name to value, each \
             value an HCL literal as a .tfvars file writes it (a string keeps its quotes: \
             `{ region = jsonencode(\"eu-west-1\"), replicas = \"3\" }`). Sensitive; write-only on Terraform \
             1.11 and later (never in plan or state), an ordinary sensitive argument before.",
        ),
        Operation::Destroy => variables.describe(
            "Run-scoped Terraform variables of the destroy run: name to HCL literal. Sensitive, and kept in \
             state: the destroy runs after the configuration is gone.",
        ),
    };
    let mut attributes = vec![
            Attribute::required("manual_confirm", Type::Bool).describe(
                "If true, a person confirms the plan in the HCP Terraform / Terraform Enterprise UI; if false, \
                 this resource confirms it. A soft-failed policy check always needs a person's override.",
            ),
            // The official (SDKv2) resource stores an unset message as "", so it defaults to "".
            Attribute::with_default("message", Type::String, Value::string(""))
                .describe("Message recorded on the run. Empty means the server's default message."),
            Attribute::with_default("retry", Type::Bool, Value::Bool(true))
                .describe("Queue the run again when it errors during plan or apply. Defaults to true."),
            Attribute::with_default("retry_attempts", Type::Number, Value::int(3))
                .describe("How many more runs to try after the first one errors. Defaults to 3.")
                .validate(int_at_least(0)),
            Attribute::with_default("retry_backoff_min", Type::Number, Value::int(1))
                .describe("Shortest wait, in seconds, before a retry. Defaults to 1.")
                .validate(int_at_least(0)),
            Attribute::with_default("retry_backoff_max", Type::Number, Value::int(30))
                .describe("Longest wait, in seconds, before a retry. Defaults to 30.")
                .validate(int_at_least(0)),
            Attribute::with_default("wait_for_run", Type::Bool, Value::Bool(true)).describe(
                "Wait for the run to finish. If false, the run is queued with auto-apply and manual_confirm \
                 is ignored. Defaults to true.",
            ),
        variables,
        Attribute::optional("target_addrs", Type::list(Type::String))
            .describe("Resource addresses the run is limited to, as with `terraform plan -target`.")
            .validate(|v, path, diags| check_addresses("target_addrs", v, path, diags)),
        Attribute::optional("replace_addrs", Type::list(Type::String))
            .describe(
                "Resource addresses the run replaces even if unchanged, as with `terraform plan -replace`.",
            )
            .validate(|v, path, diags| check_addresses("replace_addrs", v, path, diags)),
        Attribute::optional("allow_empty_apply", Type::Bool).describe(
            "Apply even when the plan has no changes (for example to update the workspace's outputs). \
             Defaults to false.",
        ),
    ];
    if operation == Operation::Apply {
        attributes.push(Attribute::optional("refresh_only", Type::Bool).describe(
            "A refresh-only run: updates the workspace's state to match its real resources and changes none \
             of them. Defaults to false.",
        ));
    }
    Block {
        attributes,
        description: description.to_string(),
        ..Block::default()
    }
}

/// Terraform's variable names: a letter or an underscore, then letters, digits, underscores and dashes.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether `value` can be an HCL literal as a .tfvars file writes one: a quoted string, a number, a bool,
/// null, a list, a map or a heredoc. Checked loosely (the plan parses it); what it catches is the usual
/// mistake, a string without its quotes (`eu-west-1` instead of `"eu-west-1"`), which the plan would read as
/// an expression.
fn looks_like_hcl_literal(value: &str) -> bool {
    let value = value.trim();
    let bracketed = |open: char, close: char| value.starts_with(open) && value.ends_with(close);
    (bracketed('"', '"') && value.len() >= 2)
        || bracketed('[', ']')
        || bracketed('{', '}')
        || value.starts_with("<<")
        || matches!(value, "true" | "false" | "null")
        || value.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Variable names must be Terraform's and values HCL literals. The diagnostics name the variable, never its
/// value (it may be a secret).
fn check_variables(value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    let Value::Map(variables) = value else {
        return;
    };
    for (name, literal) in variables {
        let at = path.key(name);
        if !is_variable_name(name) {
            diags.attribute_error(
                at,
                "Invalid variable name",
                format!(
                    "{path}: {name:?} is not a Terraform variable name: it starts with a letter or an underscore and \
                     holds only letters, digits, underscores and dashes."
                ),
            );
            continue;
        }
        let Some(literal) = literal.as_str() else {
            continue;
        };
        if !looks_like_hcl_literal(literal) {
            diags.attribute_error(
                at,
                "Invalid variable value",
                format!(
                    "{path}[{name:?}] is not an HCL literal. Write each value as in a .tfvars file: a string keeps \
                     its quotes (in Terraform, jsonencode(\"eu-west-1\") or \"\\\"eu-west-1\\\"\"), a number is \"3\", \
                     a bool \"true\", a list jsonencode([\"a\", \"b\"]). The value is not shown: it may be secret."
                ),
            );
        }
    }
}

/// Resource addresses: not empty, no spaces or line breaks (`module.app.aws_instance.web[0]`).
fn check_addresses(what: &str, value: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    for (i, address) in value.elements().iter().enumerate() {
        let Some(address) = address.as_str() else {
            continue;
        };
        if address.trim().is_empty() || address.chars().any(char::is_whitespace) {
            diags.attribute_error(
                path.index(i),
                "Invalid resource address",
                format!(
                    "{what}[{i}] ({address:?}) is not a resource address: it names a resource as `terraform plan \
                     -target` takes it, e.g. \"aws_instance.web\" or \"module.app.aws_instance.web[0]\", without \
                     spaces."
                ),
            );
        }
    }
}

fn duration_validator(v: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    if let Some(s) = v.as_str()
        && let Err(e) = parse_duration(s)
    {
        diags.attribute_error(path.clone(), "Invalid duration", format!("{path}: {e}."));
    }
}

/// A workspace ID is `ws-` followed by letters and digits (known values only: an ID computed by
/// another resource is checked once it is known).
fn check_workspace_id(id: &str) -> Result<(), String> {
    let suffix = id.strip_prefix("ws-").unwrap_or_default();
    if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Ok(());
    }
    let what = if id.trim().is_empty() {
        "must not be empty".to_string()
    } else {
        format!("{id:?} is not a workspace ID")
    };
    Err(format!(
        "workspace_id {what}: it takes the ID of a workspace, \"ws-\" followed by letters and digits (e.g. \
         \"ws-2Xk9PqLm7RtY4vNc\"), such as tfe_workspace.example.id or data.tfe_workspace.example.id; a workspace \
         name is not accepted."
    ))
}

/// The `tfe_workspace_run` schema: HashiCorp's (version 1, the same blocks and defaults) plus `timeouts`.
pub fn schema() -> Schema {
    let single_item_list = |operation: Operation| NestedBlock {
        type_name: operation.to_string(),
        nesting: NestingMode::List,
        block: run_settings_block(operation),
        min_items: 0,
        max_items: 1,
    };
    let computed = |name: &str, ty: Type, description: &str| {
        Attribute::computed(name, ty).describe(description)
    };
    Schema {
        version: SCHEMA_VERSION,
        block: Block {
            attributes: vec![
                Attribute::computed("id", Type::String)
                    .describe("ID of the last run this resource queued that succeeded."),
                Attribute::required("workspace_id", Type::String)
                    .force_new()
                    .describe("ID of the workspace to queue runs in. Changing it replaces the resource.")
                    .validate(|v, path, diags| {
                        if let Some(id) = v.as_str()
                            && let Err(why) = check_workspace_id(id)
                        {
                            diags.attribute_error(path.clone(), "Invalid workspace ID", why);
                        }
                    }),
                Attribute::optional("triggers", Type::map(Type::String)).describe(
                    "Arbitrary strings; when a plan changes them, applying it queues a new apply run with the \
                     apply block's settings, in place: no replacement and no destroy run.",
                ),
                computed("status", Type::String, "The final status of the last run: applied, planned_and_finished, \
                     or, without waiting (wait_for_run = false), the status it had when queued."),
                computed("url", Type::String, "The run's page in HCP Terraform / Terraform Enterprise."),
                computed("has_changes", Type::Bool, "Whether the run's plan found changes."),
                computed("resource_additions", Type::Number, "Resources the run's plan adds."),
                computed("resource_changes", Type::Number, "Resources the run's plan changes in place."),
                computed("resource_destructions", Type::Number, "Resources the run's plan destroys."),
                computed(
                    "outputs",
                    Type::Dynamic,
                    "The workspace's state outputs after the run, every one (sensitive as a whole), each keeping \
                     its type.",
                )
                .sensitive(),
                computed(
                    "nonsensitive_outputs",
                    Type::Dynamic,
                    "The workspace's state outputs after the run that the state does not mark sensitive.",
                ),
            ],
            blocks: vec![
                single_item_list(Operation::Apply),
                single_item_list(Operation::Destroy),
                NestedBlock {
                    type_name: "timeouts".to_string(),
                    nesting: NestingMode::Single,
                    block: Block {
                        attributes: vec![
                            Attribute::optional("create", Type::String)
                                .describe(
                                    "Longest time to wait for the apply run (on create, and on a re-run by \
                                     triggers), its configuration and its outputs, e.g. \"30m\". No limit when unset.",
                                )
                                .validate(duration_validator),
                            Attribute::optional("delete", Type::String)
                                .describe("Longest time to wait for the destroy run, e.g. \"1h\". No limit when unset.")
                                .validate(duration_validator),
                        ],
                        ..Block::default()
                    },
                    min_items: 0,
                    max_items: 0,
                },
            ],
            description: "Queues a run in a workspace when created, when its triggers change and/or when \
                          destroyed, and hands back what the run did."
                .to_string(),
            // Unlike the official resource (AtLeastOneOf), neither block is required: a resource with
            // neither queues nothing, so the destroy can be disarmed without removing it (hashicorp/tfe#1604).
            at_least_one_of: Vec::new(),
            conflicts: Vec::new(),
        },
    }
}

// ------------------------------------------------------------------ checks and upgrade

/// Checks that need more than one attribute: backoff bounds in each block (an unset bound is its
/// default, as the plan will make it), and a refresh-only run that would also replace resources.
pub(crate) fn validate_run_config(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for (i, block) in config.attr("apply").elements().iter().enumerate() {
        let replaces = !block.attr("replace_addrs").elements().is_empty();
        if block.attr("refresh_only").as_bool() == Some(true) && replaces {
            diags.attribute_error(
                AttributePath::root("apply").index(i).attr("replace_addrs"),
                "Invalid run options",
                "apply.refresh_only = true cannot be combined with apply.replace_addrs: a refresh-only run \
                 changes no resource, so it replaces none (as `terraform plan -refresh-only` refuses -replace). \
                 Remove one of them.",
            );
        }
    }
    let settings = run_settings_block(Operation::Apply);
    let bounds = |block: &Value| {
        let mut block = block.clone();
        fill_defaults(&mut block, &settings);
        let bound = |name: &str| block.attr(name).as_i64().unwrap_or_default();
        (bound("retry_backoff_min"), bound("retry_backoff_max"))
    };
    let (default_min, default_max) = bounds(&Value::Object(Default::default()));
    for phase in ["apply", "destroy"] {
        for (i, block) in config.attr(phase).elements().iter().enumerate() {
            // Bounds not known yet are judged once they are.
            if block.attr("retry_backoff_min").is_unknown()
                || block.attr("retry_backoff_max").is_unknown()
            {
                continue;
            }
            let (min, max) = bounds(block);
            if min >= 0 && max >= 0 && min > max {
                diags.attribute_error(
                    AttributePath::root(phase).index(i).attr("retry_backoff_min"),
                    "Invalid retry backoff",
                    format!(
                        "{phase}.retry_backoff_min ({min}) must not be greater than {phase}.retry_backoff_max ({max}); \
                         when a value is not set its default applies (min {default_min}, max {default_max})."
                    ),
                );
            }
        }
    }
    diags
}

/// Brings stored state to what this provider plans, so switching from the official provider
/// shows no diff: an unset `message` is "" (as SDKv2 writes it; state from official releases
/// before `message` existed has none at all). Everything version 2 added (`triggers`, the run options,
/// the computed attributes) and `timeouts` already decode as null from older state: null `triggers` and
/// run options are what a configuration without them plans, and the computed attributes are filled in by
/// the next refresh (see `operations.rs`) or run.
pub(crate) fn upgrade_run_state(mut state: Value) -> Value {
    for phase in ["apply", "destroy"] {
        if let Some(Value::List(blocks)) = state.attr_mut(phase) {
            for block in blocks.iter_mut() {
                if block.attr("message").is_null() {
                    block.set_attr("message", Value::string(""));
                }
            }
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::plan::plan_resource;
    use tfplugin::validate::validate_block;

    fn settings(attrs: &[(&str, Value)]) -> Value {
        let mut block = Value::object([
            ("manual_confirm", Value::Bool(false)),
            ("message", Value::Null),
            ("retry", Value::Null),
            ("retry_attempts", Value::Null),
            ("retry_backoff_min", Value::Null),
            ("retry_backoff_max", Value::Null),
            ("wait_for_run", Value::Null),
        ]);
        for (k, v) in attrs {
            block.set_attr(k, v.clone());
        }
        block
    }

    fn config(apply: Option<Value>, destroy: Option<Value>) -> Value {
        Value::object([
            ("id", Value::Null),
            ("workspace_id", Value::string("ws-123")),
            ("apply", Value::List(apply.into_iter().collect())),
            ("destroy", Value::List(destroy.into_iter().collect())),
            ("timeouts", Value::Null),
        ])
    }

    fn all_diagnostics(config: &Value) -> Diagnostics {
        let mut diags = Diagnostics::new();
        validate_block(
            &schema().block,
            config,
            &AttributePath::default(),
            &mut diags,
        );
        diags.extend(validate_run_config(config));
        diags
    }

    #[test]
    fn plan_fills_defaults_and_leaves_id_unknown() {
        let c = config(Some(settings(&[("retry_attempts", Value::int(5))])), None);
        let plan = plan_resource(&schema(), &Value::Null, &c, &c);
        let apply = &plan.planned_state.attr("apply").elements()[0];
        assert_eq!(apply.attr("retry"), &Value::Bool(true));
        assert_eq!(apply.attr("retry_attempts"), &Value::int(5));
        assert_eq!(apply.attr("retry_backoff_min"), &Value::int(1));
        assert_eq!(apply.attr("retry_backoff_max"), &Value::int(30));
        assert_eq!(apply.attr("wait_for_run"), &Value::Bool(true));
        assert_eq!(apply.attr("message"), &Value::string(""));
        assert_eq!(plan.planned_state.attr("id"), &Value::Unknown);
        assert!(plan.requires_replace.is_empty());
    }

    #[test]
    fn changing_workspace_id_forces_replacement_but_settings_do_not() {
        let c = config(Some(settings(&[])), None);
        let mut prior = plan_resource(&schema(), &Value::Null, &c, &c).planned_state;
        prior.set_attr("id", Value::string("run-1"));
        let mut changed = c.clone();
        changed.set_attr("workspace_id", Value::string("ws-other"));
        let mut proposed = changed.clone();
        proposed.set_attr("id", Value::string("run-1"));
        let plan = plan_resource(&schema(), &prior, &proposed, &changed);
        assert_eq!(
            plan.requires_replace,
            vec![AttributePath::root("workspace_id")]
        );
        assert_eq!(plan.planned_state.attr("id"), &Value::Unknown);

        let edited = config(Some(settings(&[("retry", Value::Bool(false))])), None);
        let mut proposed = edited.clone();
        proposed.set_attr("id", Value::string("run-1"));
        let plan = plan_resource(&schema(), &prior, &proposed, &edited);
        assert!(plan.requires_replace.is_empty());
        assert_eq!(plan.planned_state.attr("id"), &Value::string("run-1"));
    }

    #[test]
    fn validation_names_the_offending_attribute() {
        let d = all_diagnostics(&config(
            Some(settings(&[("retry_attempts", Value::int(-1))])),
            None,
        ));
        assert_eq!(d.0.len(), 1);
        assert_eq!(
            d.0[0].attribute.as_ref().unwrap().to_string(),
            "apply[0].retry_attempts"
        );

        // Neither block is allowed (hashicorp/tfe#1604): nothing is queued either way.
        assert!(all_diagnostics(&config(None, None)).is_empty());

        let d = all_diagnostics(&config(
            None,
            Some(settings(&[("retry_backoff_min", Value::int(40))])),
        ));
        assert_eq!(
            d.0[0].attribute.as_ref().unwrap().to_string(),
            "destroy[0].retry_backoff_min"
        );

        let mut with_timeouts = config(Some(settings(&[])), None);
        with_timeouts.set_attr(
            "timeouts",
            Value::object([
                ("create", Value::string("10 minutes")),
                ("delete", Value::Null),
            ]),
        );
        let d = all_diagnostics(&with_timeouts);
        assert_eq!(
            d.0[0].attribute.as_ref().unwrap().to_string(),
            "timeouts.create"
        );

        assert!(all_diagnostics(&config(Some(settings(&[])), Some(settings(&[])))).is_empty());
    }

    #[test]
    fn workspace_id_must_look_like_one() {
        let with_ws = |id: &str| {
            let mut c = config(Some(settings(&[])), None);
            c.set_attr("workspace_id", Value::string(id));
            all_diagnostics(&c)
        };
        assert!(with_ws("ws-2Xk9PqLm7RtY4vNc").is_empty());
        for bad in ["not-a-ws-id", "", "  ", "ws-", "ws-abc/def", "my-workspace"] {
            let d = with_ws(bad);
            assert_eq!(d.0.len(), 1, "{bad:?}: {d:?}");
            assert_eq!(
                d.0[0].attribute.as_ref().unwrap().to_string(),
                "workspace_id"
            );
            assert!(d.0[0].detail.contains("\"ws-\" followed by"), "{d:?}");
        }
        assert!(
            with_ws("not-a-ws-id").0[0]
                .detail
                .contains("\"not-a-ws-id\" is not")
        );
        let mut unknown = config(Some(settings(&[])), None);
        unknown.set_attr("workspace_id", Value::Unknown);
        assert!(all_diagnostics(&unknown).is_empty());
    }

    #[test]
    fn run_options_are_checked_without_showing_variable_values() {
        let with = |attrs: &[(&str, Value)]| all_diagnostics(&config(Some(settings(attrs)), None));
        let vars = |pairs: &[(&str, &str)]| {
            Value::Map(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), Value::string(*v)))
                    .collect(),
            )
        };
        let good = vars(&[
            ("region", "\"eu-west-1\""),
            ("replicas", "3"),
            ("enabled", "true"),
            ("zones", "[\"a\", \"b\"]"),
            ("tags", "{\"env\": \"prod\"}"),
            ("_private-name", "null"),
        ]);
        assert!(with(&[("variables", good)]).is_empty());

        let d = with(&[("variables", vars(&[("region", "s3cr3t-eu-west-1")]))]);
        assert_eq!(d.0.len(), 1, "{d:?}");
        assert_eq!(d.0[0].summary, "Invalid variable value");
        assert_eq!(
            d.0[0].attribute.as_ref().unwrap().to_string(),
            "apply[0].variables[\"region\"]"
        );
        assert!(d.0[0].detail.contains("jsonencode"), "{d:?}");
        assert!(
            !d.0[0].detail.contains("s3cr3t"),
            "a value was shown: {d:?}"
        );

        let d = with(&[("variables", vars(&[("1st", "1")]))]);
        assert_eq!(d.0[0].summary, "Invalid variable name");

        let d = with(&[(
            "target_addrs",
            Value::List(vec![
                Value::string("aws_instance.web"),
                Value::string("a b"),
            ]),
        )]);
        assert_eq!(d.0.len(), 1, "{d:?}");
        assert_eq!(
            d.0[0].attribute.as_ref().unwrap().to_string(),
            "apply[0].target_addrs[1]"
        );

        let d = with(&[
            ("refresh_only", Value::Bool(true)),
            (
                "replace_addrs",
                Value::List(vec![Value::string("aws_instance.web")]),
            ),
        ]);
        assert_eq!(d.0.len(), 1, "{d:?}");
        assert!(d.0[0].detail.contains("refresh-only"), "{d:?}");
        assert!(
            with(&[
                ("refresh_only", Value::Bool(true)),
                (
                    "target_addrs",
                    Value::List(vec![Value::string("aws_instance.web")])
                ),
            ])
            .is_empty()
        );
    }

    #[test]
    fn refresh_only_is_the_apply_blocks_and_apply_variables_are_write_only() {
        let schema = schema();
        let block = |name: &str| schema.block.nested_block(name).unwrap().block.clone();
        assert!(block("apply").attribute("refresh_only").is_some());
        assert!(block("destroy").attribute("refresh_only").is_none());
        let apply_vars = block("apply").attribute("variables").unwrap().clone();
        assert!(apply_vars.write_only && apply_vars.sensitive && !apply_vars.computed);
        let destroy_vars = block("destroy").attribute("variables").unwrap().clone();
        assert!(!destroy_vars.write_only && destroy_vars.sensitive);
        assert!(schema.block.attribute("outputs").unwrap().sensitive);
        assert!(
            !schema
                .block
                .attribute("nonsensitive_outputs")
                .unwrap()
                .sensitive
        );
        assert_eq!(schema.version, 2);
    }

    #[test]
    fn unknown_values_are_not_judged() {
        let d = all_diagnostics(&config(
            Some(settings(&[("retry_backoff_min", Value::Unknown)])),
            None,
        ));
        assert!(d.is_empty());
    }
}
