//! Re-running in place (hashicorp/tfe#193, #258, #1605): when an update of an existing instance queues a
//! new apply run instead of doing nothing remote. Two changes do:
//! - `triggers` changed: a value of it was added, changed or removed. As with `replace_triggered_by`,
//!   adding the argument where there was none (or removing it) is not a change of its values: an instance
//!   from before `triggers` existed, or imported, does not re-run the moment `triggers` appears;
//! - an apply block was added to an instance whose apply never ran (it records no run: a destroy-only
//!   instance). An instance that records a run (imported, or whose apply block was removed and comes back)
//!   has had its apply.
//!
//! Plan and apply both ask [`planned_update`]: the plan to say so and leave what the run will hand back
//! unknown, the apply (on known values) to queue the run.

use std::collections::BTreeMap;

use tfplugin::Value;

use super::messages::RerunReason;
use super::report;

/// What applying an update of the instance does remotely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Update {
    /// Nothing: the new values are stored.
    Store,
    /// A new apply run is queued and recorded.
    Rerun(RerunReason),
    /// `triggers` is known only at apply: a run is queued then if it changed.
    MaybeRerun,
    /// `triggers` changed but there is no apply block: nothing to queue, the values are stored.
    TriggersWithoutApply,
}

/// Compares the stored state with the planned one (an update: neither null).
pub(super) fn planned_update(prior: &Value, planned: &Value) -> Update {
    let has_apply = |state: &Value| !state.attr("apply").elements().is_empty();
    let records_a_run = prior
        .attr("id")
        .as_str()
        .is_some_and(|id| id.starts_with("run-"));
    let (before, after) = (prior.attr("triggers"), planned.attr("triggers"));
    // The keys changed; `None` while the new value is not known.
    let changed = if !has_triggers(before) {
        // Added as a whole (or never there): no value of it changed.
        Some(Vec::new())
    } else if !after.is_wholly_known() {
        None
    } else if !has_triggers(after) {
        // Removed as a whole.
        Some(Vec::new())
    } else {
        Some(changed_keys(before, after))
    };
    match (has_apply(planned), changed) {
        (false, Some(keys)) if !keys.is_empty() => Update::TriggersWithoutApply,
        (false, _) => Update::Store,
        (true, _) if !has_apply(prior) && !records_a_run => {
            Update::Rerun(RerunReason::ApplyBlockAdded)
        }
        (true, None) => Update::MaybeRerun,
        (true, Some(keys)) if keys.is_empty() => Update::Store,
        (true, Some(keys)) => Update::Rerun(RerunReason::Triggers(keys)),
    }
}

/// Whether a `triggers` value holds at least one entry (null, unknown as a whole and `{}` do not).
fn has_triggers(triggers: &Value) -> bool {
    match triggers {
        Value::Map(m) | Value::Object(m) => !m.is_empty(),
        _ => false,
    }
}

