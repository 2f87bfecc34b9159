//! What a run did, handed back in the computed attributes (the official resource returns only `id`): its
//! final `status`, its `url`, `has_changes` and the plan's resource counts, and the workspace's state outputs
//! after it (`outputs`, `nonsensitive_outputs`), read once the server has processed them
//! (hashicorp/terraform-provider-tfe#578: a read straight after "applied" can be stale).
//!
//! After a run this provider waited for: one read of the run with its plan, then the outputs through
//! [`processed_outputs`]. A run queued without waiting has only its status and URL until a refresh finds it
//! ended ([`refresh`]). Nothing here fails the apply: the run succeeded, and failing now would taint the
//! instance, whose replacement would queue runs (a destroy among them) for nothing. What could not be read is
//! null, said in a warning, and filled in by the next refresh.

use std::time::Duration;

use tfe_client::{Plan, RunStatus, RunWithIncludes, TfeClient, Workspace};
use tfplugin::{Diagnostics, Value};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::lifecycle::{Ended, RunOutcome, guarded};
use super::messages;
use crate::provider::api_errors::explain;
use crate::provider::outputs::{OutputValues, WaitError, output_values, processed_outputs};

/// The longest wait for the server to process the outputs when the timeouts block sets a longer limit or
/// none (HCP Terraform takes seconds; a state that is never processed must not hold the apply for ever).
pub(super) const OUTPUTS_WAIT: Duration = Duration::from_secs(600);

/// The computed attributes that say what the run did.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct RunReport {
    pub status: Option<String>,
    pub url: Option<String>,
    pub has_changes: Option<bool>,
    pub counts: Option<PlanCounts>,
    pub outputs: Option<OutputValues>,
}

/// The plan's resource counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PlanCounts {
    pub additions: i64,
    pub changes: i64,
    pub destructions: i64,
}

impl PlanCounts {
    fn of(plan: &Plan) -> PlanCounts {
        let attributes = &plan.attributes;
        PlanCounts {
            additions: attributes.resource_additions.into(),
            changes: attributes.resource_changes.into(),
            destructions: attributes.resource_destructions.into(),
        }
    }
}

/// The attributes [`RunReport`] fills, all null: an instance that queued no run.
pub(super) const ATTRIBUTES: [&str; 8] = [
    "status",
    "url",
    "has_changes",
    "resource_additions",
    "resource_changes",
    "resource_destructions",
    "outputs",
    "nonsensitive_outputs",
];

impl RunReport {
    /// Sets the report's attributes on `state`; what it does not know is null.
    pub(super) fn write_to(&self, state: &mut Value) {
        let string = |s: &Option<String>| s.as_deref().map_or(Value::Null, Value::string);
        state.set_attr("status", string(&self.status));
        state.set_attr("url", string(&self.url));
        state.set_attr(
            "has_changes",
            self.has_changes.map_or(Value::Null, Value::Bool),
        );
        let count = |pick: fn(&PlanCounts) -> i64| {
            self.counts
                .as_ref()
                .map_or(Value::Null, |c| Value::int(pick(c)))
        };
        state.set_attr("resource_additions", count(|c| c.additions));
        state.set_attr("resource_changes", count(|c| c.changes));
        state.set_attr("resource_destructions", count(|c| c.destructions));
        let (all, nonsensitive) = match &self.outputs {
            Some(outputs) => (outputs.all.clone(), outputs.nonsensitive.clone()),
            None => (Value::Null, Value::Null),
        };
        state.set_attr("outputs", all);
        state.set_attr("nonsensitive_outputs", nonsensitive);
    }
}

/// What the run of `outcome` did. Waits for the outputs within `deadline` (the timeouts block's) and at
/// most [`OUTPUTS_WAIT`]; what could not be read is left out with a warning in `diags`.
pub(super) async fn after_run(
    client: &TfeClient,
    workspace_id: &str,
    outcome: &RunOutcome,
    url: String,
    stop: &CancellationToken,
    deadline: Option<Instant>,
    diags: &mut Diagnostics,
) -> RunReport {
    let mut report = RunReport {
        status: Some(outcome.status.to_string()),
        url: Some(url),
        ..RunReport::default()
    };
    if outcome.success.is_none() {
        // Queued without waiting: the plan and the outputs are not there yet.
        return report;
    }
    let run_id = &outcome.run_id;
    match guarded(stop, deadline, client.run_with_includes(run_id, &["plan"])).await {
        Ok(Ok(read)) => report.take_run(&read),
        Ok(Err(e)) => messages::run_details_unread(run_id, &explain(&e), diags),
        Err(ended) => messages::run_details_unread(run_id, ended_why(ended), diags),
    }
    let limit = Instant::now() + OUTPUTS_WAIT;
    let until = deadline.map_or(limit, |at| at.min(limit));
    report.outputs = match processed_outputs(client, workspace_id, stop, Some(until)).await {
        Ok(Some(current)) => match output_values(&current.outputs) {
            Ok(values) => Some(values),
            Err(e) => {
                messages::outputs_unread(workspace_id, &e.to_string(), diags);
                None
            }
        },
        // No state version: the workspace has no outputs.
        Ok(None) => Some(OutputValues::empty()),
        Err(WaitError::Api(e)) => {
            messages::outputs_unread(workspace_id, &explain(&e), diags);
            None
        }
        Err(e @ (WaitError::Stopped | WaitError::TimedOut { .. })) => {
            messages::outputs_unread(workspace_id, &e.to_string(), diags);
            None
        }
    };
    report
}

