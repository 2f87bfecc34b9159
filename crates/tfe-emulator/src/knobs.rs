//! Behaviour knobs: per-organization and per-workspace settings that shape how runs behave.
//! Every field is optional; the effective value is workspace, else organization, else the server default.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How plans (or applies) turn out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Plan with changes / apply succeeds.
    Changes,
    /// Plan finds nothing to change (plans only).
    NoChanges,
    /// Every run errors.
    Error,
    /// The first N runs under this setting error, later ones succeed.
    ErrorFirstN(u32),
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "changes" | "ok" | "success" => Ok(Outcome::Changes),
            "no_changes" => Ok(Outcome::NoChanges),
            "error" => Ok(Outcome::Error),
            other => other
                .strip_prefix("error_first_n:")
                .and_then(|n| n.parse().ok())
                .map(Outcome::ErrorFirstN)
                .ok_or_else(|| format!("unknown outcome {other:?}; allowed: changes, no_changes, error, error_first_n:N")),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Changes => f.write_str("changes"),
            Outcome::NoChanges => f.write_str("no_changes"),
            Outcome::Error => f.write_str("error"),
            Outcome::ErrorFirstN(n) => write!(f, "error_first_n:{n}"),
        }
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Sentinel policy result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyMode {
    /// No policy check.
    None,
    /// Every policy passes.
    Pass,
    /// An advisory policy fails: the check passes with one advisory failure and the run goes on.
    AdvisoryFail,
    /// A mandatory policy fails: the run stops at `policy_override` until someone overrides it.
    SoftFail,
    /// A hard-mandatory policy fails: the run errors.
    HardFail,
}

/// A post-plan run task's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskMode {
    /// No run task stage.
    None,
    /// The stage passes.
    Pass,
    /// The stage fails and the run errors.
    FailMandatory,
    /// The stage fails but the run goes on.
    FailAdvisory,
}

/// A set of knobs; unset fields fall through to the next level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Knobs {
    /// Milliseconds a plan runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_ms: Option<u64>,
    /// Milliseconds an apply runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_ms: Option<u64>,
    /// Milliseconds a cost estimate runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_estimate_ms: Option<u64>,
    /// Milliseconds a policy check runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_check_ms: Option<u64>,
    /// How long a cancel of a planning/applying run takes to stop it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_ms: Option<u64>,
    /// A cancel never completes, so only force-cancel ends the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_stuck: Option<bool>,
    /// Time between a cancel and force-cancel becoming available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_cancel_cooloff_ms: Option<u64>,
    /// How plans end: success, changes or none, errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_outcome: Option<Outcome>,
    /// How applies end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_outcome: Option<Outcome>,
    /// The Sentinel policy result of every run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyMode>,
    /// Whether runs get a cost estimate; unset follows the organization's cost-estimation-enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_estimation: Option<bool>,
    /// A post-plan run task stage on every run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_plan_task: Option<TaskMode>,
    /// Milliseconds a run task stage runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_ms: Option<u64>,
    /// Resources a plan with changes adds / changes / destroys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_additions: Option<u32>,
    /// Resources a plan with changes changes in place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_changes: Option<u32>,
    /// Resources a plan with changes destroys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_destructions: Option<u32>,
    /// Organization only: how many runs execute at once (plans and applies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Run logs (`log-read-url`): the plan log's text instead of the generated one, with placeholders
    /// (see [`crate::logs`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_log_template: Option<String>,
    /// The apply log's text instead of the generated one, with the same placeholders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_log_template: Option<String>,
    /// The summary line of the `Error:` block an errored plan or apply logs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Root module outputs (name to JSON value) an apply writes into the workspace's state version, which the
    /// logs show as `terraform apply` prints them; a `null` value is no output, as in Terraform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outputs: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    /// Names of `outputs` the configuration marks `sensitive = true`: the state records them so, lists show their
    /// value as `null` and the logs as `<sensitive>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitive_outputs: Option<Vec<String>>,
    /// Milliseconds after a state version is written before its outputs are extracted: until then
    /// `resources-processed` is false, its outputs are empty and the workspace's current outputs answer 503.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_processing_ms: Option<u64>,
    /// Terraform variables the workspace's configuration declares without a default: a plan errors, as
    /// Terraform's "No value for required variable", unless a workspace variable (category `terraform`, or
    /// `env` named `TF_VAR_<name>`) or the run's own `variables` set each.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_variables: Option<Vec<String>>,
    /// Milliseconds a new configuration version takes to arrive: a VCS workspace's stays `fetching`, an
    /// uploaded one `pending` after its upload, that long before it is `uploaded`. A run whose plan starts
    /// before then errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration_upload_ms: Option<u64>,
    /// Organization: what `GET /organizations/:org/entitlement-set` grants (unset entitlements are true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entitlements: Option<Entitlements>,
}

