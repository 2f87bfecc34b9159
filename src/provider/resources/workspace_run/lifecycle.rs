//! The engine of `tfe_workspace_run`: the life of one run, as a state machine read top to bottom.
//!
//! Queue a run, then on every poll look at what the API says *now* and decide what to do next:
//! keep waiting, confirm, wait for a human, succeed, retry with a new run, or fail. The decision
//! ([`decide`]) is a pure function of the run's current status and actions and the block's
//! settings, so the whole table is tested without a server. [`drive`] is the loop around it: one
//! request per poll, progress logged only when something changes, stopping at once when Terraform
//! asks to stop or the timeout passes.
//!
//! Unlike the official resource, nothing here is fixed when the run is created (hashicorp/tfe#898),
//! every status has an explicit answer, retry backoff is in seconds as documented, a 409 on confirm
//! means "poll again", and a run that was created is always reported back so it is never orphaned.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use rand::Rng;
use tfe_client::RunStatus;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::messages;

/// Which of the two runs the resource manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Operation {
    /// Queued when the resource is created (`apply` block).
    Apply,
    /// Queued when the resource is destroyed (`destroy` block).
    Destroy,
}

impl Operation {
    pub(super) fn is_destroy(self) -> bool {
        self == Operation::Destroy
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Apply => "apply",
            Operation::Destroy => "destroy",
        })
    }
}

/// The settings of an `apply` or `destroy` block, in the units the documentation gives.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct RunSettings {
    pub manual_confirm: bool,
    pub message: Option<String>,
    pub retry: bool,
    /// New runs queued after the first one errors.
    pub retry_attempts: u32,
    pub retry_backoff_min: Duration,
    pub retry_backoff_max: Duration,
    pub wait_for_run: bool,
    /// What the run is asked to do, sent with its create; the lifecycle passes it on untouched.
    pub options: RunOptions,
}

/// The Runs API's options of one run (`variables`, `target-addrs`, `replace-addrs`, `refresh-only`,
/// `allow-empty-apply`), as the block sets them; empty or false when it does not.
#[derive(Clone, Default, PartialEq)]
pub(super) struct RunOptions {
    /// Run-scoped variables: name and value, the value an HCL literal. Values may be secrets.
    pub variables: Vec<(String, String)>,
    pub target_addrs: Vec<String>,
    pub replace_addrs: Vec<String>,
    pub refresh_only: bool,
    pub allow_empty_apply: bool,
}

/// Names the variables, never their values.
impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.variables.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("RunOptions")
            .field("variables", &names)
            .field("target_addrs", &self.target_addrs)
            .field("replace_addrs", &self.replace_addrs)
            .field("refresh_only", &self.refresh_only)
            .field("allow_empty_apply", &self.allow_empty_apply)
            .finish()
    }
}

impl RunSettings {
    /// The run's `auto-apply`: set whenever this provider would confirm the run itself anyway
    /// (`manual_confirm = false`), so the server applies it as soon as its plan allows, with no
    /// confirm request and no wait for the provider to notice the plan's end. A policy override
    /// still waits for a person, as it would for us. A wait for such a run that is interrupted
    /// before the apply starts stops the run ([`drive`]), so that nothing applies that the
    /// interrupted apply did not finish.
    pub(super) fn auto_apply(&self) -> bool {
        !self.manual_confirm
    }
}

/// Whether a run in `status` has not started applying yet (nor been confirmed to): a run that would
/// apply by itself can still be stopped without leaving anything half done.
pub(super) fn before_apply(status: &RunStatus) -> bool {
    use RunStatus as S;
    matches!(
        status,
        S::Pending
            | S::Fetching
            | S::FetchingCompleted
            | S::Queuing
            | S::PlanQueued
            | S::Planning
            | S::PrePlanRunning
            | S::PrePlanCompleted
            | S::PostPlanRunning
            | S::CostEstimating
            | S::PolicyChecking
            | S::Planned
            | S::PostPlanCompleted
            | S::CostEstimated
            | S::PolicyChecked
            | S::TfPolicyChecked
            | S::PlannedAndSaved
            | S::PolicyOverride
            | S::TfPolicyOverride
            | S::PostPlanAwaitingDecision
    )
}