fn ended_why(ended: Ended) -> &'static str {
    match ended {
        Ended::Stopped => messages::STOP_REQUESTED,
        Ended::TimedOut => messages::TIMEOUT_PASSED,
    }
}

impl RunReport {
    /// The status, `has_changes` and the plan's counts from a read of the run with its plan; `has_changes`
    /// and the counts only once the plan is done.
    fn take_run(&mut self, read: &RunWithIncludes) {
        let run = &read.run;
        self.status = Some(run.status().to_string());
        let plan = run
            .plan_id()
            .and_then(|id| read.included::<Plan>("plans", id));
        let planned = plan
            .as_ref()
            .is_some_and(|p| p.attributes.status.as_str() == "finished");
        if planned || run.status().is_final() {
            self.has_changes = Some(
                plan.as_ref()
                    .and_then(|p| p.attributes.has_changes)
                    .unwrap_or(run.attributes.has_changes),
            );
        }
        if planned {
            self.counts = plan.as_ref().map(PlanCounts::of);
        }
    }
}

/// A refresh of an instance whose `state` records run `read`: the status, `has_changes` and counts from the
/// read (one request, which the refresh made anyway), the URL from the included workspace, and, once the run
/// ended well, the workspace's outputs if the state has none yet (state from before this provider handed
/// them back, an import, a run queued without waiting). Outputs not processed yet are left for the next
/// refresh; a failure to read them only logs.
pub(super) async fn refresh(client: &TfeClient, state: &mut Value, read: &RunWithIncludes) {
    let mut report = RunReport::default();
    report.take_run(read);
    let run = &read.run;
    let workspace = run
        .workspace_id()
        .and_then(|id| read.included::<Workspace>("workspaces", id));
    let url = workspace.as_ref().and_then(|ws| {
        let organization = ws.organization_name()?;
        Some(client.run_url(organization, &ws.attributes.name, &run.id))
    });
    let keep = |name: &str, fresh: Value, state: &Value| {
        if fresh.is_null() {
            state.attr(name).clone()
        } else {
            fresh
        }
    };
    let mut fresh = state.clone();
    report.write_to(&mut fresh);
    for name in [
        "status",
        "has_changes",
        "resource_additions",
        "resource_changes",
        "resource_destructions",
    ] {
        let value = keep(name, fresh.attr(name).clone(), state);
        state.set_attr(name, value);
    }
    if let Some(url) = url {
        state.set_attr("url", Value::string(url));
    }
    let succeeded = matches!(
        run.status(),
        RunStatus::Applied | RunStatus::PlannedAndFinished
    );
    let workspace_id = run.workspace_id().unwrap_or_default();
    if succeeded && state.attr("outputs").is_null() && !workspace_id.is_empty() {
        match client.current_outputs(workspace_id).await {
            Ok(Some(current)) if current.processed() => {
                if let Ok(values) = output_values(&current.outputs) {
                    state.set_attr("outputs", values.all);
                    state.set_attr("nonsensitive_outputs", values.nonsensitive);
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => {
                let empty = OutputValues::empty();
                state.set_attr("outputs", empty.all);
                state.set_attr("nonsensitive_outputs", empty.nonsensitive);
            }
            Err(e) => tracing::warn!(
                "could not read the outputs of workspace {workspace_id} while refreshing: {e}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(status: &str, plan_status: &str) -> RunWithIncludes {
        let run = serde_json::from_value(json!({
            "id": "run-1", "type": "runs",
            "attributes": {"status": status, "has-changes": true},
            "relationships": {"plan": {"data": {"id": "plan-1", "type": "plans"}}}
        }))
        .unwrap();
        RunWithIncludes {
            run,
            included: vec![json!({
                "id": "plan-1", "type": "plans",
                "attributes": {"status": plan_status, "has-changes": true, "resource-additions": 2,
                               "resource-changes": 1, "resource-destructions": 0}
            })],
        }
    }

    #[test]
    fn a_finished_plan_gives_the_counts_and_an_unfinished_one_nothing() {
        let mut report = RunReport::default();
        report.take_run(&read("applied", "finished"));
        assert_eq!(report.status.as_deref(), Some("applied"));
        assert_eq!(report.has_changes, Some(true));
        assert_eq!(
            report.counts,
            Some(PlanCounts {
                additions: 2,
                changes: 1,
                destructions: 0
            })
        );

        let mut report = RunReport::default();
        report.take_run(&read("planning", "running"));
        assert_eq!(report.status.as_deref(), Some("planning"));
        assert_eq!(report.has_changes, None);
        assert_eq!(report.counts, None);
    }

    #[test]
    fn unknown_parts_are_written_as_null() {
        let mut state = Value::object([("id", Value::string("run-1"))]);
        RunReport {
            status: Some("applied".into()),
            ..RunReport::default()
        }
        .write_to(&mut state);
        assert_eq!(state.attr("status"), &Value::string("applied"));
        for name in &ATTRIBUTES[1..] {
            assert_eq!(state.attr(name), &Value::Null, "{name}");
        }
    }
}
