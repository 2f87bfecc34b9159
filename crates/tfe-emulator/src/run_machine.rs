//! The run state machine (the run states of the public Runs API reference,
//! <https://developer.hashicorp.com/terraform/cloud-docs/api-docs/run#run-states>) and the per-workspace queues
//! (the run queue of <https://developer.hashicorp.com/terraform/cloud-docs/run/remote-operations>).
//!
//! Runs advance by background tasks that sleep for the knob durations. Every interrupt (cancel, discard,
//! force-cancel) bumps the run's generation, so a task that wakes up for an older generation does nothing.
//! After every change `schedule` promotes queued runs and hands out the organization's workers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use tfe_client::models::{PhaseStatus, PolicyCheckStatus, RunActions, RunStatus};

use super::knobs::{Outcome, PolicyMode, TaskMode};
use super::state::Emulator;
use super::store::{Lock, PlanFailure, Run, Store, now};

/// An action refused with an HTTP status and detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub status: u16,
    pub detail: String,
}

fn refused(status: u16, detail: &str) -> Refused {
    Refused {
        status,
        detail: detail.to_string(),
    }
}

/// Statuses in which a finished plan waits for confirmation.
fn is_pause_status(s: &RunStatus) -> bool {
    matches!(
        s,
        RunStatus::Planned
            | RunStatus::PostPlanCompleted
            | RunStatus::CostEstimated
            | RunStatus::PolicyChecked
    )
}

/// The `actions` object for a run at this instant.
pub(crate) fn actions(run: &Run, at: OffsetDateTime) -> RunActions {
    let force = run.cancel_requested
        && run.force_cancel_available_at.is_some_and(|t| at >= t)
        && !run.status.is_final();
    if run.status.is_final() {
        return RunActions::default();
    }
    if run.status == RunStatus::Pending {
        return RunActions {
            is_cancelable: true,
            is_discardable: true,
            ..Default::default()
        };
    }
    if run.paused {
        let confirmable = is_pause_status(&run.status);
        return RunActions {
            is_confirmable: confirmable,
            is_discardable: true,
            ..Default::default()
        };
    }
    RunActions {
        is_cancelable: !run.cancel_requested,
        is_force_cancelable: force,
        ..Default::default()
    }
}

/// Starts a freshly created run: plan-only runs go straight to the worker queue, others wait in line.
pub(crate) fn enqueue(emu: &Arc<Emulator>, store: &mut Store, run_id: &str) {
    if let Some(run) = store.runs.get_mut(run_id).filter(|r| r.plan_only) {
        run.set_status(RunStatus::PlanQueued);
        run.plan.set_status(PhaseStatus::Queued);
    }
    schedule(emu, store);
}

/// Promotes the head of every workspace queue and assigns free workers (applies, then plans, then
/// speculative plans). Runs after every change, so it reads the runs once for the queues' heads and once
/// per organization for its workers, not once per workspace: an emulator that has served thousands of
/// runs must not slow down with them.
pub(crate) fn schedule(emu: &Arc<Emulator>, store: &mut Store) {
    let mut heads: HashMap<String, (u64, String)> = HashMap::new();
    for r in store.runs.values() {
        if r.plan_only || r.status != RunStatus::Pending {
            continue;
        }
        let head = heads
            .entry(r.workspace_id.clone())
            .or_insert_with(|| (r.seq, r.id.clone()));
        if r.seq < head.0 {
            *head = (r.seq, r.id.clone());
        }
    }
    for (ws_id, (_, head)) in heads {
        promote_head(store, &ws_id, head);
    }
    let mut busy: HashMap<String, usize> = HashMap::new();
    for r in store.runs.values().filter(|r| r.holds_worker) {
        *busy.entry(r.organization.clone()).or_default() += 1;
    }
    let orgs: Vec<String> = store.organizations.keys().cloned().collect();
    for org in orgs {
        let concurrency = store.org_knobs(&org).concurrency.unwrap_or(10) as usize;
        let free = concurrency.saturating_sub(busy.get(&org).copied().unwrap_or(0));
        if free == 0 {
            continue;
        }
        for next in waiting_for_worker(store, &org).into_iter().take(free) {
            let run = store.runs.get_mut(&next).expect("run exists");
            run.holds_worker = true;
            let generation = run.generation;
            let task_emu = emu.clone();
            if run.status == RunStatus::ApplyQueued {
                tokio::spawn(apply_phase(task_emu, next, generation));
            } else {
                tokio::spawn(plan_phase(task_emu, next, generation));
            }
        }
    }
}