/// What stopping an interrupted run that would apply by itself came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Unapplied {
    /// Canceled while its plan ran (`status` was its status then).
    Canceled { status: String },
    /// Discarded while it waited after its plan.
    Discarded { status: String },
    /// It had already started applying (or been confirmed): past the point of stopping cleanly, so
    /// left to finish what the apply asked for.
    Applying { status: String },
    /// It had already ended.
    Ended { status: String },
}

/// What one poll saw of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RunView {
    pub id: String,
    /// The API's status, e.g. `planning`; one this code does not know keeps its text.
    pub status: RunStatus,
    pub is_confirmable: bool,
    pub position_in_queue: Option<u64>,
}

/// Why the loop is waiting for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HumanStep {
    /// `manual_confirm = true`: someone confirms or discards the plan.
    ConfirmOrDiscard,
    /// A soft-mandatory policy failed: someone overrides or discards, whatever `manual_confirm` says.
    PolicyOverride,
}

/// How a run ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Success {
    Applied,
    /// `planned_and_finished`: the plan had nothing to apply.
    NoChanges,
}

/// What to do after one poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    KeepWaiting,
    Confirm,
    WaitForHuman(HumanStep),
    Succeed(Success),
    /// `errored`: retry or fail, see [`after_error`].
    Errored,
    /// A final status that is not success and is never retried.
    Fail,
    /// A status this code does not know; keep waiting (the timeouts block bounds it) and warn once.
    KeepWaitingUnknown,
}

/// The decision table: what the run's status and actions, right now, call for. The match names every
/// status the client knows, so a status added to [`RunStatus`] does not compile until it is placed here.
pub(super) fn decide(run: &RunView, settings: &RunSettings) -> Decision {
    match &run.status {
        // The run is moving by itself.
        RunStatus::Pending
        | RunStatus::Fetching
        | RunStatus::FetchingCompleted
        | RunStatus::Queuing
        | RunStatus::PlanQueued
        | RunStatus::Planning
        | RunStatus::PrePlanRunning
        | RunStatus::PrePlanCompleted
        | RunStatus::PostPlanRunning
        | RunStatus::CostEstimating
        | RunStatus::PolicyChecking
        | RunStatus::Confirmed
        | RunStatus::QueuingApply
        | RunStatus::ApplyQueued
        | RunStatus::Applying
        | RunStatus::PreApplyRunning
        | RunStatus::PreApplyCompleted
        | RunStatus::PostApplyRunning
        | RunStatus::PostApplyCompleted => Decision::KeepWaiting,
        // The plan is done; the run may pause here for confirmation.
        RunStatus::Planned
        | RunStatus::PostPlanCompleted
        | RunStatus::CostEstimated
        | RunStatus::PolicyChecked
        | RunStatus::TfPolicyChecked
        | RunStatus::PlannedAndSaved => {
            if !run.is_confirmable {
                Decision::KeepWaiting
            } else if settings.manual_confirm {
                Decision::WaitForHuman(HumanStep::ConfirmOrDiscard)
            } else {
                Decision::Confirm
            }
        }
        RunStatus::PolicyOverride
        | RunStatus::TfPolicyOverride
        | RunStatus::PostPlanAwaitingDecision => Decision::WaitForHuman(HumanStep::PolicyOverride),
        RunStatus::PlannedAndFinished => Decision::Succeed(Success::NoChanges),
        RunStatus::Applied => Decision::Succeed(Success::Applied),
        RunStatus::Errored => Decision::Errored,
        RunStatus::Discarded
        | RunStatus::Canceled
        | RunStatus::ForceCanceled
        | RunStatus::PolicySoftFailed => Decision::Fail,
        // New statuses appear over time; the text is kept for the warning.
        RunStatus::Unknown(_) => Decision::KeepWaitingUnknown,
    }
}

/// What to do about an errored run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ErrorDecision {
    /// Queue a new run after this pause.
    RetryAfter(Duration),
    Fail,
}

