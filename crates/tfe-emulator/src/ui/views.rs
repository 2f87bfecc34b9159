//! What the page shows, as JSON built from the store: the overview (organizations, workspaces, their runs)
//! and one run in detail (timeline, logs, actions).

use serde_json::{Value, json};
use tfe_client::models::{PolicyCheckStatus, RunStatus};

use crate::logs;
use crate::run_machine;
use crate::store::{Lock, Phase, PhaseKind, Run, Store, Workspace, now, timestamp};

/// Statuses in the order a run passes through them, so that steps stamped in the same millisecond keep it.
const ORDER: &[&str] = &[
    "pending",
    "plan_queued",
    "planning",
    "planned",
    "post_plan_running",
    "post_plan_completed",
    "cost_estimating",
    "cost_estimated",
    "policy_checking",
    "policy_override",
    "policy_checked",
    "confirmed",
    "apply_queued",
    "applying",
    "applied",
    "planned_and_finished",
    "policy_soft_failed",
    "discarded",
    "errored",
    "canceled",
    "force_canceled",
];

pub(super) fn workspace_lock(ws: &Workspace) -> Value {
    let lock = match &ws.lock {
        None => Value::Null,
        Some(Lock::Run(id)) => json!({"kind": "run", "by": id}),
        Some(Lock::User { user_id, reason }) => {
            json!({"kind": "user", "by": user_id, "reason": reason, "mine": user_id == super::UI_USER})
        }
    };
    json!({"id": ws.id, "name": ws.name, "locked": ws.lock.is_some(), "lock": lock})
}

fn run_summary(r: &Run) -> Value {
    json!({"id": r.id, "status": r.status.as_str(), "message": r.message, "is_destroy": r.is_destroy,
        "plan_only": r.plan_only, "created_at": timestamp(r.created_at), "created_by": r.created_by,
        "additions": r.plan.additions, "changes": r.plan.changes, "destructions": r.plan.destructions})
}

pub(super) fn overview(store: &Store, base_url: &str) -> Value {
    let organizations: Vec<Value> = store
        .organizations
        .values()
        .map(|o| {
            let workspaces: Vec<Value> = store
                .workspaces
                .values()
                .filter(|w| w.organization == o.name)
                .map(|w| {
                    let mut runs: Vec<&Run> = store
                        .runs
                        .values()
                        .filter(|r| r.workspace_id == w.id)
                        .collect();
                    runs.sort_by_key(|r| std::cmp::Reverse(r.seq));
                    let mut v = workspace_lock(w);
                    v["resource_count"] = json!(w.resource_count);
                    v["auto_apply"] = json!(w.auto_apply);
                    v["terraform_version"] = json!(w.terraform_version);
                    v["execution_mode"] = json!(w.execution_mode);
                    v["vcs"] = json!(w.vcs_repo.as_ref().map(|r| r.identifier.clone()));
                    v["current_run"] = json!(w.current_run);
                    v["runs"] = runs.into_iter().map(run_summary).collect();
                    v
                })
                .collect();
            json!({"name": o.name, "email": o.email, "workspaces": workspaces})
        })
        .collect();
    json!({"organizations": organizations, "api": format!("{base_url}/api/v2/"), "now": timestamp(now())})
}

/// The run's steps in the order they happened: `[{status, at}]`.
fn timeline(r: &Run) -> Vec<Value> {
    let mut steps: Vec<(String, usize, String)> = r
        .timestamps
        .iter()
        .filter_map(|(key, at)| {
            let name = key.strip_suffix("-at")?.replace('-', "_");
            let name = if name == "plan_queueable" {
                "pending".to_string()
            } else {
                name
            };
            let rank = ORDER.iter().position(|s| *s == name).unwrap_or(ORDER.len());
            Some((at.clone(), rank, name))
        })
        .collect();
    steps.sort();
    steps
        .into_iter()
        .map(|(at, _, status)| json!({"status": status, "at": at}))
        .collect()
}

fn phase(store: &Store, r: &Run, p: &Phase, kind: PhaseKind) -> Value {
    let bytes = logs::log_bytes(store, r, kind);
    let complete = bytes.last() == Some(&logs::ETX);
    let text: String = String::from_utf8_lossy(&bytes)
        .chars()
        .filter(|c| *c != '\u{2}' && *c != '\u{3}')
        .collect();
    json!({"status": p.status.as_str(), "additions": p.additions, "changes": p.changes,
        "destructions": p.destructions, "log": text, "log_complete": complete,
        "log_read_url": p.log_read_url, "status_timestamps": p.timestamps})
}

pub(super) fn run_detail(store: &Store, r: &Run) -> Value {
    let actions = run_machine::actions(r, now());
    let overridable = r.status == RunStatus::PolicyOverride
        && r.policy_check
            .as_ref()
            .is_some_and(|p| p.status == PolicyCheckStatus::SoftFailed);
    let ws = store.workspaces.get(&r.workspace_id);
    json!({
        "run": run_summary(r),
        "organization": r.organization,
        "workspace": ws.map(workspace_lock),
        "auto_apply": r.auto_apply,
        "has_changes": r.has_changes,
        "source": r.source,
        "actions": {
            "apply": actions.is_confirmable,
            "discard": actions.is_discardable,
            "cancel": actions.is_cancelable,
            "force_cancel": actions.is_force_cancelable,
            "override_policy": overridable,
        },
        "cancel_requested": r.cancel_requested,
        "force_cancel_available_at": r.force_cancel_available_at.map(timestamp),
        "timeline": timeline(r),
        "plan": phase(store, r, &r.plan, PhaseKind::Plan),
        "apply": phase(store, r, &r.apply, PhaseKind::Apply),
        "cost_estimate": r.cost_estimate.as_ref().map(|c| json!({"status": c.status})),
        "policy_check": r.policy_check.as_ref().map(|p| json!({"status": p.status.as_str()})),
        "task_stage": r.post_plan_task.as_ref().map(|t| json!({"status": t.status})),
    })
}