/// The organization's runs waiting for a worker, in service order.
pub(crate) fn waiting_for_worker(store: &Store, org: &str) -> Vec<String> {
    let mut waiting: Vec<&Run> = store
        .runs
        .values()
        .filter(|r| {
            r.organization == org
                && !r.holds_worker
                && matches!(r.status, RunStatus::PlanQueued | RunStatus::ApplyQueued)
        })
        .collect();
    waiting.sort_by_key(|r| {
        let class = match (&r.status, r.plan_only) {
            (RunStatus::ApplyQueued, _) => 0,
            (_, false) => 1,
            (_, true) => 2,
        };
        (class, r.seq)
    });
    waiting.into_iter().map(|r| r.id.clone()).collect()
}

/// Makes `head`, the workspace's oldest pending run, the current run once the previous one is final; it
/// starts (and locks the workspace) unless a user holds the lock.
fn promote_head(store: &mut Store, ws_id: &str, head: String) {
    let Some(ws) = store.workspaces.get(ws_id) else {
        return;
    };
    let current_started = ws
        .current_run
        .as_ref()
        .and_then(|id| store.runs.get(id))
        .is_some_and(|current| !current.status.is_final() && current.status != RunStatus::Pending);
    if current_started {
        return;
    }
    let ws = store.workspaces.get_mut(ws_id).expect("workspace exists");
    ws.current_run = Some(head.clone());
    if ws.lock.is_some() {
        return; // a user lock keeps the head pending
    }
    ws.lock = Some(Lock::Run(head.clone()));
    let run = store.runs.get_mut(&head).expect("run exists");
    run.set_status(RunStatus::PlanQueued);
    run.plan.set_status(PhaseStatus::Queued);
}

/// Ends a run: releases its worker and its workspace lock.
fn finish(store: &mut Store, run_id: &str, status: RunStatus) {
    let Some(run) = store.runs.get_mut(run_id) else {
        return;
    };
    run.set_status(status);
    run.paused = false;
    run.holds_worker = false;
    run.generation += 1;
    for phase in [&mut run.plan, &mut run.apply] {
        if matches!(
            phase.status,
            PhaseStatus::Pending | PhaseStatus::Queued | PhaseStatus::Running
        ) {
            phase.set_status(if run.status == RunStatus::Canceled {
                PhaseStatus::Canceled
            } else {
                PhaseStatus::Unreachable
            });
        }
    }
    if let Some(ce) = run
        .cost_estimate
        .as_mut()
        .filter(|ce| ce.status == "pending")
    {
        ce.status = "canceled".into();
    }
    if let Some(task) = run
        .post_plan_task
        .as_mut()
        .filter(|t| t.status == "pending" || t.status == "running")
    {
        task.set_status(if run.status == RunStatus::Canceled {
            "canceled"
        } else {
            "unreachable"
        });
    }
    if let Some(pc) = run
        .policy_check
        .as_mut()
        .filter(|pc| pc.status == PolicyCheckStatus::Pending)
    {
        pc.status = PolicyCheckStatus::Canceled;
    }
    let ws_id = run.workspace_id.clone();
    let id = run.id.clone();
    if let Some(ws) = store
        .workspaces
        .get_mut(&ws_id)
        .filter(|ws| ws.lock == Some(Lock::Run(id)))
    {
        ws.lock = None;
    }
}

/// Sleeps, then returns the store locked if the run is still in the generation the task started with.
async fn wait_then_lock<'a>(
    emu: &'a Arc<Emulator>,
    run_id: &str,
    generation: u64,
    ms: u64,
) -> Option<std::sync::MutexGuard<'a, Store>> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    let store = emu.store.lock().unwrap();
    let run = store.runs.get(run_id)?;
    (run.generation == generation).then_some(store)
}

