//! What a run did, handed back in the computed attributes (the official resource returns only `id`): its
//! final `status`, its `url`, `has_changes` and the plan's resource counts, and the workspace's state outputs
//! after it (`outputs`, `nonsensitive_outputs`), read once the server has processed them
//! (hashicorp/terraform-provider-tfe#578: a read straight after "applied" can be stale).
//!
//! After a run this provider waited for: when many runs end together, one page of their organization's
//! workspace list answers for up to 100 of them ([`RunResults`]); otherwise, or for what the page cannot
//! say (a sensitive or structured output, whose value or type only the state version has), one read of
//! the run with its plan, then the outputs through [`processed_outputs`]. A run queued without waiting has only its status and URL until a refresh finds it
//! ended ([`refresh`]). Nothing here fails the apply: the run succeeded, and failing now would taint the
//! instance, whose replacement would queue runs (a destroy among them) for nothing. What could not be read is
//! null, said in a warning, and filled in by the next refresh.

use std::time::Duration;

use tfe_client::{
    OutputValue, Plan, Run, RunStatus, RunWithIncludes, TfeClient, Workspace, WorkspaceResults,
};
use tfplugin::{Diagnostics, Value};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::lifecycle::{Ended, RunOutcome, guarded};
use super::messages;
use super::run_results::RunResults;
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
#[allow(clippy::too_many_arguments)]
pub(super) async fn after_run(
    client: &TfeClient,
    results: &RunResults<TfeClient>,
    organization: &str,
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
    let listed = guarded(stop, deadline, results.read(organization, workspace_id))
        .await
        .ok()
        .flatten()
        .filter(|listed| {
            listed.current_run.as_ref().is_some_and(|run| {
                &run.id == run_id && run.status().is_final() && listed.current_plan.is_some()
            })
        });
    if let Some(listed) = &listed {
        let run = listed.current_run.as_ref().expect("filtered");
        report.take_run_and_plan(run, listed.current_plan.as_ref());
        if let Some(outputs) = listed_outputs(listed) {
            report.outputs = Some(outputs);
            return report;
        }
    } else {
        match guarded(stop, deadline, client.run_with_includes(run_id, &["plan"])).await {
            Ok(Ok(read)) => report.take_run(&read),
            Ok(Err(e)) => messages::run_details_unread(run_id, &explain(&e), diags),
            Err(ended) => messages::run_details_unread(run_id, ended_why(ended), diags),
        }
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
        let plan = read
            .run
            .plan_id()
            .and_then(|id| read.included::<Plan>("plans", id));
        self.take_run_and_plan(&read.run, plan.as_ref());
    }

    /// The same from a run and its plan, however they were read.
    fn take_run_and_plan(&mut self, run: &Run, plan: Option<&Plan>) {
        self.status = Some(run.status().to_string());
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
            self.counts = plan.map(PlanCounts::of);
        }
    }
}

/// The outputs a workspace list page shows, when they are all the state version would give: processed,
/// none sensitive (a list leaves their values out) and each a string, number or bool (the JSON value
/// alone tells its Terraform type; a list's or an object's needs the state version's detailed type).
/// `None`: read the state version.
fn listed_outputs(listed: &WorkspaceResults) -> Option<OutputValues> {
    if listed.workspace.current_state_version_id().is_none() {
        // No state version: the workspace has no outputs.
        return Some(OutputValues::empty());
    }
    let state_version = listed.state_version.as_ref()?;
    if !state_version.attributes.resources_processed {
        return None;
    }
    let outputs = listed
        .outputs
        .as_ref()?
        .iter()
        .map(|output| {
            let output = &output.attributes;
            let type_name = match output.output_type.as_str() {
                "string" => "string",
                "number" => "number",
                "boolean" | "bool" => "bool",
                _ => return None,
            };
            (!output.sensitive).then(|| OutputValue {
                name: output.name.clone(),
                value: output.value.clone(),
                sensitive: false,
                detailed_type: Some(serde_json::Value::String(type_name.into())),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    output_values(&outputs).ok()
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

    /// A workspace as a results page shows it, with a processed state version and `outputs`:
    /// `(name, output-type, value, sensitive)`.
    fn listed(outputs: &[(&str, &str, serde_json::Value, bool)]) -> WorkspaceResults {
        let ids: Vec<_> = (0..outputs.len())
            .map(|i| json!({"id": format!("wsout-{i}"), "type": "workspace-outputs"}))
            .collect();
        WorkspaceResults {
            workspace: serde_json::from_value(json!({
                "id": "ws-1", "type": "workspaces", "attributes": {"name": "one"},
                "relationships": {
                    "current-state-version": {"data": {"id": "sv-1", "type": "state-versions"}},
                    "outputs": {"data": ids}
                }
            }))
            .unwrap(),
            current_run: None,
            current_plan: None,
            state_version: Some(
                serde_json::from_value(json!({"id": "sv-1", "type": "state-versions",
                    "attributes": {"resources-processed": true}}))
                .unwrap(),
            ),
            outputs: Some(
                outputs
                    .iter()
                    .enumerate()
                    .map(|(i, (name, kind, value, sensitive))| {
                        serde_json::from_value(json!({
                            "id": format!("wsout-{i}"), "type": "workspace-outputs",
                            "attributes": {"name": name, "output-type": kind, "value": value,
                                           "sensitive": sensitive}
                        }))
                        .unwrap()
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn a_page_answers_for_plain_outputs_and_leaves_the_rest_to_the_state_version() {
        let plain = listed(&[
            ("endpoint", "string", json!("https://k8s"), false),
            ("nodes", "number", json!(3), false),
            ("ready", "boolean", json!(true), false),
        ]);
        let values = listed_outputs(&plain).expect("plain outputs come from the page");
        let shown = &values.nonsensitive;
        assert_eq!(shown.attr("nodes"), &Value::int(3));
        assert_eq!(shown.attr("endpoint"), &Value::string("https://k8s"));
        assert_eq!(shown.attr("ready"), &Value::Bool(true));

        // A sensitive value is not in a list; a list's type (list or tuple?) only the state version says.
        let secret = listed(&[("token", "string", serde_json::Value::Null, true)]);
        assert!(listed_outputs(&secret).is_none());
        let zones = listed(&[("zones", "array", json!(["a", "b"]), false)]);
        assert!(listed_outputs(&zones).is_none());

        // Not processed yet: the wait reads the state version.
        let mut unprocessed = listed(&[]);
        unprocessed
            .state_version
            .as_mut()
            .unwrap()
            .attributes
            .resources_processed = false;
        assert!(listed_outputs(&unprocessed).is_none());

        // No state version at all: no outputs.
        let mut stateless = listed(&[]);
        stateless
            .workspace
            .relationships
            .remove("current-state-version");
        stateless.state_version = None;
        assert_eq!(listed_outputs(&stateless), Some(OutputValues::empty()));
    }
}