/// The entitlement set's booleans, by their API names with underscores; unset ones are granted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entitlements {
    /// Agent pools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agents: Option<bool>,
    /// The audit trail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_logging: Option<bool>,
    /// Cost estimation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_estimation: Option<bool>,
    /// Remote operations (runs); `false` is what Terraform's backends check before planning remotely.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<bool>,
    /// The private module registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_module_registry: Option<bool>,
    /// Single sign-on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso: Option<bool>,
    /// Sentinel policies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentinel: Option<bool>,
    /// Remote state storage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_storage: Option<bool>,
    /// Teams.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teams: Option<bool>,
    /// VCS connections (OAuth clients).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vcs_integrations: Option<bool>,
    /// The no-code configuration designer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration_designer: Option<bool>,
    /// Run tasks for every workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_run_tasks: Option<bool>,
    /// Generated module tests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_tests_generation: Option<bool>,
    /// Policy sets and their enforcement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_enforcement: Option<bool>,
    /// Policy checks on agents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_policy_agents: Option<bool>,
    /// Run tasks through agents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_run_tasks: Option<bool>,
    /// VCS providers through agents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_vcs: Option<bool>,
    /// Run tasks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_tasks: Option<bool>,
    /// Billing the organization manages itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub self_serve_billing: Option<bool>,
    /// Usage reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_reporting: Option<bool>,
}

impl Entitlements {
    /// `(API attribute name, granted)` for every entitlement.
    pub fn attributes(&self) -> Vec<(&'static str, bool)> {
        let on = |v: Option<bool>| v.unwrap_or(true);
        vec![
            ("agents", on(self.agents)),
            ("audit-logging", on(self.audit_logging)),
            ("cost-estimation", on(self.cost_estimation)),
            ("operations", on(self.operations)),
            ("private-module-registry", on(self.private_module_registry)),
            ("sso", on(self.sso)),
            ("sentinel", on(self.sentinel)),
            ("state-storage", on(self.state_storage)),
            ("teams", on(self.teams)),
            ("vcs-integrations", on(self.vcs_integrations)),
            ("configuration-designer", on(self.configuration_designer)),
            ("global-run-tasks", on(self.global_run_tasks)),
            ("module-tests-generation", on(self.module_tests_generation)),
            ("policy-enforcement", on(self.policy_enforcement)),
            ("private-policy-agents", on(self.private_policy_agents)),
            ("private-run-tasks", on(self.private_run_tasks)),
            ("private-vcs", on(self.private_vcs)),
            ("run-tasks", on(self.run_tasks)),
            ("self-serve-billing", on(self.self_serve_billing)),
            ("usage-reporting", on(self.usage_reporting)),
        ]
    }
}

impl Knobs {
    /// The server defaults: small durations so tests run fast.
    pub fn defaults() -> Knobs {
        Knobs {
            plan_ms: Some(300),
            apply_ms: Some(300),
            cost_estimate_ms: Some(100),
            policy_check_ms: Some(100),
            cancel_ms: Some(100),
            cancel_stuck: Some(false),
            force_cancel_cooloff_ms: Some(1000),
            plan_outcome: Some(Outcome::Changes),
            apply_outcome: Some(Outcome::Changes),
            policy: Some(PolicyMode::None),
            cost_estimation: None,
            post_plan_task: Some(TaskMode::None),
            task_ms: Some(100),
            resource_additions: Some(1),
            resource_changes: Some(0),
            resource_destructions: Some(0),
            concurrency: Some(10),
            plan_log_template: None,
            apply_log_template: None,
            error_message: None,
            outputs: None,
            sensitive_outputs: None,
            state_processing_ms: Some(0),
            required_variables: None,
            configuration_upload_ms: Some(0),
            entitlements: None,
        }
    }

    /// Fields set in `other` replace ours.
    pub fn merge(&mut self, other: &Knobs) {
        macro_rules! take {
            ($($f:ident),*) => { $( if other.$f.is_some() { self.$f = other.$f.clone(); } )* };
        }
        take!(
            plan_ms,
            apply_ms,
            cost_estimate_ms,
            policy_check_ms,
            cancel_ms,
            cancel_stuck,
            force_cancel_cooloff_ms,
            plan_outcome,
            apply_outcome,
            policy,
            cost_estimation,
            post_plan_task,
            task_ms,
            resource_additions,
            resource_changes,
            resource_destructions,
            concurrency,
            plan_log_template,
            apply_log_template,
            error_message,
            outputs,
            sensitive_outputs,
            state_processing_ms,
            required_variables,
            configuration_upload_ms,
            entitlements
        );
    }
}

/// Counts errors served under an `error_first_n` outcome; reset whenever the knob is set again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCounters {
    /// Plans errored so far.
    pub plans_errored: u32,
    /// Applies errored so far.
    pub applies_errored: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_parses_and_rejects_unknown() {
        assert_eq!(
            "error_first_n:2".parse::<Outcome>(),
            Ok(Outcome::ErrorFirstN(2))
        );
        assert_eq!("no_changes".parse::<Outcome>(), Ok(Outcome::NoChanges));
        let err = "sometimes".parse::<Outcome>().unwrap_err();
        assert!(err.contains("allowed"), "{err}");
        let mode: PolicyMode = serde_json::from_str("\"advisory_fail\"").unwrap();
        assert_eq!(mode, PolicyMode::AdvisoryFail);
    }

    #[test]
    fn merge_prefers_the_more_specific_level() {
        let mut k = Knobs::defaults();
        k.merge(&Knobs {
            plan_ms: Some(5),
            ..Default::default()
        });
        assert_eq!(k.plan_ms, Some(5));
        assert_eq!(k.apply_ms, Some(300));
    }
}