/// Takes one error from an `error_first_n` budget (or always for `error`).
fn should_error(store: &mut Store, ws_id: &str, outcome: Outcome, apply: bool) -> bool {
    match outcome {
        Outcome::Error => true,
        Outcome::ErrorFirstN(n) => {
            let pick: fn(&super::knobs::Knobs) -> bool = if apply {
                |k| k.apply_outcome.is_some()
            } else {
                |k| k.plan_outcome.is_some()
            };
            let Some(counters) = store.counters_for(ws_id, pick) else {
                return false;
            };
            let served = if apply {
                &mut counters.applies_errored
            } else {
                &mut counters.plans_errored
            };
            if *served < n {
                *served += 1;
                true
            } else {
                false
            }
        }
        _ => false,
    }
}

/// The plan phase's steps; each one runs with the store locked and names the next one.
#[derive(Debug, Clone, Copy)]
enum PlanStep {
    /// The plan itself finished.
    Plan,
    /// The post-plan run task finished.
    PostPlanTask,
    /// The cost estimate finished.
    Estimate,
    /// The policy check finished.
    Policy,
}

async fn plan_phase(emu: Arc<Emulator>, run_id: String, generation: u64) {
    let first_wait = {
        let mut store = emu.store.lock().unwrap();
        let Some(run) = store.runs.get_mut(&run_id) else {
            return;
        };
        if run.generation != generation {
            return;
        }
        run.set_status(RunStatus::Planning);
        run.plan.set_status(PhaseStatus::Running);
        let ws_id = run.workspace_id.clone();
        // What Terraform refuses before planning anything: a configuration that is not there, variables
        // without a value.
        if let Some(failure) = refusal(&store, &run_id) {
            let run = store.runs.get_mut(&run_id).expect("run exists");
            run.plan_failure = Some(failure);
            run.plan.set_status(PhaseStatus::Errored);
            finish(&mut store, &run_id, RunStatus::Errored);
            schedule(&emu, &mut store);
            return;
        }
        store.effective_knobs(&ws_id).plan_ms.unwrap_or(0)
    };
    let mut next = Some((first_wait, PlanStep::Plan));
    while let Some((ms, step)) = next {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        let mut store = emu.store.lock().unwrap();
        if store
            .runs
            .get(&run_id)
            .is_none_or(|r| r.generation != generation)
        {
            return;
        }
        next = plan_step(&mut store, &run_id, step);
        schedule(&emu, &mut store);
    }
}

/// Why Terraform would refuse to plan this run at all: its configuration version has not arrived, or a
/// variable the configuration requires has no value.
fn refusal(store: &Store, run_id: &str) -> Option<PlanFailure> {
    let run = store.runs.get(run_id)?;
    if let Some(cv) = store
        .configuration_versions
        .get(&run.configuration_version_id)
        .filter(|cv| !cv.is_uploaded())
    {
        return Some(PlanFailure::ConfigurationNotUploaded {
            id: cv.id.clone(),
            status: cv.status().to_string(),
        });
    }
    let missing = store.missing_variables(run);
    (!missing.is_empty()).then_some(PlanFailure::MissingVariables(missing))
}

