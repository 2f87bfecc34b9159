//! Plan-time warnings of `tfe_workspace_run`, so that a plan says which runs applying it queues:
//! - a plan that removes or replaces an instance whose state has a `destroy` block says that applying it
//!   queues a destroy run of the workspace (hashicorp/tfe#1535). Nothing is said when no destroy run will
//!   be queued. Planning stays offline, so the warning cannot know whether the instance's apply succeeded
//!   (only then is the destroy armed); it says so.
//! - a plan that updates an instance in place and queues an apply run (`triggers` changed, an apply block
//!   added) says so, and why; one that changes `triggers` without an apply block says nothing is queued.

use super::messages;
use super::model::WorkspaceRunModel;
use super::rerun::Update;
use tfplugin::{Diagnostics, Value};

/// What the plan does to the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Change {
    Removal,
    Replacement,
}

/// Adds the warning when `prior` (the stored state) has an armed `destroy` block.
pub(super) fn warn_destroy_run(prior: &Value, change: Change, diags: &mut Diagnostics) {
    if prior.is_null() {
        return;
    }
    let resource = WorkspaceRunModel::with_defaults(prior);
    if resource.destroy.is_empty() {
        return;
    }
    messages::destroy_run_ahead(
        change == Change::Replacement,
        resource.workspace_id(),
        diags,
    );
}

/// Adds the warning of an in-place update of the instance in `workspace_id`, when it queues (or may queue)
/// an apply run or when its `triggers` change queues nothing.
pub(super) fn warn_update(update: &Update, workspace_id: &str, diags: &mut Diagnostics) {
    match update {
        Update::Store => {}
        Update::Rerun(reason) => messages::apply_run_ahead(reason, workspace_id, diags),
        Update::MaybeRerun => messages::apply_run_maybe(workspace_id, diags),
        Update::TriggersWithoutApply => messages::triggers_without_apply(workspace_id, diags),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(destroy: bool) -> Value {
        let block = Value::object([
            ("manual_confirm", Value::Bool(false)),
            ("message", Value::string("")),
            ("retry", Value::Bool(true)),
            ("retry_attempts", Value::int(3)),
            ("retry_backoff_min", Value::int(1)),
            ("retry_backoff_max", Value::int(30)),
            ("wait_for_run", Value::Bool(true)),
        ]);
        Value::object([
            ("id", Value::string("run-1")),
            ("workspace_id", Value::string("ws-abc")),
            ("apply", Value::List(vec![block.clone()])),
            (
                "destroy",
                Value::List(if destroy { vec![block] } else { Vec::new() }),
            ),
            ("timeouts", Value::Null),
        ])
    }

    #[test]
    fn armed_destroy_warns_naming_the_workspace() {
        for change in [Change::Removal, Change::Replacement] {
            let mut diags = Diagnostics::new();
            warn_destroy_run(&state(true), change, &mut diags);
            assert_eq!(diags.0.len(), 1, "{diags:?}");
            assert!(!diags.has_errors());
            assert!(diags.0[0].detail.contains("workspace ws-abc"), "{diags:?}");
        }
    }

    #[test]
    fn a_rerun_warns_naming_the_workspace_and_why() {
        let mut diags = Diagnostics::new();
        let reason = messages::RerunReason::Triggers(vec!["version".into()]);
        warn_update(&Update::Rerun(reason), "ws-abc", &mut diags);
        assert_eq!(diags.0.len(), 1, "{diags:?}");
        assert_eq!(diags.0[0].summary, "Apply run will be queued");
        assert!(
            diags.0[0].detail.contains("workspace ws-abc")
                && diags.0[0].detail.contains("triggers changed (version)")
                && diags.0[0].detail.contains("no destroy run"),
            "{diags:?}"
        );
        let mut diags = Diagnostics::new();
        warn_update(&Update::Store, "ws-abc", &mut diags);
        assert!(diags.is_empty());
    }

    #[test]
    fn no_destroy_block_no_warning() {
        let mut diags = Diagnostics::new();
        warn_destroy_run(&state(false), Change::Removal, &mut diags);
        warn_destroy_run(&Value::Null, Change::Replacement, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
    }
}
