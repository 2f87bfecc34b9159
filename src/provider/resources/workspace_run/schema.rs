//! The schema of `tfe_workspace_run`: HashiCorp's (schema version 1, single-item `apply`/`destroy` list
//! blocks, the same defaults) plus an optional `timeouts` block; the checks across attributes that the
//! schema's own validators cannot make; and the upgrade that reads the official provider's state without
//! a diff.

use crate::provider::duration::parse_duration;
use tfplugin::model::fill_defaults;
use tfplugin::validate::int_at_least;
use tfplugin::{
    Attribute, AttributePath, Block, Diagnostics, NestedBlock, NestingMode, Schema, Type, Value,
};

pub(crate) const TYPE_NAME: &str = "tfe_workspace_run";
pub(crate) const SCHEMA_VERSION: i64 = 1;

// ------------------------------------------------------------------ schema

/// The settings of one `apply` or `destroy` block, with the official resource's defaults.
pub(super) fn run_settings_block(description: &str) -> Block {
    Block {
        attributes: vec![
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
        ],
        description: description.to_string(),
        ..Block::default()
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
    let single_item_list = |name: &str, description: &str| NestedBlock {
        type_name: name.to_string(),
        nesting: NestingMode::List,
        block: run_settings_block(description),
        min_items: 0,
        max_items: 1,
    };
    Schema {
        version: SCHEMA_VERSION,
        block: Block {
            attributes: vec![
                Attribute::computed("id", Type::String).describe("ID of the run this resource queued."),
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
            ],
            blocks: vec![
                single_item_list("apply", "Settings of the apply run queued when the resource is created."),
                single_item_list("destroy", "Settings of the destroy run queued when the resource is destroyed."),
                NestedBlock {
                    type_name: "timeouts".to_string(),
                    nesting: NestingMode::Single,
                    block: Block {
                        attributes: vec![
                            Attribute::optional("create", Type::String)
                                .describe("Longest time to wait for the apply run, e.g. \"30m\". No limit when unset.")
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
            description: "Queues a run in a workspace when created and/or when destroyed.".to_string(),
            // Unlike the official resource (AtLeastOneOf), neither block is required: a resource with
            // neither queues nothing, so the destroy can be disarmed without removing it (hashicorp/tfe#1604).
            at_least_one_of: Vec::new(),
            conflicts: Vec::new(),
        },
    }
}

// ------------------------------------------------------------------ checks and upgrade

/// Checks that need more than one attribute: backoff bounds in each block. An unset bound is its
/// default, as the plan will make it.
pub(crate) fn validate_run_config(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let settings = run_settings_block("");
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
/// before `message` existed has none at all), and state without `timeouts` already decodes with
/// `timeouts` null.
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
    fn unknown_values_are_not_judged() {
        let d = all_diagnostics(&config(
            Some(settings(&[("retry_backoff_min", Value::Unknown)])),
            None,
        ));
        assert!(d.is_empty());
    }
}