/// Runs one step of the plan phase; returns the next step and how long to wait for it.
fn plan_step(store: &mut Store, run_id: &str, step: PlanStep) -> Option<(u64, PlanStep)> {
    let ws_id = store.runs[run_id].workspace_id.clone();
    let knobs = store.effective_knobs(&ws_id);
    match step {
        PlanStep::Plan => {
            let outcome = knobs.plan_outcome.unwrap_or(Outcome::Changes);
            if should_error(store, &ws_id, outcome, false) {
                let run = store.runs.get_mut(run_id).expect("run exists");
                run.plan.set_status(PhaseStatus::Errored);
                finish(store, run_id, RunStatus::Errored);
                return None;
            }
            let resource_count = store.workspaces.get(&ws_id).map_or(0, |w| w.resource_count);
            let run = store.runs.get_mut(run_id).expect("run exists");
            if run.is_destroy {
                run.plan.destructions = resource_count as u32;
            } else if run.refresh_only {
                // A refresh-only plan changes no resource (the emulator knows no drift to record).
            } else if outcome != Outcome::NoChanges {
                run.plan.additions = knobs.resource_additions.unwrap_or(1);
                run.plan.changes = knobs.resource_changes.unwrap_or(0);
                run.plan.destructions = knobs.resource_destructions.unwrap_or(0);
            }
            run.has_changes = run.plan.additions + run.plan.changes + run.plan.destructions > 0;
            run.plan.set_status(PhaseStatus::Finished);
            run.set_status(RunStatus::Planned);
            if let Some(task) = &mut run.post_plan_task {
                task.set_status("running");
                run.set_status(RunStatus::PostPlanRunning);
                return Some((knobs.task_ms.unwrap_or(0), PlanStep::PostPlanTask));
            }
            start_cost_estimate(store, run_id, &knobs)
        }
        PlanStep::PostPlanTask => {
            let run = store.runs.get_mut(run_id).expect("run exists");
            let task = run.post_plan_task.as_mut().expect("task stage exists");
            if task.mode == TaskMode::FailMandatory {
                task.set_status("failed");
                finish(store, run_id, RunStatus::Errored);
                return None;
            }
            task.set_status(if task.mode == TaskMode::Pass {
                "passed"
            } else {
                "failed"
            });
            run.set_status(RunStatus::PostPlanCompleted);
            start_cost_estimate(store, run_id, &knobs)
        }
        PlanStep::Estimate => {
            let run = store.runs.get_mut(run_id).expect("run exists");
            if let Some(ce) = &mut run.cost_estimate {
                ce.status = "finished".into();
                ce.timestamps
                    .insert("finished-at".into(), super::store::timestamp(now()));
            }
            run.set_status(RunStatus::CostEstimated);
            start_policy_check(store, run_id, &knobs)
        }
        PlanStep::Policy => {
            let run = store.runs.get_mut(run_id).expect("run exists");
            let pc = run.policy_check.as_mut().expect("policy check exists");
            match pc.mode {
                PolicyMode::HardFail => {
                    pc.status = PolicyCheckStatus::HardFailed;
                    finish(store, run_id, RunStatus::Errored);
                }
                PolicyMode::SoftFail => {
                    pc.status = PolicyCheckStatus::SoftFailed;
                    if run.plan_only {
                        finish(store, run_id, RunStatus::PolicySoftFailed);
                    } else {
                        run.set_status(RunStatus::PolicyOverride);
                        run.paused = true;
                        run.holds_worker = false;
                    }
                }
                PolicyMode::Pass | PolicyMode::AdvisoryFail | PolicyMode::None => {
                    pc.status = PolicyCheckStatus::Passed;
                    run.set_status(RunStatus::PolicyChecked);
                    after_checks(store, run_id);
                }
            }
            None
        }
    }
}

fn start_cost_estimate(
    store: &mut Store,
    run_id: &str,
    knobs: &super::knobs::Knobs,
) -> Option<(u64, PlanStep)> {
    let run = store.runs.get_mut(run_id).expect("run exists");
    if let Some(ce) = &mut run.cost_estimate {
        ce.status = "queued".into();
        run.set_status(RunStatus::CostEstimating);
        return Some((knobs.cost_estimate_ms.unwrap_or(0), PlanStep::Estimate));
    }
    start_policy_check(store, run_id, knobs)
}

fn start_policy_check(
    store: &mut Store,
    run_id: &str,
    knobs: &super::knobs::Knobs,
) -> Option<(u64, PlanStep)> {
    let run = store.runs.get_mut(run_id).expect("run exists");
    if let Some(pc) = &mut run.policy_check {
        pc.status = PolicyCheckStatus::Queued;
        run.set_status(RunStatus::PolicyChecking);
        return Some((knobs.policy_check_ms.unwrap_or(0), PlanStep::Policy));
    }
    after_checks(store, run_id);
    None
}