/// An errored run is retried while `retry` is on and attempts remain, except after a hard policy
/// failure, which a new run would only repeat. `retries_done` counts new runs already queued.
pub(super) fn after_error(
    settings: &RunSettings,
    retries_done: u32,
    hard_policy_failure: bool,
) -> ErrorDecision {
    if hard_policy_failure || !settings.retry || retries_done >= settings.retry_attempts {
        return ErrorDecision::Fail;
    }
    ErrorDecision::RetryAfter(retry_backoff(settings, retries_done + 1, &mut rand::rng()))
}

/// Exponential backoff in seconds before retry number `retry` (1-based): `min * 2^(retry-1)`, capped
/// at `max`, with jitter that never goes below `min` nor above the capped value.
pub(super) fn retry_backoff(settings: &RunSettings, retry: u32, rng: &mut impl Rng) -> Duration {
    let min = settings.retry_backoff_min;
    let max = settings.retry_backoff_max.max(min);
    let doubled = min.saturating_mul(1u32 << retry.saturating_sub(1).min(20));
    let ceiling = doubled.min(max);
    let floor = (ceiling / 2).max(min);
    if ceiling <= floor {
        return ceiling;
    }
    floor + (ceiling - floor).mul_f64(rng.random::<f64>())
}

/// Pause before poll number `poll` (0-based) of one wait: quick at first, so short phases are seen
/// at once, then every 3 s, so any change is noticed within 3 s with one request per poll.
pub(super) fn poll_interval(poll: u32) -> Duration {
    const SCHEDULE_MS: [u64; 2] = [1000, 3000];
    Duration::from_millis(SCHEDULE_MS[(poll as usize).min(SCHEDULE_MS.len() - 1)])
}

/// How an API call failed, as far as waiting is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ApiFailure {
    /// 401, 403, 404 and other answers that asking again will not change.
    Fatal(String),
    /// 429, 5xx and transport errors: ask again, after `retry_after` when the server said so.
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// 409: the run is not in a state for that action (yet).
    Conflict(String),
    /// Creating a run: the workspace has no configuration version, so no run can be queued (a destroy
    /// then has nothing to undo). Final, like `Fatal`.
    NoConfigurationVersion(String),
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiFailure::Fatal(m)
            | ApiFailure::Conflict(m)
            | ApiFailure::NoConfigurationVersion(m) => f.write_str(m),
            ApiFailure::Transient { message, .. } => f.write_str(message),
        }
    }
}

