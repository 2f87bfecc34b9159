//! `tfe_workspace_run`: queues a run in a workspace when created (`apply`) and/or when destroyed
//! (`destroy`). The schema matches HashiCorp's official resource (schema version 1, single-item
//! `apply`/`destroy` list blocks, the same defaults) plus an optional `timeouts` block.
//!
//! This file has the schema and the typed view of its values with local validation and state
//! upgrade; the remote side (queuing, waiting, read, import) is in `workspace_run/remote.rs` and
//! `workspace_run/run_api.rs`.

use std::time::Duration;

use async_trait::async_trait;

use crate::provider::client::SharedClient;
use crate::provider::duration::parse_duration;
use tfplugin::plan::GenericPlan;
use tfplugin::validate::int_at_least;
use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Diagnostics, ImportRequest,
    ImportResponse, NestedBlock, NestingMode, PlanRequest, ReadRequest, ReadResponse, Resource,
    Schema, Type, Value,
};

pub(crate) const TYPE_NAME: &str = "tfe_workspace_run";
pub(crate) const SCHEMA_VERSION: i64 = 1;

pub(crate) const DEFAULT_RETRY: bool = true;
pub(crate) const DEFAULT_RETRY_ATTEMPTS: i64 = 3;
pub(crate) const DEFAULT_RETRY_BACKOFF_MIN: i64 = 1;
pub(crate) const DEFAULT_RETRY_BACKOFF_MAX: i64 = 30;
pub(crate) const DEFAULT_WAIT_FOR_RUN: bool = true;

// ------------------------------------------------------------------ schema