/// After a plan and its checks: finish, auto-apply or pause for confirmation.
fn after_checks(store: &mut Store, run_id: &str) {
    let run = store.runs.get_mut(run_id).expect("run exists");
    run.holds_worker = false;
    if run.plan_only || (!run.has_changes && !run.allow_empty_apply) {
        run.apply.set_status(PhaseStatus::Unreachable);
        finish(store, run_id, RunStatus::PlannedAndFinished);
    } else if run.auto_apply {
        confirm(run);
    } else {
        run.paused = true;
    }
}

fn confirm(run: &mut Run) {
    run.paused = false;
    run.set_status(RunStatus::Confirmed);
    run.set_status(RunStatus::ApplyQueued);
    run.apply.set_status(PhaseStatus::Queued);
}

async fn apply_phase(emu: Arc<Emulator>, run_id: String, generation: u64) {
    let (ws_id, knobs) = {
        let mut store = emu.store.lock().unwrap();
        let Some(run) = store.runs.get_mut(&run_id) else {
            return;
        };
        if run.generation != generation {
            return;
        }
        run.set_status(RunStatus::Applying);
        run.apply.set_status(PhaseStatus::Running);
        let ws_id = run.workspace_id.clone();
        let knobs = store.effective_knobs(&ws_id);
        (ws_id, knobs)
    };
    let Some(mut store) =
        wait_then_lock(&emu, &run_id, generation, knobs.apply_ms.unwrap_or(0)).await
    else {
        return;
    };
    let outcome = knobs.apply_outcome.unwrap_or(Outcome::Changes);
    if should_error(&mut store, &ws_id, outcome, true) {
        let run = store.runs.get_mut(&run_id).expect("run exists");
        run.apply.set_status(PhaseStatus::Errored);
        finish(&mut store, &run_id, RunStatus::Errored);
        schedule(&emu, &mut store);
        return;
    }
    let run = store.runs.get_mut(&run_id).expect("run exists");
    run.apply.additions = run.plan.additions;
    run.apply.changes = run.plan.changes;
    run.apply.destructions = run.plan.destructions;
    run.apply.set_status(PhaseStatus::Finished);
    let (is_destroy, added, destroyed) =
        (run.is_destroy, run.plan.additions, run.plan.destructions);
    if let Some(ws) = store.workspaces.get_mut(&ws_id) {
        ws.resource_count = if is_destroy {
            0
        } else {
            (ws.resource_count + u64::from(added)).saturating_sub(u64::from(destroyed))
        };
    }
    store.new_state_version(&run_id);
    finish(&mut store, &run_id, RunStatus::Applied);
    schedule(&emu, &mut store);
}

// ---------- human actions ----------

/// What a person (or a client acting for one) may do to a run: the API's `POST /runs/:id/actions/:action`
/// and the web page's buttons take the same actions through [`RunAction::perform`], so both follow the same
/// rules and give the same refusals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunAction {
    /// Confirm a run paused for confirmation.
    Apply,
    /// Discard a pending or paused run.
    Discard,
    /// Interrupt a run that is queued, planning or applying.
    Cancel,
    /// End a run a cancel did not stop, once the cool-off has passed.
    ForceCancel,
    /// Start a pending run now by discarding the run that blocks it.
    ForceExecute,
    /// Override a soft-failed policy check (the API does it through `/policy-checks/:id/actions/override`).
    OverridePolicy,
}

