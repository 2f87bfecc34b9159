//! The values of a `tfe_workspace_run`, typed: read from planned or stored state in one place, with the
//! attributes a value leaves unset taking the defaults its schema declares (state written before an
//! attribute existed, a configuration not yet planned). The lifecycle gets them as [`RunSettings`], in
//! the units the documentation gives.

use std::collections::BTreeMap;
use std::time::Duration;

use tfplugin::Value;
use tfplugin::model::{ValueModel, fill_defaults};
use tokio::time::Instant;

use super::lifecycle::{Operation, RunOptions, RunSettings};
use crate::provider::duration::parse_duration;

tfplugin::value_model! {
    /// One `apply` or `destroy` block.
    pub(super) struct RunBlockModel {
        pub(super) manual_confirm: Option<bool> = "manual_confirm",
        pub(super) message: Option<String> = "message",
        pub(super) retry: Option<bool> = "retry",
        pub(super) retry_attempts: Option<i64> = "retry_attempts",
        pub(super) retry_backoff_min: Option<i64> = "retry_backoff_min",
        pub(super) retry_backoff_max: Option<i64> = "retry_backoff_max",
        pub(super) wait_for_run: Option<bool> = "wait_for_run",
        pub(super) variables: Option<BTreeMap<String, String>> = "variables",
        pub(super) target_addrs: Option<Vec<String>> = "target_addrs",
        pub(super) replace_addrs: Option<Vec<String>> = "replace_addrs",
        /// The apply block's only; `None` in a destroy block.
        pub(super) refresh_only: Option<bool> = "refresh_only",
        pub(super) allow_empty_apply: Option<bool> = "allow_empty_apply",
    }
}

tfplugin::value_model! {
    /// The `timeouts` block, as written ("30m"); unset means wait without limit.
    pub(super) struct TimeoutsModel {
        pub(super) create: Option<String> = "create",
        pub(super) delete: Option<String> = "delete",
    }
}

tfplugin::value_model! {
    /// The whole resource.
    pub(super) struct WorkspaceRunModel {
        pub(super) id: Option<String> = "id",
        pub(super) workspace_id: Option<String> = "workspace_id",
        pub(super) apply: Vec<RunBlockModel> = "apply",
        pub(super) destroy: Vec<RunBlockModel> = "destroy",
        pub(super) timeouts: Option<TimeoutsModel> = "timeouts",
        /// Kept raw: planning tells an unknown value from a changed one.
        pub(super) triggers: Value = "triggers",
        pub(super) status: Option<String> = "status",
        pub(super) url: Option<String> = "url",
        pub(super) has_changes: Option<bool> = "has_changes",
        pub(super) resource_additions: Option<i64> = "resource_additions",
        pub(super) resource_changes: Option<i64> = "resource_changes",
        pub(super) resource_destructions: Option<i64> = "resource_destructions",
        pub(super) outputs: Value = "outputs",
        pub(super) nonsensitive_outputs: Value = "nonsensitive_outputs",
    }
}

impl RunBlockModel {
    /// Reads one block instance, its unset attributes taking the schema's defaults.
    pub(super) fn with_defaults(block: &Value) -> RunBlockModel {
        let mut block = block.clone();
        fill_defaults(
            &mut block,
            &super::schema::run_settings_block(Operation::Apply),
        );
        RunBlockModel::from_value(&block)
    }