/// The keys whose value differs between two `triggers` maps (added, changed or removed).
fn changed_keys(before: &Value, after: &Value) -> Vec<String> {
    let entries = |value: &Value| -> BTreeMap<String, Value> {
        match value {
            Value::Map(m) | Value::Object(m) => m.clone(),
            _ => BTreeMap::new(),
        }
    };
    let (before, after) = (entries(before), entries(after));
    let mut keys: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The attributes a re-run sets anew: unknown in its plan.
pub(super) fn mark_unknown(planned: &mut Value) {
    planned.set_attr("id", Value::Unknown);
    for name in report::ATTRIBUTES {
        planned.set_attr(name, Value::Unknown);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(apply: bool, triggers: Value) -> Value {
        Value::object([
            (
                "id",
                Value::string(if apply { "run-1" } else { "1234567890" }),
            ),
            ("workspace_id", Value::string("ws-1")),
            (
                "apply",
                Value::List(if apply {
                    vec![Value::object([("manual_confirm", Value::Bool(false))])]
                } else {
                    Vec::new()
                }),
            ),
            ("triggers", triggers),
        ])
    }

    fn map(pairs: &[(&str, &str)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::string(*v)))
                .collect(),
        )
    }

    #[test]
    fn a_changed_trigger_reruns_and_names_the_keys() {
        let prior = state(true, map(&[("version", "1"), ("same", "x")]));
        let planned = state(true, map(&[("version", "2"), ("same", "x"), ("new", "y")]));
        assert_eq!(
            planned_update(&prior, &planned),
            Update::Rerun(RerunReason::Triggers(vec!["new".into(), "version".into()]))
        );
        let removed = state(true, map(&[("same", "x")]));
        assert_eq!(
            planned_update(&prior, &removed),
            Update::Rerun(RerunReason::Triggers(vec!["version".into()]))
        );
    }

    #[test]
    fn the_same_triggers_or_none_store_only() {
        let prior = state(true, map(&[("version", "1")]));
        assert_eq!(planned_update(&prior, &prior.clone()), Update::Store);
        // Official state has no triggers: an empty map is no change.
        let official = state(true, Value::Null);
        assert_eq!(
            planned_update(&official, &state(true, map(&[]))),
            Update::Store
        );
        assert_eq!(planned_update(&official, &official.clone()), Update::Store);
    }

    #[test]
    fn adding_or_removing_the_argument_is_no_change_of_its_values() {
        // As with replace_triggered_by: an instance from before triggers, or imported, does not re-run.
        let official = state(true, Value::Null);
        assert_eq!(
            planned_update(&official, &state(true, map(&[("v", "1")]))),
            Update::Store
        );
        let with = state(true, map(&[("v", "1")]));
        assert_eq!(
            planned_update(&with, &state(true, Value::Null)),
            Update::Store
        );
        assert_eq!(planned_update(&with, &state(true, map(&[]))), Update::Store);
        // Unknown where there were none: still no change.
        assert_eq!(
            planned_update(&official, &state(true, Value::Unknown)),
            Update::Store
        );
    }

    #[test]
    fn an_added_apply_block_reruns_only_an_instance_whose_apply_never_ran() {
        assert_eq!(
            planned_update(&state(false, Value::Null), &state(true, Value::Null)),
            Update::Rerun(RerunReason::ApplyBlockAdded)
        );
        // Imported (a run ID and no blocks), or an apply block removed and added back: it has run.
        let mut imported = state(false, Value::Null);
        imported.set_attr("id", Value::string("run-imported"));
        assert_eq!(
            planned_update(&imported, &state(true, Value::Null)),
            Update::Store
        );
    }

    #[test]
    fn unknown_triggers_may_rerun_and_no_apply_block_never_does() {
        let mut unknown = map(&[("version", "1")]);
        if let Value::Map(m) = &mut unknown {
            m.insert("image".into(), Value::Unknown);
        }
        let with = state(true, map(&[("version", "1")]));
        assert_eq!(
            planned_update(&with, &state(true, unknown)),
            Update::MaybeRerun
        );
        assert_eq!(
            planned_update(&with, &state(true, Value::Unknown)),
            Update::MaybeRerun
        );
        assert_eq!(
            planned_update(
                &state(false, map(&[("v", "1")])),
                &state(false, map(&[("v", "2")]))
            ),
            Update::TriggersWithoutApply
        );
        assert_eq!(
            planned_update(&state(true, Value::Null), &state(false, Value::Null)),
            Update::Store
        );
    }

    #[test]
    fn a_rerun_leaves_what_the_run_hands_back_unknown() {
        let mut planned = state(true, map(&[("v", "2")]));
        mark_unknown(&mut planned);
        assert_eq!(planned.attr("id"), &Value::Unknown);
        assert_eq!(planned.attr("outputs"), &Value::Unknown);
        assert_eq!(planned.attr("workspace_id"), &Value::string("ws-1"));
    }
}