impl RunAction {
    /// The actions under `POST /runs/:id/actions/`.
    pub(crate) const API: &'static [RunAction] = &[
        RunAction::Apply,
        RunAction::Discard,
        RunAction::Cancel,
        RunAction::ForceCancel,
        RunAction::ForceExecute,
    ];
    /// The actions the web page offers.
    pub(crate) const PAGE: &'static [RunAction] = &[
        RunAction::Apply,
        RunAction::Discard,
        RunAction::Cancel,
        RunAction::ForceCancel,
        RunAction::OverridePolicy,
    ];

    /// The action's name in a URL.
    pub(crate) fn name(self) -> &'static str {
        match self {
            RunAction::Apply => "apply",
            RunAction::Discard => "discard",
            RunAction::Cancel => "cancel",
            RunAction::ForceCancel => "force-cancel",
            RunAction::ForceExecute => "force-execute",
            RunAction::OverridePolicy => "override-policy",
        }
    }

    /// The action named `name` among `allowed`; a 404 naming the allowed ones otherwise.
    pub(crate) fn parse(name: &str, allowed: &[RunAction]) -> Result<RunAction, Refused> {
        allowed
            .iter()
            .copied()
            .find(|a| a.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = allowed.iter().map(|a| a.name()).collect();
                refused(
                    404,
                    &format!(
                        "run action {name:?} not found (allowed: {})",
                        names.join(", ")
                    ),
                )
            })
    }

    /// Does it to `run_id`, or says why not.
    pub(crate) fn perform(
        self,
        emu: &Arc<Emulator>,
        store: &mut Store,
        run_id: &str,
    ) -> Result<(), Refused> {
        match self {
            RunAction::Apply => apply(emu, store, run_id),
            RunAction::Discard => discard(emu, store, run_id),
            RunAction::Cancel => cancel(emu, store, run_id),
            RunAction::ForceCancel => force_cancel(emu, store, run_id),
            RunAction::ForceExecute => force_execute(emu, store, run_id),
            RunAction::OverridePolicy => override_policy(emu, store, run_id),
        }
    }
}

fn apply(emu: &Arc<Emulator>, store: &mut Store, run_id: &str) -> Result<(), Refused> {
    let run = store
        .runs
        .get_mut(run_id)
        .ok_or_else(|| refused(404, "run not found"))?;
    if !(run.paused && is_pause_status(&run.status)) {
        return Err(refused(
            409,
            "Run was not paused for confirmation; apply not allowed.",
        ));
    }
    confirm(run);
    schedule(emu, store);
    Ok(())
}

fn discard(emu: &Arc<Emulator>, store: &mut Store, run_id: &str) -> Result<(), Refused> {
    let run = store
        .runs
        .get(run_id)
        .ok_or_else(|| refused(404, "run not found"))?;
    if !(run.status == RunStatus::Pending || run.paused) {
        return Err(refused(
            409,
            "Run was not paused for confirmation or priority; discard not allowed.",
        ));
    }
    finish(store, run_id, RunStatus::Discarded);
    schedule(emu, store);
    Ok(())
}

fn cancel(emu: &Arc<Emulator>, store: &mut Store, run_id: &str) -> Result<(), Refused> {
    let knobs = {
        let run = store
            .runs
            .get(run_id)
            .ok_or_else(|| refused(404, "run not found"))?;
        store.effective_knobs(&run.workspace_id)
    };
    let cooloff = Duration::from_millis(knobs.force_cancel_cooloff_ms.unwrap_or(1000));
    let run = store.runs.get_mut(run_id).expect("run exists");
    if run.status.is_final() || run.paused || run.cancel_requested {
        return Err(refused(
            409,
            "Run was not planning or applying; cancel not allowed.",
        ));
    }
    run.force_cancel_available_at = Some(now() + cooloff);
    run.cancel_requested = true;
    if matches!(
        run.status,
        RunStatus::Pending | RunStatus::PlanQueued | RunStatus::ApplyQueued
    ) && !run.holds_worker
    {
        finish(store, run_id, RunStatus::Canceled);
        schedule(emu, store);
        return Ok(());
    }
    // Work in progress gets an interrupt and stops a little later (or never, with cancel_stuck).
    run.generation += 1;
    let generation = run.generation;
    if !knobs.cancel_stuck.unwrap_or(false) {
        let emu = emu.clone();
        let run_id = run_id.to_string();
        let ms = knobs.cancel_ms.unwrap_or(100);
        tokio::spawn(async move {
            if let Some(mut store) = wait_then_lock(&emu, &run_id, generation, ms).await {
                finish(&mut store, &run_id, RunStatus::Canceled);
                schedule(&emu, &mut store);
            }
        });
    }
    Ok(())
}