/// The few API calls the lifecycle needs; implemented over the TFE client, and by fakes in tests.
pub(super) trait RunApi: Send + Sync {
    fn create_run(
        &self,
        operation: Operation,
        settings: &RunSettings,
    ) -> impl Future<Output = Result<RunView, ApiFailure>> + Send;
    fn read_run(&self, run_id: &str) -> impl Future<Output = Result<RunView, ApiFailure>> + Send;
    fn confirm_run(&self, run_id: &str) -> impl Future<Output = Result<(), ApiFailure>> + Send;
    /// Whether a hard-mandatory policy failure errored this run (asked only once it errored).
    fn hard_policy_failure(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<bool, ApiFailure>> + Send;
    /// Called after every poll that read the run: room for bookkeeping the API side needs (for
    /// example stopping a late copy of a create that had to be sent twice). Does nothing by default.
    fn after_poll(&self, _run: &RunView) -> impl Future<Output = ()> + Send {
        async {}
    }
    /// The pause before poll number `poll` (0-based) of one wait; [`poll_interval`] unless the API
    /// side schedules its reads itself (then `read_run` waits for the right moment).
    fn pause_before_poll(&self, poll: u32) -> Duration {
        poll_interval(poll)
    }
    /// The run's page in the UI, for messages.
    fn run_url(&self, run_id: &str) -> String;
    /// Stops a run that would apply by itself, after the wait for it was interrupted: cancels it
    /// while it plans, discards it while it waits after its plan, and leaves it alone once it applies.
    fn stop_unapplied(
        &self,
        run_id: &str,
    ) -> impl Future<Output = Result<Unapplied, ApiFailure>> + Send;
}

/// How long stopping an interrupted run that would apply by itself may take: a look and a cancel,
/// paced with the process's other requests (hundreds of runs interrupted at once share the rate limit).
pub(super) const STOP_GRACE: Duration = Duration::from_secs(30);

/// How long polls may keep failing with transient errors before the wait gives up.
pub(super) const TRANSIENT_ERROR_BUDGET: Duration = Duration::from_secs(300);

/// Why a wait did not end in success. `run_id` is the last run created, if any, so the caller can
/// keep it in state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RunFailure {
    pub run_id: Option<String>,
    pub reason: FailureReason,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FailureReason {
    /// The run could not be queued at all.
    NotQueued,
    /// The run could not be queued because the workspace has no configuration version.
    NoConfigurationVersion,
    /// The run ended in a final status other than success (after any retries).
    RunEnded { status: String },
    /// Terraform asked the provider to stop.
    Interrupted,
    /// The `timeouts` block's limit passed.
    TimedOut,
    /// The API kept refusing or failing.
    Api,
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// How a wait ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RunOutcome {
    pub run_id: String,
    /// `None` when the run was queued without waiting (`wait_for_run = false`).
    pub success: Option<Success>,
    /// Its status when the wait ended: the successful one, or without waiting the one it was queued in.
    pub status: RunStatus,
    pub retries: u32,
}

/// Queue the run and see it through, as the settings say.
///
/// `adopted` is a run of ours that an earlier apply left unfinished: it is seen through first,
/// instead of queuing a second run beside it. Returns when the run succeeded, failed for good,
/// Terraform asked to stop (`stop`), or `deadline` passed. Stopping only stops waiting, except for
/// a run that would apply by itself (`auto-apply`) and has not started applying: when the wait for
/// it ends without success (interrupted, timed out, or the API kept failing), it is stopped too
/// ([`RunApi::stop_unapplied`], within [`STOP_GRACE`]), as a run we would have confirmed ourselves
/// stays unconfirmed when the wait for it ends.
pub(super) async fn drive(
    api: &impl RunApi,
    operation: Operation,
    settings: &RunSettings,
    adopted: Option<RunView>,
    stop: &CancellationToken,
    deadline: Option<Instant>,
) -> Result<RunOutcome, RunFailure> {
    let driven = drive_until_ended(api, operation, settings, adopted, stop, deadline).await;
    match driven {
        Err(failure)
            if settings.auto_apply()
                && settings.wait_for_run
                && matches!(
                    failure.reason,
                    FailureReason::Interrupted | FailureReason::TimedOut | FailureReason::Api
                ) =>
        {
            Err(stop_unapplied_run(api, failure).await)
        }
        other => other,
    }
}

/// After an interrupted wait for a run that would apply by itself: stops it if it has not started
/// applying, and says what became of it.
async fn stop_unapplied_run(api: &impl RunApi, mut failure: RunFailure) -> RunFailure {
    let Some(run_id) = failure.run_id.clone() else {
        return failure;
    };
    // A transient failure (the client already retried what it safely could) is tried again: the
    // next attempt looks first, so a stop that took effect is not sent twice.
    let attempts = async {
        let mut pause = Duration::from_secs(1);
        loop {
            match api.stop_unapplied(&run_id).await {
                Err(ApiFailure::Transient { retry_after, .. }) => {
                    tokio::time::sleep(retry_after.unwrap_or(pause).max(pause)).await;
                    pause = (pause * 2).min(Duration::from_secs(8));
                }
                done => return done,
            }
        }
    };
    let outcome = tokio::time::timeout(STOP_GRACE, attempts).await;
    let said = match outcome {
        Ok(Ok(Unapplied::Canceled { status })) => {
            tracing::warn!(run_id = %run_id, "canceled run {run_id} (it was {status}): it would have applied by itself");
            format!(
                " It was queued to apply by itself, so it has been canceled while {status}: nothing of it \
                 is applied."
            )
        }
        Ok(Ok(Unapplied::Discarded { status })) => {
            tracing::warn!(run_id = %run_id, "discarded run {run_id} (it was {status}): it would have applied by itself");
            format!(
                " It was queued to apply by itself, so it has been discarded while {status}: nothing of \
                 it is applied."
            )
        }
        Ok(Ok(Unapplied::Applying { status })) => format!(
            " It had already started applying ({status}), past the point where it can be stopped cleanly, \
             and finishes the apply that was asked for."
        ),
        Ok(Ok(Unapplied::Ended { status }))
            if matches!(status.as_str(), "canceled" | "discarded" | "force_canceled") =>
        {
            format!(
                " It was queued to apply by itself and has been stopped ({status}): nothing of it is \
                 applied."
            )
        }
        Ok(Ok(Unapplied::Ended { status })) => format!(" It has since ended ({status})."),
        Ok(Err(e)) => format!(
            " It was queued to apply by itself and could not be stopped ({e}): it applies once its plan \
             is done unless someone discards or cancels it at {}.",
            api.run_url(&run_id)
        ),
        Err(_) => format!(
            " It was queued to apply by itself and could not be stopped within {} s: it applies once its \
             plan is done unless someone discards or cancels it at {}.",
            STOP_GRACE.as_secs(),
            api.run_url(&run_id)
        ),
    };
    failure.message = failure
        .message
        .replace("; the run itself was left as it is", "");
    failure.message.push_str(&said);
    failure
}

async fn drive_until_ended(
    api: &impl RunApi,
    operation: Operation,
    settings: &RunSettings,
    adopted: Option<RunView>,
    stop: &CancellationToken,
    deadline: Option<Instant>,
) -> Result<RunOutcome, RunFailure> {
    let mut retries_done = 0;
    // The last run created (an errored one, while retrying), so a failure never forgets it.
    let mut last_run: Option<String> = None;
    let mut adopted = adopted;
    loop {
        let run = match adopted.take() {
            Some(run) => {
                tracing::warn!(
                    run_id = %run.id,
                    url = %api.run_url(&run.id),
                    "run {} (status {}) was queued by an earlier apply and never finished; seeing it through \
                     instead of queuing another {operation} run",
                    run.id,
                    run.status
                );
                run
            }
            None => {
                let run = create_within_grace(api, operation, settings, stop, deadline, &last_run)
                    .await?
                    .map_err(|failure| RunFailure {
                        run_id: last_run.clone(),
                        reason: match failure {
                            ApiFailure::NoConfigurationVersion(_) => {
                                FailureReason::NoConfigurationVersion
                            }
                            _ => FailureReason::NotQueued,
                        },
                        message: messages::not_queued(operation, &failure),
                    })?;
                tracing::info!(run_id = %run.id, url = %api.run_url(&run.id), "queued {operation} run");
                run
            }
        };
        last_run = Some(run.id.clone());
        if !settings.wait_for_run {
            return Ok(RunOutcome {
                run_id: run.id,
                success: None,
                status: run.status,
                retries: retries_done,
            });
        }
        match await_run(api, run, settings, stop, deadline).await? {
            Waited::Succeeded(run_id, success) => {
                return Ok(RunOutcome {
                    run_id,
                    success: Some(success),
                    status: match success {
                        Success::Applied => RunStatus::Applied,
                        Success::NoChanges => RunStatus::PlannedAndFinished,
                    },
                    retries: retries_done,
                });
            }
            Waited::Errored(run_id) => {
                let hard = guarded(stop, deadline, api.hard_policy_failure(&run_id))
                    .await
                    .map_err(|ended| ended.into_failure(api, Some(&run_id), "errored"))?
                    // Not knowing is no reason to fail: treat it as an ordinary error.
                    .unwrap_or(false);
                match after_error(settings, retries_done, hard) {
                    ErrorDecision::RetryAfter(pause) => {
                        retries_done += 1;
                        tracing::warn!(
                            run_id = %run_id,
                            "{operation} run errored; queuing retry {retries_done} of {} in {:.1} s",
                            settings.retry_attempts,
                            pause.as_secs_f64()
                        );
                        guarded(stop, deadline, tokio::time::sleep(pause))
                            .await
                            .map_err(|ended| ended.into_failure(api, Some(&run_id), "errored"))?;
                    }
                    ErrorDecision::Fail => {
                        let why = messages::errored_why(
                            hard,
                            settings.retry && settings.retry_attempts > 0,
                            retries_done,
                        );
                        return Err(RunFailure {
                            message: messages::errored(
                                operation,
                                &run_id,
                                &why,
                                &api.run_url(&run_id),
                            ),
                            run_id: Some(run_id),
                            reason: FailureReason::RunEnded {
                                status: "errored".into(),
                            },
                        });
                    }
                }
            }
        }
    }
}

/// How long a create that was under way when Terraform asked to stop (or the deadline passed)
/// may still take: the request may already be with the server, and a run it made must be
/// reported so it is kept in state.
pub(super) const CREATE_GRACE: Duration = Duration::from_millis(800);

/// Creates a run unless stopped first; on a stop, the create in flight gets [`CREATE_GRACE`] to
/// answer. `Err` is the stop (naming the new run, or else `last_run`); `Ok` is the API's answer.
async fn create_within_grace(
    api: &impl RunApi,
    operation: Operation,
    settings: &RunSettings,
    stop: &CancellationToken,
    deadline: Option<Instant>,
    last_run: &Option<String>,
) -> Result<Result<RunView, ApiFailure>, RunFailure> {
    let create = api.create_run(operation, settings);
    tokio::pin!(create);
    let ended = match guarded(stop, deadline, &mut create).await {
        Ok(answer) => return Ok(answer),
        Err(ended) => ended,
    };
    match tokio::time::timeout(CREATE_GRACE, &mut create).await {
        Ok(Ok(run)) => Err(ended.into_failure(api, Some(&run.id), run.status.as_str())),
        _ => Err(ended.into_failure(api, last_run.as_deref(), "errored")),
    }
}

enum Waited {
    Succeeded(String, Success),
    Errored(String),
}

/// Poll one run until it succeeds, errors or fails, acting on what each poll shows.
async fn await_run(
    api: &impl RunApi,
    mut run: RunView,
    settings: &RunSettings,
    stop: &CancellationToken,
    deadline: Option<Instant>,
) -> Result<Waited, RunFailure> {
    let mut progress = Progress::default();
    let mut poll = 0;
    let mut failing_since: Option<Instant> = None;
    loop {
        let decision = decide(&run, settings);
        progress.report(&run, decision, api);
        match decision {
            Decision::Succeed(success) => return Ok(Waited::Succeeded(run.id, success)),
            Decision::Errored => return Ok(Waited::Errored(run.id)),
            Decision::Fail => {
                return Err(RunFailure {
                    message: messages::ended_unapplied(&run.id, &run.status, &api.run_url(&run.id)),
                    reason: FailureReason::RunEnded {
                        status: run.status.to_string(),
                    },
                    run_id: Some(run.id),
                });
            }
            Decision::Confirm => {
                let confirmed = guarded(stop, deadline, api.confirm_run(&run.id))
                    .await
                    .map_err(|ended| ended.into_failure(api, Some(&run.id), run.status.as_str()))?;
                match confirmed {
                    Ok(()) => tracing::info!(run_id = %run.id, "confirmed run"),
                    // Someone else confirmed it, or it moved on: the next poll tells.
                    Err(ApiFailure::Conflict(detail)) => {
                        tracing::debug!(run_id = %run.id, "confirm refused, polling again: {detail}")
                    }
                    Err(ApiFailure::Transient { message, .. }) => {
                        tracing::warn!(run_id = %run.id, "confirm failed, trying again: {message}")
                    }
                    Err(
                        ApiFailure::Fatal(message) | ApiFailure::NoConfigurationVersion(message),
                    ) => {
                        return Err(api_failure(api, &run, message));
                    }
                }
                poll = 0;
            }
            Decision::WaitForHuman(_) | Decision::KeepWaiting | Decision::KeepWaitingUnknown => {}
        }

        let mut pause = api.pause_before_poll(poll);
        poll += 1;
        loop {
            guarded(stop, deadline, tokio::time::sleep(pause))
                .await
                .map_err(|ended| ended.into_failure(api, Some(&run.id), run.status.as_str()))?;
            let read = guarded(stop, deadline, api.read_run(&run.id))
                .await
                .map_err(|ended| ended.into_failure(api, Some(&run.id), run.status.as_str()))?;
            match read {
                Ok(now) => {
                    run = now;
                    failing_since = None;
                    // Bounded like every other call; a stop is noticed by the next sleep.
                    let _ = guarded(stop, deadline, api.after_poll(&run)).await;
                    break;
                }
                Err(ApiFailure::Fatal(message) | ApiFailure::NoConfigurationVersion(message)) => {
                    return Err(api_failure(api, &run, message));
                }
                Err(ApiFailure::Conflict(message)) => return Err(api_failure(api, &run, message)),
                Err(ApiFailure::Transient {
                    message,
                    retry_after,
                }) => {
                    let since = *failing_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= TRANSIENT_ERROR_BUDGET {
                        return Err(api_failure(
                            api,
                            &run,
                            messages::kept_failing(TRANSIENT_ERROR_BUDGET, &message),
                        ));
                    }
                    tracing::warn!(run_id = %run.id, "reading the run failed, will retry: {message}");
                    pause = retry_after.unwrap_or(poll_interval(u32::MAX));
                }
            }
        }
    }
}

fn api_failure(api: &impl RunApi, run: &RunView, message: String) -> RunFailure {
    RunFailure {
        message: messages::wait_failed(&run.id, &run.status, &message, &api.run_url(&run.id)),
        run_id: Some(run.id.clone()),
        reason: FailureReason::Api,
    }
}

/// What is logged while waiting: each status once, each human step once, queue moves at most
/// every 30 s, unknown statuses once.
#[derive(Default)]
struct Progress {
    last_status: Option<String>,
    last_queue_log: Option<(Instant, u64)>,
}

impl Progress {
    const QUEUE_LOG_EVERY: Duration = Duration::from_secs(30);

