//! Every path of the run state machine and the queue rules, as the public API documentation gives them
//! (<https://developer.hashicorp.com/terraform/cloud-docs/api-docs/run#run-states>, and the run queue of
//! <https://developer.hashicorp.com/terraform/cloud-docs/run/remote-operations>),
//! driven through TfeClient and observed through the API and the admin summary.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::api::{knobs_with, run_for, wait_for};
use test_support::emulator::TestEmulator;
use tfe_client::*;

const FAST: fn() -> Value =
    || json!({"plan_ms": 40, "apply_ms": 40, "cost_estimate_ms": 20, "policy_check_ms": 20});

/// One emulator with one workspace whose knobs are `FAST` plus `extra`.
async fn setup(extra: Value) -> (TestEmulator, TfeClient, String) {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    emu.set_workspace_knobs(&ws, knobs_with(FAST(), extra));
    let client = emu.client().await;
    (emu, client, ws)
}

fn passed_through(run: &Run, statuses: &[&str]) {
    for s in statuses {
        let key = format!("{}-at", s.replace('_', "-"));
        assert!(
            run.attributes.status_timestamps.contains_key(&key),
            "no {key} in {:?}",
            run.attributes.status_timestamps.keys()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_pause_confirm_apply() {
    let (_emu, client, ws) = setup(json!({})).await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    let planned = wait_for(&client, &run.id, RunStatus::Planned).await;
    assert_eq!(
        planned.attributes.actions,
        RunActions {
            is_confirmable: true,
            is_discardable: true,
            ..Default::default()
        }
    );
    client.apply_run(&run.id, None).await.unwrap();
    let applied = wait_for(&client, &run.id, RunStatus::Applied).await;
    passed_through(
        &applied,
        &[
            "plan_queued",
            "planning",
            "planned",
            "confirmed",
            "apply_queued",
            "applying",
            "applied",
        ],
    );
    assert_eq!(applied.attributes.actions, RunActions::default());
    assert!(!applied.status_timestamps_has("cost-estimating-at"));
}

trait Timestamps {
    fn status_timestamps_has(&self, key: &str) -> bool;
}

impl Timestamps for Run {
    fn status_timestamps_has(&self, key: &str) -> bool {
        self.attributes.status_timestamps.contains_key(key)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_changes_end_planned_and_finished() {
    let (_emu, client, ws) = setup(json!({"plan_outcome": "no_changes"})).await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    let done = wait_for(&client, &run.id, RunStatus::PlannedAndFinished).await;
    assert!(!done.attributes.has_changes);
    assert!(!client.workspace(&ws).await.unwrap().attributes.locked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errored_plans_for_the_first_n_runs_then_success() {
    let (emu, client, ws) = setup(json!({"plan_outcome": "error_first_n:1"})).await;
    let first = client.create_run(run_for(&ws)).await.unwrap();
    let errored = wait_for(&client, &first.id, RunStatus::Errored).await;
    assert_eq!(
        client
            .plan(errored.plan_id().unwrap())
            .await
            .unwrap()
            .attributes
            .status,
        PhaseStatus::Errored
    );
    let second = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &second.id, RunStatus::Planned).await;
    let statuses: Vec<String> = emu.runs().into_iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec!["errored", "planned"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errored_apply() {
    let (_emu, client, ws) = setup(json!({"apply_outcome": "error"})).await;
    let run = client
        .create_run(CreateRun {
            auto_apply: Some(true),
            ..run_for(&ws)
        })
        .await
        .unwrap();
    let errored = wait_for(&client, &run.id, RunStatus::Errored).await;
    assert_eq!(
        client
            .apply(errored.apply_id().unwrap())
            .await
            .unwrap()
            .attributes
            .status,
        PhaseStatus::Errored
    );
    assert_eq!(
        client
            .plan(errored.plan_id().unwrap())
            .await
            .unwrap()
            .attributes
            .status,
        PhaseStatus::Finished
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_apply_from_the_run_or_the_workspace() {
    let (emu, client, ws) = setup(json!({})).await;
    let run = client
        .create_run(CreateRun {
            auto_apply: Some(true),
            ..run_for(&ws)
        })
        .await
        .unwrap();
    assert!(run.attributes.auto_apply);
    wait_for(&client, &run.id, RunStatus::Applied).await;

    let auto_ws =
        emu.seed_workspace_with("acme", "auto", json!({"auto_apply": true, "knobs": FAST()}));
    let run = client.create_run(run_for(&auto_ws)).await.unwrap();
    assert!(
        run.attributes.auto_apply,
        "defaults to the workspace setting"
    );
    wait_for(&client, &run.id, RunStatus::Applied).await;
    let manual = client
        .create_run(CreateRun {
            auto_apply: Some(false),
            ..run_for(&auto_ws)
        })
        .await
        .unwrap();
    wait_for(&client, &manual.id, RunStatus::Planned).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cost_estimation_pauses_in_cost_estimated() {
    let (_emu, client, ws) = setup(json!({"cost_estimation": true})).await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    let paused = wait_for(&client, &run.id, RunStatus::CostEstimated).await;
    passed_through(&paused, &["planned", "cost_estimating", "cost_estimated"]);
    assert!(paused.attributes.actions.is_confirmable);
    client.apply_run(&run.id, None).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Applied).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passing_policy_pauses_in_policy_checked() {
    let (_emu, client, ws) = setup(json!({"policy": "pass", "cost_estimation": true})).await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    let paused = wait_for(&client, &run.id, RunStatus::PolicyChecked).await;
    passed_through(
        &paused,
        &["cost_estimated", "policy_checking", "policy_checked"],
    );
    assert!(paused.attributes.actions.is_confirmable);
    assert_eq!(
        client.run_policy_checks(&run.id).await.unwrap()[0]
            .attributes
            .status,
        PolicyCheckStatus::Passed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_failed_policy_waits_for_override_even_with_auto_apply() {
    let (_emu, client, ws) = setup(json!({"policy": "soft_fail"})).await;
    let run = client
        .create_run(CreateRun {
            auto_apply: Some(true),
            ..run_for(&ws)
        })
        .await
        .unwrap();
    let waiting = wait_for(&client, &run.id, RunStatus::PolicyOverride).await;
    assert_eq!(
        waiting.attributes.actions,
        RunActions {
            is_discardable: true,
            ..Default::default()
        }
    );
    assert!(
        client.workspace(&ws).await.unwrap().attributes.locked,
        "an override wait keeps the lock"
    );
    let check = &client.run_policy_checks(&run.id).await.unwrap()[0];
    client.override_policy_check(&check.id).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Applied).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_failed_policy_can_be_discarded() {
    let (_emu, client, ws) = setup(json!({"policy": "soft_fail"})).await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &run.id, RunStatus::PolicyOverride).await;
    let refused = client.apply_run(&run.id, None).await.unwrap_err();
    assert!(
        matches!(refused, TfeError::Conflict { .. }),
        "override first: {refused}"
    );
    client.discard_run(&run.id, None).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Discarded).await;
    assert!(!client.workspace(&ws).await.unwrap().attributes.locked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_failed_policy_errors_the_run() {
    let (_emu, client, ws) = setup(json!({"policy": "hard_fail"})).await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Errored).await;
    assert_eq!(
        client.run_policy_checks(&run.id).await.unwrap()[0]
            .attributes
            .status,
        PolicyCheckStatus::HardFailed
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_only_runs_bypass_the_queue_and_never_lock() {
    let (_emu, client, ws) = setup(json!({"policy": "soft_fail"})).await;
    let blocker = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &blocker.id, RunStatus::PolicyOverride).await;
    let speculative = client
        .create_run(CreateRun {
            plan_only: true,
            ..run_for(&ws)
        })
        .await
        .unwrap();
    assert!(speculative.attributes.plan_only);
    wait_for(&client, &speculative.id, RunStatus::PolicySoftFailed).await;
    let ws_now = client.workspace(&ws).await.unwrap();
    assert_eq!(ws_now.current_run_id(), Some(blocker.id.as_str()));
    let listed = client
        .workspace_runs(&ws, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        listed.items.len(),
        1,
        "plan-only runs are left out of the default list"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_only_without_changes_finishes() {
    let (_emu, client, ws) = setup(json!({})).await;
    let run = client
        .create_run(CreateRun {
            plan_only: true,
            ..run_for(&ws)
        })
        .await
        .unwrap();
    let done = wait_for(&client, &run.id, RunStatus::PlannedAndFinished).await;
    assert!(
        done.attributes.has_changes,
        "plan-only runs end planned_and_finished even with changes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_queue_fifo_behind_the_current_run() {
    let (emu, client, ws) = setup(json!({})).await;
    let first = client.create_run(run_for(&ws)).await.unwrap();
    let second = client.create_run(run_for(&ws)).await.unwrap();
    let third = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &first.id, RunStatus::Planned).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        client.run(&second.id).await.unwrap().attributes.status,
        RunStatus::Pending,
        "paused run blocks"
    );
    let ws_now = client.workspace(&ws).await.unwrap();
    assert!(ws_now.attributes.locked);
    assert_eq!(ws_now.related_kind("locked-by"), Some("runs"));
    assert_eq!(ws_now.related_id("locked-by"), Some(first.id.as_str()));
    let unlock = client.unlock_workspace(&ws).await.unwrap_err();
    assert!(
        matches!(&unlock, TfeError::Conflict { detail } if detail.contains("locked by Run")),
        "{unlock}"
    );

    client.discard_run(&first.id, None).await.unwrap();
    wait_for(&client, &second.id, RunStatus::Planned).await;
    assert_eq!(
        client.run(&third.id).await.unwrap().attributes.status,
        RunStatus::Pending
    );
    assert_eq!(
        client.workspace(&ws).await.unwrap().current_run_id(),
        Some(second.id.as_str())
    );
    client.apply_run(&second.id, None).await.unwrap();
    wait_for(&client, &second.id, RunStatus::Applied).await;
    wait_for(&client, &third.id, RunStatus::Planned).await;
    let order: Vec<(String, String)> = emu.runs().into_iter().map(|r| (r.id, r.status)).collect();
    assert_eq!(
        order,
        vec![
            (first.id, "discarded".into()),
            (second.id, "applied".into()),
            (third.id, "planned".into())
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_lock_holds_new_runs_pending_until_unlock() {
    let (_emu, client, ws) = setup(json!({})).await;
    client.lock_workspace(&ws, "hands off").await.unwrap();
    let run = client.create_run(run_for(&ws)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        client.run(&run.id).await.unwrap().attributes.status,
        RunStatus::Pending
    );
    let ws_now = client.workspace(&ws).await.unwrap();
    assert_eq!(ws_now.current_run_id(), Some(run.id.as_str()));
    assert_eq!(ws_now.related_kind("locked-by"), Some("users"));
    client.unlock_workspace(&ws).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Planned).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_pending_is_immediate_and_cancel_planning_is_asynchronous() {
    let (emu, client, ws) = setup(json!({"plan_ms": 5000, "cancel_ms": 100})).await;
    let first = client.create_run(run_for(&ws)).await.unwrap();
    let second = client.create_run(run_for(&ws)).await.unwrap();
    client.cancel_run(&second.id, None).await.unwrap();
    let canceled = client.run(&second.id).await.unwrap();
    assert_eq!(canceled.attributes.status, RunStatus::Canceled);
    assert!(canceled.attributes.force_cancel_available_at.is_some());

    wait_for(&client, &first.id, RunStatus::Planning).await;
    client.cancel_run(&first.id, None).await.unwrap();
    let cancelling = client.run(&first.id).await.unwrap();
    assert_eq!(cancelling.attributes.status, RunStatus::Planning);
    assert!(
        !cancelling.attributes.actions.is_cancelable,
        "already canceling"
    );
    let twice = client.cancel_run(&first.id, None).await.unwrap_err();
    assert!(matches!(twice, TfeError::Conflict { .. }), "{twice}");
    wait_for(&client, &first.id, RunStatus::Canceled).await;
    assert!(!client.workspace(&ws).await.unwrap().attributes.locked);
    assert_eq!(
        emu.runs().iter().filter(|r| r.status == "canceled").count(),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_applying_then_force_cancel_after_the_cool_off() {
    let (_emu, client, ws) =
        setup(json!({"apply_ms": 60000, "cancel_stuck": true, "force_cancel_cooloff_ms": 600}))
            .await;
    let run = client
        .create_run(CreateRun {
            auto_apply: Some(true),
            ..run_for(&ws)
        })
        .await
        .unwrap();
    wait_for(&client, &run.id, RunStatus::Applying).await;
    client.cancel_run(&run.id, None).await.unwrap();
    let early = client.force_cancel_run(&run.id, None).await.unwrap_err();
    assert!(matches!(early, TfeError::Conflict { .. }), "{early}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let stuck = client.run(&run.id).await.unwrap();
    assert_eq!(stuck.attributes.status, RunStatus::Applying);
    assert!(stuck.attributes.actions.is_force_cancelable);
    client.force_cancel_run(&run.id, None).await.unwrap();
    let done = client.run(&run.id).await.unwrap();
    assert_eq!(done.attributes.status, RunStatus::Canceled);
    assert!(
        !client.workspace(&ws).await.unwrap().attributes.locked,
        "force-cancel unlocks at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_actions_answer_409_with_the_reason() {
    let (_emu, client, ws) = setup(json!({"plan_ms": 60000})).await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Planning).await;
    let apply = client.apply_run(&run.id, None).await.unwrap_err();
    assert!(
        matches!(&apply, TfeError::Conflict { detail } if detail.contains("apply not allowed")),
        "{apply}"
    );
    let discard = client.discard_run(&run.id, None).await.unwrap_err();
    assert!(
        matches!(&discard, TfeError::Conflict { detail } if detail.contains("discard not allowed")),
        "{discard}"
    );
    client
        .discard_run("run-unknown", None)
        .await
        .expect_err("unknown run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_runs_are_not_cancelable() {
    let (_emu, client, ws) = setup(json!({})).await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Planned).await;
    let cancel = client.cancel_run(&run.id, None).await.unwrap_err();
    assert!(
        matches!(&cancel, TfeError::Conflict { detail } if detail.contains("cancel not allowed")),
        "{cancel}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_serves_applies_before_plans_before_speculative_plans() {
    let emu = TestEmulator::start_http();
    let [a, b, c] = ["a", "b", "c"].map(|n| emu.seed_workspace("acme", n));
    emu.set_org_knobs(
        "acme",
        json!({"concurrency": 1, "plan_ms": 40, "apply_ms": 40}),
    );
    // Long enough that the queue below is read while b still holds the only worker.
    emu.set_workspace_knobs(&b, json!({"plan_ms": 2000}));
    let client = emu.client().await;
    let ra = client.create_run(run_for(&a)).await.unwrap();
    wait_for(&client, &ra.id, RunStatus::Planned).await;
    let rb = client.create_run(run_for(&b)).await.unwrap();
    wait_for(&client, &rb.id, RunStatus::Planning).await;
    let speculative = client
        .create_run(CreateRun {
            plan_only: true,
            ..run_for(&c)
        })
        .await
        .unwrap();
    let rc = client.create_run(run_for(&c)).await.unwrap();
    client.apply_run(&ra.id, None).await.unwrap();
    let queue = client
        .org_run_queue("acme", PageRequest::default())
        .await
        .unwrap();
    let order: Vec<&str> = queue.items.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        order,
        vec![ra.id.as_str(), rc.id.as_str(), speculative.id.as_str()]
    );
    let positions: Vec<Option<u32>> = queue
        .items
        .iter()
        .map(|r| r.attributes.position_in_queue)
        .collect();
    assert_eq!(positions, vec![Some(0), Some(1), Some(2)]);
    assert_eq!(queue.items[0].attributes.status, RunStatus::ApplyQueued);
    wait_for(&client, &ra.id, RunStatus::Applied).await;
    wait_for(&client, &speculative.id, RunStatus::PlannedAndFinished).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_runs_empty_the_workspace() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace_with("acme", "app", json!({"resource_count": 3, "knobs": FAST()}));
    let client = emu.client().await;
    let run = client
        .create_run(CreateRun {
            is_destroy: true,
            auto_apply: Some(true),
            ..run_for(&ws)
        })
        .await
        .unwrap();
    assert!(run.attributes.is_destroy);
    let done = wait_for(&client, &run.id, RunStatus::Applied).await;
    assert_eq!(
        client
            .plan(done.plan_id().unwrap())
            .await
            .unwrap()
            .attributes
            .resource_destructions,
        3
    );
    assert_eq!(
        client
            .workspace(&ws)
            .await
            .unwrap()
            .attributes
            .resource_count,
        0
    );
    assert!(emu.runs()[0].is_destroy);
    // A destroy of an empty workspace has nothing to do.
    let again = client
        .create_run(CreateRun {
            is_destroy: true,
            ..run_for(&ws)
        })
        .await
        .unwrap();
    wait_for(&client, &again.id, RunStatus::PlannedAndFinished).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advisory_policy_failures_do_not_stop_the_run() {
    let (_emu, client, ws) = setup(json!({"policy": "advisory_fail"})).await;
    let run = client
        .create_run(CreateRun {
            auto_apply: Some(true),
            ..run_for(&ws)
        })
        .await
        .unwrap();
    wait_for(&client, &run.id, RunStatus::Applied).await;
    let check = &client.run_policy_checks(&run.id).await.unwrap()[0];
    assert_eq!(check.attributes.status, PolicyCheckStatus::Passed);
    assert_eq!(check.attributes.result.as_ref().unwrap().advisory_failed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_post_plan_task_pauses_in_post_plan_completed() {
    let (_emu, client, ws) = setup(json!({"post_plan_task": "pass", "task_ms": 20})).await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    let stages = client.run_task_stages(&run.id).await.unwrap();
    assert_eq!(stages.len(), 1, "the stage exists from creation");
    assert_eq!(stages[0].attributes.stage, "post_plan");
    let paused = wait_for(&client, &run.id, RunStatus::PostPlanCompleted).await;
    passed_through(
        &paused,
        &["planned", "post_plan_running", "post_plan_completed"],
    );
    assert!(paused.attributes.actions.is_confirmable);
    assert_eq!(
        client.run_task_stages(&run.id).await.unwrap()[0]
            .attributes
            .status,
        "passed"
    );
    client.apply_run(&run.id, None).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Applied).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_mandatory_task_errors_the_run_and_an_advisory_one_does_not() {
    let (emu, client, ws) = setup(json!({"post_plan_task": "fail_mandatory", "task_ms": 20})).await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Errored).await;
    assert_eq!(
        client.run_task_stages(&run.id).await.unwrap()[0]
            .attributes
            .status,
        "failed"
    );

    emu.set_workspace_knobs(
        &ws,
        knobs_with(
            FAST(),
            json!({"post_plan_task": "fail_advisory", "task_ms": 20, "cost_estimation": true}),
        ),
    );
    let run = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &run.id, RunStatus::CostEstimated).await;
    assert_eq!(
        client.run_task_stages(&run.id).await.unwrap()[0]
            .attributes
            .status,
        "failed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_execute_discards_the_blocking_run() {
    let (_emu, client, ws) = setup(json!({})).await;
    let blocker = client.create_run(run_for(&ws)).await.unwrap();
    let waiting = client.create_run(run_for(&ws)).await.unwrap();
    let refused = client.force_execute_run(&blocker.id).await.unwrap_err();
    assert!(matches!(refused, TfeError::Forbidden { .. }), "{refused}");
    wait_for(&client, &blocker.id, RunStatus::Planned).await;
    client.force_execute_run(&waiting.id).await.unwrap();
    assert_eq!(
        client.run(&blocker.id).await.unwrap().attributes.status,
        RunStatus::Discarded
    );
    wait_for(&client, &waiting.id, RunStatus::Planned).await;
    assert_eq!(
        client.workspace(&ws).await.unwrap().current_run_id(),
        Some(waiting.id.as_str())
    );
}