fn force_cancel(emu: &Arc<Emulator>, store: &mut Store, run_id: &str) -> Result<(), Refused> {
    let run = store
        .runs
        .get(run_id)
        .ok_or_else(|| refused(404, "run not found"))?;
    if !actions(run, now()).is_force_cancelable {
        return Err(refused(
            409,
            "Run is not force-cancelable: it must be canceled first and the cool-off period must have passed.",
        ));
    }
    finish(store, run_id, RunStatus::Canceled);
    let run = store.runs.get_mut(run_id).expect("run exists");
    run.timestamps
        .insert("force-canceled-at".into(), super::store::timestamp(now()));
    schedule(emu, store);
    Ok(())
}

/// Starts a pending run now by discarding the run that blocks its workspace.
fn force_execute(emu: &Arc<Emulator>, store: &mut Store, run_id: &str) -> Result<(), Refused> {
    let run = store
        .runs
        .get(run_id)
        .ok_or_else(|| refused(404, "run not found"))?;
    let ws_id = run.workspace_id.clone();
    let blocker = match store.workspaces.get(&ws_id).and_then(|w| w.lock.clone()) {
        Some(Lock::Run(other)) if run.status == RunStatus::Pending && other != run_id => other,
        _ => {
            return Err(refused(
                403,
                "Run can only be force-executed while it is pending and its workspace is locked by another run.",
            ));
        }
    };
    let discardable = store
        .runs
        .get(&blocker)
        .is_some_and(|b| b.paused || b.status == RunStatus::Pending);
    if !discardable {
        return Err(refused(
            409,
            "The run blocking this one cannot be discarded.",
        ));
    }
    finish(store, &blocker, RunStatus::Discarded);
    let ws = store.workspaces.get_mut(&ws_id).expect("workspace exists");
    ws.current_run = Some(run_id.to_string());
    ws.lock = Some(Lock::Run(run_id.to_string()));
    let run = store.runs.get_mut(run_id).expect("run exists");
    run.set_status(RunStatus::PlanQueued);
    run.plan.set_status(PhaseStatus::Queued);
    schedule(emu, store);
    Ok(())
}

/// Overrides a soft-failed policy check; the run continues as if the check had passed.
pub(crate) fn override_policy(
    emu: &Arc<Emulator>,
    store: &mut Store,
    run_id: &str,
) -> Result<(), Refused> {
    let run = store
        .runs
        .get_mut(run_id)
        .ok_or_else(|| refused(404, "policy check not found"))?;
    let overridable = run.status == RunStatus::PolicyOverride
        && run
            .policy_check
            .as_ref()
            .is_some_and(|p| p.status == PolicyCheckStatus::SoftFailed);
    if !overridable {
        return Err(refused(409, "Policy check is not overridable."));
    }
    if let Some(pc) = &mut run.policy_check {
        pc.status = PolicyCheckStatus::Overridden;
        pc.timestamps
            .insert("overridden-at".into(), super::store::timestamp(now()));
    }
    run.paused = false;
    run.set_status(RunStatus::PolicyChecked);
    after_checks(store, run_id);
    schedule(emu, store);
    Ok(())
}

/// A user lock; 409 while any lock is held.
pub(crate) fn lock_workspace(
    store: &mut Store,
    ws_id: &str,
    user_id: &str,
    reason: &str,
) -> Result<(), Refused> {
    let ws = store
        .workspaces
        .get_mut(ws_id)
        .ok_or_else(|| refused(404, "workspace not found"))?;
    if ws.lock.is_some() {
        return Err(refused(
            409,
            "Unable to lock workspace. The workspace is already locked.",
        ));
    }
    ws.lock = Some(Lock::User {
        user_id: user_id.to_string(),
        reason: reason.to_string(),
    });
    Ok(())
}