    /// The settings [`lifecycle::drive`](super::lifecycle::drive) works with: backoff in seconds, as
    /// documented (validation already refused negative numbers); an empty message is the default one.
    pub(super) fn to_settings(&self) -> RunSettings {
        let non_negative = |n: Option<i64>| u64::try_from(n.unwrap_or_default()).unwrap_or(0);
        RunSettings {
            manual_confirm: self.manual_confirm.unwrap_or_default(),
            message: self.message.clone().filter(|m| !m.is_empty()),
            retry: self.retry.unwrap_or_default(),
            retry_attempts: u32::try_from(non_negative(self.retry_attempts)).unwrap_or(u32::MAX),
            retry_backoff_min: Duration::from_secs(non_negative(self.retry_backoff_min)),
            retry_backoff_max: Duration::from_secs(non_negative(self.retry_backoff_max)),
            wait_for_run: self.wait_for_run.unwrap_or_default(),
            options: RunOptions {
                variables: self
                    .variables
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                target_addrs: self.target_addrs.clone().unwrap_or_default(),
                replace_addrs: self.replace_addrs.clone().unwrap_or_default(),
                refresh_only: self.refresh_only.unwrap_or_default(),
                allow_empty_apply: self.allow_empty_apply.unwrap_or_default(),
            },
        }
    }
}

impl TimeoutsModel {
    /// The deadline for the apply run, counted from now; `None` waits without limit.
    pub(super) fn create_deadline(&self) -> Option<Instant> {
        deadline(self.create.as_deref())
    }

    /// The deadline for the destroy run, counted from now; `None` waits without limit.
    pub(super) fn delete_deadline(&self) -> Option<Instant> {
        deadline(self.delete.as_deref())
    }
}

/// Validation refused a duration that does not parse, so one that does not is no limit.
fn deadline(duration: Option<&str>) -> Option<Instant> {
    let duration = parse_duration(duration?).ok()?;
    Some(Instant::now() + duration)
}

impl WorkspaceRunModel {
    /// Reads planned or stored state; the run blocks' unset attributes take the schema's defaults.
    pub(super) fn with_defaults(state: &Value) -> WorkspaceRunModel {
        let mut model = WorkspaceRunModel::from_value(state);
        let blocks = |phase: &str| {
            state
                .attr(phase)
                .elements()
                .iter()
                .map(RunBlockModel::with_defaults)
        };
        model.apply = blocks("apply").collect();
        model.destroy = blocks("destroy").collect();
        model
    }

    /// The workspace the runs are queued in ("" when the value has none).
    pub(super) fn workspace_id(&self) -> &str {
        self.workspace_id.as_deref().unwrap_or_default()
    }

    /// The settings of the `apply` block, if there is one.
    pub(super) fn apply_settings(&self) -> Option<RunSettings> {
        self.apply.first().map(RunBlockModel::to_settings)
    }

    /// The settings of the `apply` block, with its `variables` taken from `config` (the configuration of the
    /// apply under way): they are write-only, so a Terraform that knows write-only attributes keeps them out of
    /// the planned state and sends them in the configuration only.
    pub(super) fn apply_settings_with_variables_of(&self, config: &Value) -> Option<RunSettings> {
        let mut settings = self.apply_settings()?;
        let configured = config.attr("apply").elements().first().map(|block| {
            RunBlockModel::from_value(block)
                .variables
                .unwrap_or_default()
        });
        if let Some(variables) = configured {
            settings.options.variables = variables.into_iter().collect();
        }
        Some(settings)
    }

    /// The settings of the `destroy` block, if there is one.
    pub(super) fn destroy_settings(&self) -> Option<RunSettings> {
        self.destroy.first().map(RunBlockModel::to_settings)
    }

