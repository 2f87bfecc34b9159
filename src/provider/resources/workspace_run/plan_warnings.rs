//! Plan-time warnings of `tfe_workspace_run` (hashicorp/tfe#1535): a plan that removes or replaces an
//! instance whose state has a `destroy` block says, before anything happens, that applying it queues
//! a destroy run of the workspace. Nothing is said when no destroy run will be queued. Planning stays
//! offline, so the warning cannot know whether the instance's apply succeeded (only then is the
//! destroy armed); it says so.

use super::messages;
use super::model::WorkspaceRunModel;
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
    fn no_destroy_block_no_warning() {
        let mut diags = Diagnostics::new();
        warn_destroy_run(&state(false), Change::Removal, &mut diags);
        warn_destroy_run(&Value::Null, Change::Replacement, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
    }
}