pub(crate) fn unlock_workspace(
    emu: &Arc<Emulator>,
    store: &mut Store,
    ws_id: &str,
    user_id: &str,
) -> Result<(), Refused> {
    let ws = store
        .workspaces
        .get_mut(ws_id)
        .ok_or_else(|| refused(404, "workspace not found"))?;
    match &ws.lock {
        None => {
            return Err(refused(
                409,
                "Unable to unlock workspace. The workspace is not locked.",
            ));
        }
        Some(Lock::Run(run)) => {
            return Err(refused(
                409,
                &format!("Unable to unlock workspace. The workspace is locked by Run {run}."),
            ));
        }
        Some(Lock::User {
            user_id: holder, ..
        }) if holder != user_id => {
            return Err(refused(
                409,
                &format!("Unable to unlock workspace. The workspace is locked by User {holder}."),
            ));
        }
        Some(Lock::User { .. }) => ws.lock = None,
    }
    schedule(emu, store);
    Ok(())
}

/// Clears any lock. A run's lock goes too, but the run keeps going (as TFE does).
pub(crate) fn force_unlock_workspace(
    emu: &Arc<Emulator>,
    store: &mut Store,
    ws_id: &str,
) -> Result<(), Refused> {
    let ws = store
        .workspaces
        .get_mut(ws_id)
        .ok_or_else(|| refused(404, "workspace not found"))?;
    if ws.lock.take().is_none() {
        return Err(refused(
            409,
            "Unable to force-unlock workspace. The workspace is not locked.",
        ));
    }
    schedule(emu, store);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knobs::Knobs;

    use crate::store::NewRun;

    fn run_in(status: RunStatus, paused: bool) -> Run {
        let mut store = Store::new(Knobs::defaults());
        store.new_organization("acme", "a@b.c", false);
        let ws = store.new_workspace("acme", "app");
        let cv = store.new_configuration_version(&ws, "tfe-api", true, false, true);
        let id = store.new_run(NewRun::new(&ws, &cv, "user-emulator-1", "tfe-api", ""));
        let mut run = store.runs.remove(&id).unwrap();
        run.status = status;
        run.paused = paused;
        run
    }

    fn flags(a: RunActions) -> [bool; 4] {
        [
            a.is_confirmable,
            a.is_discardable,
            a.is_cancelable,
            a.is_force_cancelable,
        ]
    }

    #[test]
    fn run_actions_are_named_as_in_urls_and_refused_with_the_allowed_list() {
        assert_eq!(
            RunAction::parse("force-execute", RunAction::API),
            Ok(RunAction::ForceExecute)
        );
        assert_eq!(
            RunAction::parse("override-policy", RunAction::PAGE),
            Ok(RunAction::OverridePolicy)
        );
        let refused = RunAction::parse("override-policy", RunAction::API).unwrap_err();
        assert_eq!(refused.status, 404);
        assert_eq!(
            refused.detail,
            "run action \"override-policy\" not found (allowed: apply, discard, cancel, force-cancel, force-execute)"
        );
    }

    #[test]
    fn actions_follow_the_flag_table() {
        let at = now();
        // [confirmable, discardable, cancelable, force-cancelable]
        assert_eq!(
            flags(actions(&run_in(RunStatus::Pending, false), at)),
            [false, true, true, false]
        );
        assert_eq!(
            flags(actions(&run_in(RunStatus::Planning, false), at)),
            [false, false, true, false]
        );
        assert_eq!(
            flags(actions(&run_in(RunStatus::Planned, true), at)),
            [true, true, false, false]
        );
        assert_eq!(
            flags(actions(&run_in(RunStatus::Planned, false), at)),
            [false, false, true, false]
        );
        assert_eq!(
            flags(actions(&run_in(RunStatus::PolicyOverride, true), at)),
            [false, true, false, false]
        );
        assert_eq!(
            flags(actions(&run_in(RunStatus::Applying, false), at)),
            [false, false, true, false]
        );
        assert_eq!(
            flags(actions(&run_in(RunStatus::Applied, false), at)),
            [false; 4]
        );

        let mut canceling = run_in(RunStatus::Applying, false);
        canceling.cancel_requested = true;
        canceling.force_cancel_available_at = Some(at + Duration::from_secs(10));
        assert_eq!(
            flags(actions(&canceling, at)),
            [false; 4],
            "cool-off not over"
        );
        assert_eq!(
            flags(actions(&canceling, at + Duration::from_secs(11))),
            [false, false, false, true]
        );
    }
}