    /// The `timeouts` block; all unset when there is none.
    pub(super) fn timeouts(&self) -> TimeoutsModel {
        self.timeouts.clone().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema;
    use super::*;
    use tfplugin::Schema;
    use tfplugin::model::undeclared_attributes;

    #[test]
    fn the_models_name_only_what_the_schema_declares() {
        let schema = schema::schema();
        assert!(undeclared_attributes::<WorkspaceRunModel>(&schema).is_empty());
        let nested = |name: &str| Schema {
            version: 0,
            block: schema.block.nested_block(name).unwrap().block.clone(),
        };
        assert!(undeclared_attributes::<RunBlockModel>(&nested("apply")).is_empty());
        assert_eq!(
            undeclared_attributes::<RunBlockModel>(&nested("destroy")),
            ["refresh_only"],
            "a refresh-only run cannot destroy"
        );
        assert!(undeclared_attributes::<TimeoutsModel>(&nested("timeouts")).is_empty());
    }

    #[test]
    fn unset_settings_take_the_schema_defaults() {
        let block = Value::object([
            ("manual_confirm", Value::Bool(true)),
            ("message", Value::Null),
            ("retry", Value::Null),
            ("retry_attempts", Value::Null),
            ("retry_backoff_min", Value::int(2)),
            ("retry_backoff_max", Value::Null),
            ("wait_for_run", Value::Null),
        ]);
        let settings = RunBlockModel::with_defaults(&block).to_settings();
        assert!(settings.manual_confirm);
        assert_eq!(settings.message, None);
        assert!(settings.retry);
        assert_eq!(settings.retry_attempts, 3);
        assert_eq!(settings.retry_backoff_min, Duration::from_secs(2));
        assert_eq!(settings.retry_backoff_max, Duration::from_secs(30));
        assert!(settings.wait_for_run);
    }

    #[test]
    fn official_state_upgrades_and_reads_without_diff() {
        // As written by an official release from before `message` existed.
        let json = br#"{"id":"run-abc","workspace_id":"ws-1","apply":[{"manual_confirm":false,"retry":true,"retry_attempts":3,"retry_backoff_min":1,"retry_backoff_max":30,"wait_for_run":true}],"destroy":[]}"#;
        let state = tfplugin::codec::decode_json(json, &schema::schema().value_type()).unwrap();
        let upgraded = schema::upgrade_run_state(state);
        assert_eq!(upgraded.attr("timeouts"), &Value::Null);
        assert_eq!(
            upgraded.attr("apply").elements()[0].attr("message"),
            &Value::string("")
        );
        let run = WorkspaceRunModel::with_defaults(&upgraded);
        assert_eq!(run.id.as_deref(), Some("run-abc"));
        let settings = run.apply_settings().unwrap();
        assert_eq!(settings.retry_attempts, 3);
        assert_eq!(
            settings.retry_backoff_max,
            std::time::Duration::from_secs(30)
        );
        assert_eq!(run.destroy_settings(), None);
        // What version 2 added starts null: no triggers, no run options, nothing handed back yet.
        for name in [
            "triggers",
            "status",
            "url",
            "outputs",
            "nonsensitive_outputs",
        ] {
            assert_eq!(upgraded.attr(name), &Value::Null, "{name}");
        }
        assert_eq!(settings.options, RunOptions::default());
    }

    #[test]
    fn apply_variables_come_from_the_configuration_where_the_plan_has_none() {
        // Terraform 1.11 keeps the write-only variables out of the planned state.
        let block = |variables: Value| {
            Value::object([
                ("manual_confirm", Value::Bool(false)),
                ("variables", variables),
                (
                    "target_addrs",
                    Value::List(vec![Value::string("null_resource.a")]),
                ),
                ("refresh_only", Value::Bool(true)),
            ])
        };
        let state =
            |variables: Value| Value::object([("apply", Value::List(vec![block(variables)]))]);
        let configured = Value::Map(
            [("region".to_string(), Value::string("\"eu\""))]
                .into_iter()
                .collect(),
        );
        let planned = WorkspaceRunModel::with_defaults(&state(Value::Null));
        let settings = planned
            .apply_settings_with_variables_of(&state(configured))
            .unwrap();
        assert_eq!(
            settings.options.variables,
            [("region".to_string(), "\"eu\"".to_string())]
        );
        assert_eq!(settings.options.target_addrs, ["null_resource.a"]);
        assert!(settings.options.refresh_only && !settings.options.allow_empty_apply);
        assert!(settings.retry, "defaults still apply");
    }
}