    fn report(&mut self, run: &RunView, decision: Decision, api: &impl RunApi) {
        if self.last_status.as_deref() != Some(run.status.as_str()) {
            self.last_status = Some(run.status.to_string());
            tracing::info!(run_id = %run.id, status = %run.status, "run is {}", run.status);
            match decision {
                Decision::WaitForHuman(HumanStep::ConfirmOrDiscard) => tracing::warn!(
                    run_id = %run.id,
                    "manual_confirm is set: waiting for someone to confirm or discard the plan at {}",
                    api.run_url(&run.id)
                ),
                Decision::WaitForHuman(HumanStep::PolicyOverride) => tracing::warn!(
                    run_id = %run.id,
                    "a soft-mandatory policy failed: waiting for someone to override or discard at {}",
                    api.run_url(&run.id)
                ),
                Decision::KeepWaitingUnknown => tracing::warn!(
                    run_id = %run.id,
                    "unrecognised run status \"{}\"; still waiting",
                    run.status
                ),
                _ => {}
            }
        }
        if let Some(position) = run.position_in_queue.filter(|p| *p > 0) {
            let due = match self.last_queue_log {
                None => true,
                Some((at, last)) => last != position && at.elapsed() >= Self::QUEUE_LOG_EVERY,
            };
            if due {
                self.last_queue_log = Some((Instant::now(), position));
                tracing::info!(run_id = %run.id, "run is number {position} in the queue");
            }
        }
    }
}

/// Why a guarded wait ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    Stopped,
    TimedOut,
}

impl Ended {
    fn into_failure(self, api: &impl RunApi, run_id: Option<&str>, status: &str) -> RunFailure {
        let (reason, why) = match self {
            Ended::Stopped => (FailureReason::Interrupted, messages::STOP_REQUESTED),
            Ended::TimedOut => (FailureReason::TimedOut, messages::TIMEOUT_PASSED),
        };
        let message = match run_id {
            Some(id) => messages::stopped_waiting(id, status, why, &api.run_url(id)),
            None => messages::stopped_before_queued(why),
        };
        RunFailure {
            run_id: run_id.map(str::to_owned),
            reason,
            message,
        }
    }
}

/// Run `work` unless Terraform asks to stop or the deadline passes first; dropping `work` aborts it.
pub(super) async fn guarded<T>(
    stop: &CancellationToken,
    deadline: Option<Instant>,
    work: impl Future<Output = T>,
) -> Result<T, Ended> {
    let timeout = async {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        _ = stop.cancelled() => Err(Ended::Stopped),
        _ = timeout => Err(Ended::TimedOut),
        done = work => Ok(done),
    }
}

#[cfg(test)]
mod tests;