fn run_settings_block(description: &str) -> Block {
    Block {
        attributes: vec![
            Attribute::required("manual_confirm", Type::Bool).describe(
                "If true, a person confirms the plan in the HCP Terraform / Terraform Enterprise UI; if false, \
                 this resource confirms it. A soft-failed policy check always needs a person's override.",
            ),
            // The official (SDKv2) resource stores an unset message as "", so it defaults to "".
            Attribute::with_default("message", Type::String, Value::string(""))
                .describe("Message recorded on the run. Empty means the server's default message."),
            Attribute::with_default("retry", Type::Bool, Value::Bool(DEFAULT_RETRY))
                .describe("Queue the run again when it errors during plan or apply. Defaults to true."),
            Attribute::with_default("retry_attempts", Type::Number, Value::int(DEFAULT_RETRY_ATTEMPTS))
                .describe("How many more runs to try after the first one errors. Defaults to 3.")
                .validate(int_at_least(0)),
            Attribute::with_default("retry_backoff_min", Type::Number, Value::int(DEFAULT_RETRY_BACKOFF_MIN))
                .describe("Shortest wait, in seconds, before a retry. Defaults to 1.")
                .validate(int_at_least(0)),
            Attribute::with_default("retry_backoff_max", Type::Number, Value::int(DEFAULT_RETRY_BACKOFF_MAX))
                .describe("Longest wait, in seconds, before a retry. Defaults to 30.")
                .validate(int_at_least(0)),
            Attribute::with_default("wait_for_run", Type::Bool, Value::Bool(DEFAULT_WAIT_FOR_RUN)).describe(
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

// ------------------------------------------------------------------ typed values

/// One `apply` or `destroy` block, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunBlock {
    pub manual_confirm: bool,
    pub message: Option<String>,
    pub retry: bool,
    pub retry_attempts: i64,
    pub retry_backoff_min: i64,
    pub retry_backoff_max: i64,
    pub wait_for_run: bool,
}

impl RunBlock {
    /// Reads a block instance; None when the list is empty or the value is not known.
    pub(crate) fn from_block_list(list: &Value) -> Option<RunBlock> {
        let block = list.elements().first()?;
        if !block.is_wholly_known() {
            return None;
        }
        Some(RunBlock {
            manual_confirm: block.attr("manual_confirm").as_bool().unwrap_or(false),
            message: block
                .attr("message")
                .as_str()
                .filter(|m| !m.is_empty())
                .map(str::to_string),
            retry: block.attr("retry").as_bool().unwrap_or(DEFAULT_RETRY),
            retry_attempts: block
                .attr("retry_attempts")
                .as_i64()
                .unwrap_or(DEFAULT_RETRY_ATTEMPTS),
            retry_backoff_min: block
                .attr("retry_backoff_min")
                .as_i64()
                .unwrap_or(DEFAULT_RETRY_BACKOFF_MIN),
            retry_backoff_max: block
                .attr("retry_backoff_max")
                .as_i64()
                .unwrap_or(DEFAULT_RETRY_BACKOFF_MAX),
            wait_for_run: block
                .attr("wait_for_run")
                .as_bool()
                .unwrap_or(DEFAULT_WAIT_FOR_RUN),
        })
    }
}

impl RunBlock {
    /// The settings [`run_lifecycle::drive`](crate::provider::run_lifecycle::drive) works with:
    /// backoff in seconds, as documented (validation already refused negative numbers).
    pub(crate) fn to_settings(&self) -> crate::provider::run_lifecycle::RunSettings {
        let non_negative = |n: i64| u64::try_from(n).unwrap_or(0);
        crate::provider::run_lifecycle::RunSettings {
            manual_confirm: self.manual_confirm,
            message: self.message.clone(),
            retry: self.retry,
            retry_attempts: u32::try_from(non_negative(self.retry_attempts)).unwrap_or(u32::MAX),
            retry_backoff_min: Duration::from_secs(non_negative(self.retry_backoff_min)),
            retry_backoff_max: Duration::from_secs(non_negative(self.retry_backoff_max)),
            wait_for_run: self.wait_for_run,
        }
    }
}

/// The `timeouts` block, parsed. None means wait without limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub create: Option<Duration>,
    pub delete: Option<Duration>,
}

impl Timeouts {
    /// The deadline for the apply run, counted from now.
    pub(crate) fn create_deadline(&self) -> Option<tokio::time::Instant> {
        self.create.map(|d| tokio::time::Instant::now() + d)
    }

    /// The deadline for the destroy run, counted from now.
    pub(crate) fn delete_deadline(&self) -> Option<tokio::time::Instant> {
        self.delete.map(|d| tokio::time::Instant::now() + d)
    }

    pub(crate) fn from_value(v: &Value) -> Timeouts {
        let read = |name: &str| v.attr(name).as_str().and_then(|s| parse_duration(s).ok());
        Timeouts {
            create: read("create"),
            delete: read("delete"),
        }
    }
}

/// The whole resource, typed; built from planned state or prior state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WorkspaceRun {
    pub id: Option<String>,
    pub workspace_id: String,
    pub apply: Option<RunBlock>,
    pub destroy: Option<RunBlock>,
    pub timeouts: Timeouts,
}

impl WorkspaceRun {
    pub(crate) fn from_value(v: &Value) -> WorkspaceRun {
        WorkspaceRun {
            id: v.attr("id").as_str().map(str::to_string),
            workspace_id: v
                .attr("workspace_id")
                .as_str()
                .unwrap_or_default()
                .to_string(),
            apply: RunBlock::from_block_list(v.attr("apply")),
            destroy: RunBlock::from_block_list(v.attr("destroy")),
            timeouts: Timeouts::from_value(v.attr("timeouts")),
        }
    }
}

/// Returns `state` with `id` set: what create returns on success, and with an error on failure
/// (Terraform then keeps the run ID and taints the instance).
pub(crate) fn with_id(state: &Value, id: &str) -> Value {
    let mut state = state.clone();
    state.set_attr("id", Value::string(id));
    state
}

/// Checks that need more than one attribute: backoff bounds in each block.
pub(crate) fn validate_run_config(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for phase in ["apply", "destroy"] {
        for (i, block) in config.attr(phase).elements().iter().enumerate() {
            let (min, max) = (
                block.attr("retry_backoff_min"),
                block.attr("retry_backoff_max"),
            );
            if min.is_unknown() || max.is_unknown() {
                continue;
            }
            let min = min.as_i64().unwrap_or(DEFAULT_RETRY_BACKOFF_MIN);
            let max = max.as_i64().unwrap_or(DEFAULT_RETRY_BACKOFF_MAX);
            if min >= 0 && max >= 0 && min > max {
                diags.attribute_error(
                    AttributePath::root(phase).index(i).attr("retry_backoff_min"),
                    "Invalid retry backoff",
                    format!(
                        "{phase}.retry_backoff_min ({min}) must not be greater than {phase}.retry_backoff_max ({max}); \
                         when a value is not set its default applies (min 1, max 30)."
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

/// The resource as the plugin layer sees it.
pub(crate) struct WorkspaceRunResource {
    client: SharedClient,
    /// The runs this process created or adopted, shared by all instances.
    claims: ownership::Claims,
    /// One poller for all instances, so one request can report many runs.
    poller: poller::ProcessPoller,
    /// Workspace reads of instances starting together, batched through their organization's list.
    workspaces: workspace_reads::ProcessWorkspaceReads,
}

impl WorkspaceRunResource {
    pub(crate) fn new(client: SharedClient) -> Self {
        WorkspaceRunResource {
            client,
            claims: ownership::Claims::default(),
            poller: poller::ProcessPoller::default(),
            workspaces: workspace_reads::ProcessWorkspaceReads::default(),
        }
    }
}

#[async_trait]
impl Resource for WorkspaceRunResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate_config(&self, config: &Value) -> Diagnostics {
        validate_run_config(config)
    }

    fn upgrade_state(&self, version: i64, state: Value) -> Result<Value, Diagnostics> {
        if version > SCHEMA_VERSION {
            return Err(Diagnostics::from_error(
                "State from a newer provider",
                format!(
                    "This state has schema version {version}; this provider understands up to {SCHEMA_VERSION}. Use a newer provider."
                ),
            ));
        }
        Ok(upgrade_run_state(state))
    }

    fn modify_plan(
        &self,
        request: &PlanRequest<'_>,
        plan: &mut GenericPlan,
        diagnostics: &mut Diagnostics,
    ) {
        // The first of the two calls of a replacement: the prior instance goes first.
        if !request.prior_state.is_null() && !plan.requires_replace.is_empty() {
            plan_warnings::warn_destroy_run(
                request.prior_state,
                plan_warnings::Change::Replacement,
                diagnostics,
            );
        }
    }

    fn plan_destroy(&self, prior_state: &Value, diagnostics: &mut Diagnostics) {
        plan_warnings::warn_destroy_run(prior_state, plan_warnings::Change::Removal, diagnostics);
    }

    async fn read(&self, request: ReadRequest) -> ReadResponse {
        remote::read(&self.client, &self.poller, &self.workspaces, request).await
    }

    async fn create(&self, request: ApplyRequest) -> ApplyResponse {
        remote::create(
            &self.client,
            &self.claims,
            &self.poller,
            &self.workspaces,
            request,
        )
        .await
    }

    async fn delete(&self, request: ApplyRequest) -> Diagnostics {
        remote::delete(
            &self.client,
            &self.claims,
            &self.poller,
            &self.workspaces,
            request,
        )
        .await
    }

    async fn import(&self, request: ImportRequest) -> ImportResponse {
        remote::import(&self.client, request).await
    }
}

// ------------------------------------------------------------------ remote lifecycle
//
// In workspace_run/remote.rs (create, delete, read, import) over workspace_run/run_api.rs (the
// lifecycle's RunApi on the TFE client). Update needs nothing remote (the trait's default stores
// the plan), as in the official resource.
mod ownership;
mod plan_warnings;
mod poller;
mod remote;
mod run_api;
mod run_logs;
mod workspace_reads;

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

    #[test]
    fn official_state_upgrades_without_diff() {
        // As written by an official release from before `message` existed.
        let json = br#"{"id":"run-abc","workspace_id":"ws-1","apply":[{"manual_confirm":false,"retry":true,"retry_attempts":3,"retry_backoff_min":1,"retry_backoff_max":30,"wait_for_run":true}],"destroy":[]}"#;
        let state = tfplugin::codec::decode_json(json, &schema().value_type()).unwrap();
        let upgraded = upgrade_run_state(state);
        assert_eq!(upgraded.attr("timeouts"), &Value::Null);
        assert_eq!(
            upgraded.attr("apply").elements()[0].attr("message"),
            &Value::string("")
        );
        let run = WorkspaceRun::from_value(&upgraded);
        assert_eq!(run.id.as_deref(), Some("run-abc"));
        let settings = run.apply.unwrap().to_settings();
        assert_eq!(settings.retry_attempts, 3);
        assert_eq!(settings.retry_backoff_max, Duration::from_secs(30));
        assert_eq!(run.destroy, None);
    }
}
