//! [`TfeRuns`]: the lifecycle's [`RunApi`] over the TFE client, for one workspace: what each API error
//! means for waiting, how a create whose answer was lost is found (or safely sent again) and its late
//! copies stopped, and how the provider tells its own runs from everyone else's (see
//! [`ownership`](super::ownership)); and [`settle_instance_run`], where the run of an instance that goes
//! stands.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::lifecycle::{
    self, ApiFailure, Operation, RunApi, RunSettings, RunView, Unapplied, before_apply,
};
use super::messages;
use super::ownership::{Claims, RunTag};
use super::poller::{History, Poller};
use crate::provider::api_errors::explain;
use tfe_client::{
    CreateRun, PageRequest, PolicyCheckStatus, Run, RunStatus, RunVariable, TfeClient, TfeError,
    Workspace,
};

/// How often a create whose answer was lost is sent, at most: each send after the first is made only
/// once the workspace's runs showed that the server made none, so a few more sends cost no duplicate
/// and ride out a connection that keeps breaking (one in five, in the network-fault test).
const CREATE_SENDS: u32 = 6;

/// When to look for the run of a create whose answer was lost: the server may still be committing
/// it, so look a few times before concluding it made none.
const LOOKUP_DELAYS: [Duration; 3] = [
    Duration::from_millis(200),
    Duration::from_secs(1),
    Duration::from_secs(3),
];

/// After a create was sent again, how often to look for a late copy of the first send.
const SWEEP_EVERY: Duration = Duration::from_secs(15);

/// Runs listed when looking for our own: the newest page. Unfinished runs are the newest ones.
const RECENT_RUNS: PageRequest = PageRequest {
    number: 1,
    size: 100,
};

/// Today's date in UTC, as `2024-05-31`, for the messages recorded on runs.
fn today() -> String {
    const DATE: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day]");
    time::OffsetDateTime::now_utc()
        .format(DATE)
        .unwrap_or_default()
}

/// The message sent when the block sets none (the official provider documents a default but
/// sends nothing). The run's tag is appended to it, as to a message the block sets.
fn default_message(operation: Operation) -> String {
    messages::default_run_message(operation, &today())
}

/// One workspace's runs, through the shared client.
pub(super) struct TfeRuns<'a> {
    client: &'a TfeClient,
    claims: &'a Claims,
    workspace_id: String,
    organization: String,
    workspace_name: String,
    /// After a create was sent again: its tag, the run kept, and when we last looked for copies (and
    /// in which status of the kept run).
    resent: Mutex<Option<(RunTag, String, Instant, String)>>,
    /// The process's poller and what earlier runs of the workspace took; without it every poll
    /// is one `GET /runs/:id` on the lifecycle's fixed clock.
    poller: Option<(&'a Poller<TfeClient>, History)>,
}

impl<'a> TfeRuns<'a> {
    pub(super) fn new(client: &'a TfeClient, claims: &'a Claims, workspace: &Workspace) -> Self {
        TfeRuns {
            client,
            claims,
            workspace_id: workspace.id.clone(),
            organization: workspace.organization_name().unwrap_or("-").to_string(),
            workspace_name: workspace.attributes.name.clone(),
            resent: Mutex::new(None),
            poller: None,
        }
    }

    /// The organization of the workspace whose runs these are.
    pub(super) fn organization(&self) -> &str {
        &self.organization
    }

    /// Reads the run through the process's poller, which looks when a change is likely and
    /// reports many runs with one request.
    pub(super) fn polling(mut self, poller: &'a Poller<TfeClient>, history: History) -> Self {
        self.poller = Some((poller, history));
        self
    }

    pub(super) fn workspace_id(&self) -> &str {
        &self.workspace_id
    }
}

/// What looking for the run of a lost create found.
enum Lookup {
    /// The run carrying the create's reference (the oldest, if a copy exists).
    Found(Box<Run>),
    /// The workspace's runs were read and none carries the reference.
    Absent,
    /// The runs could not be read: the outcome stays unknown.
    Unknown(TfeError),
}

/// How the run an instance records (its `id`) stands, when the instance is destroyed or replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum InstanceRun {
    /// The server no longer knows the run.
    Gone,
    /// It applied (or had nothing to apply): the instance's apply succeeded.
    Applied,
    /// It ended without applying: the instance's apply never succeeded.
    Ended { status: String },
    /// It was still waiting (in the queue, or paused for a confirmation or an override) and has
    /// now been discarded, so it no longer holds the workspace.
    Discarded { status: String },
    /// It is past the point of discarding (confirmed, applying) and was left as it is.
    Running { status: String },
}

impl TfeRuns<'_> {
    /// The runs of the workspace, newest first, that carry `tag`'s reference.
    async fn tagged(&self, reference: &str) -> Result<Vec<Run>, TfeError> {
        let runs = self
            .client
            .workspace_runs(&self.workspace_id, RECENT_RUNS)
            .await?;
        Ok(runs
            .items
            .into_iter()
            .filter(|run| {
                run.attributes
                    .message
                    .as_deref()
                    .and_then(RunTag::parse)
                    .is_some_and(|t| t.reference == reference)
            })
            .collect())
    }

    /// After a create whose outcome is unknown: the run carrying its reference, looked for a few
    /// times because the server may commit it late. Only a run with that reference is ever taken.
    async fn look_for(&self, tag: &RunTag) -> Lookup {
        for pause in LOOKUP_DELAYS {
            tokio::time::sleep(pause).await;
            match self.tagged(&tag.reference).await {
                Ok(mut runs) if !runs.is_empty() => {
                    return Lookup::Found(Box::new(runs.pop().expect("not empty")));
                }
                Ok(_) => {}
                // The client already retried it within its budget: the outcome stays unknown.
                Err(e) => return Lookup::Unknown(e),
            }
        }
        Lookup::Absent
    }

    /// The unfinished runs of the workspace that were created since `since` (for messages).
    async fn candidates(&self, since: time::OffsetDateTime) -> String {
        match self
            .client
            .workspace_runs(&self.workspace_id, RECENT_RUNS)
            .await
        {
            Ok(page) => {
                let ids: Vec<String> = page
                    .items
                    .iter()
                    .filter(|run| !run.status().is_final())
                    .filter(|run| created_at(run).is_none_or(|at| at >= since))
                    .map(|run| format!("{} ({})", run.id, run.status()))
                    .collect();
                messages::candidates(&ids)
            }
            Err(e) => messages::candidates_unknown(e),
        }
    }

    /// A run of `operation` that an earlier apply of this provider left unfinished in the
    /// workspace and that no resource of this process has claimed: the one to see through instead
    /// of queuing a second run beside it. `current` is the workspace's current run, read with the
    /// workspace, so that in the usual case (nothing in the queue) no extra request is made.
    pub(super) async fn left_behind(
        &self,
        operation: Operation,
        workspace: &Workspace,
        current: Option<&Run>,
    ) -> Result<Option<RunView>, ApiFailure> {
        let ours = |run: &Run| {
            !run.status().is_final()
                && run
                    .attributes
                    .message
                    .as_deref()
                    .and_then(RunTag::parse)
                    .is_some_and(|t| t.operation == operation && self.claims.claim(&t.reference))
        };
        if let Some(run) = current.filter(|run| ours(run)) {
            return Ok(Some(view(run)));
        }
        // With the current run finished and no lock, the workspace queue is empty.
        let busy = workspace.attributes.locked || current.is_some_and(|r| !r.status().is_final());
        if !busy {
            return Ok(None);
        }
        let page = self
            .client
            .workspace_runs(&self.workspace_id, RECENT_RUNS)
            .await
            .map_err(|e| {
                ApiFailure::Fatal(messages::left_behind_unknown(
                    &self.workspace_id,
                    &explain(&e),
                ))
            })?;
        // Oldest first: the one furthest along in the queue.
        Ok(page.items.iter().rev().find(|run| ours(run)).map(view))
    }

    /// Discards (or cancels) the copies of a create that was sent again, keeping `kept`.
    async fn sweep_copies(&self, tag: &RunTag, kept: &str) {
        let runs = match self.tagged(&tag.reference).await {
            Ok(runs) => runs,
            Err(e) => {
                tracing::debug!("looking for copies of run {kept} failed: {e}");
                return;
            }
        };
        for copy in runs
            .iter()
            .filter(|r| r.id != kept && !r.status().is_final())
        {
            let actions = &copy.attributes.actions;
            let comment = Some(messages::DISCARD_COPY);
            let result = if actions.is_discardable {
                self.client.discard_run(&copy.id, comment).await
            } else if actions.is_cancelable {
                self.client.cancel_run(&copy.id, comment).await
            } else {
                continue;
            };
            match result {
                Ok(()) => tracing::warn!(
                    run_id = %copy.id,
                    "run {} is a late copy of the create that made run {kept}; stopped it so only one runs",
                    copy.id
                ),
                Err(e) => {
                    tracing::warn!(run_id = %copy.id, "could not stop the late copy {}: {e}", copy.id)
                }
            }
        }
    }
}

/// Where the run an instance records stands; a run still waiting is discarded, because the
/// instance is going away and its run must not hold the workspace. `looked` is the run as a batched
/// look just saw it; without it, the run is read here.
pub(super) async fn settle_instance_run(
    client: &TfeClient,
    claims: &Claims,
    run_id: &str,
    looked: Option<Run>,
) -> Result<InstanceRun, TfeError> {
    let read = match looked {
        Some(run) => Ok(run),
        None => client.run(run_id).await,
    };
    let run = match read {
        Ok(run) => run,
        Err(e) if e.is_not_found() => return Ok(InstanceRun::Gone),
        Err(e) => return Err(e),
    };
    // It is this instance's: no other resource may take it for a leftover of its own.
    if let Some(tag) = run.attributes.message.as_deref().and_then(RunTag::parse) {
        claims.claim(&tag.reference);
    }
    let status = run.status().to_string();
    match run.status() {
        RunStatus::Applied | RunStatus::PlannedAndFinished => return Ok(InstanceRun::Applied),
        s if s.is_final() => return Ok(InstanceRun::Ended { status }),
        _ => {}
    }
    if !run.attributes.actions.is_discardable {
        return Ok(InstanceRun::Running { status });
    }
    let comment = Some(messages::DISCARD_UNAPPLIED);
    match client.discard_run(run_id, comment).await {
        Ok(()) => Ok(InstanceRun::Discarded { status }),
        // It moved on between the read and the discard: say where it went.
        Err(TfeError::Conflict { .. } | TfeError::OutcomeUnknown { .. }) => {
            let now = client.run(run_id).await?;
            Ok(match now.status() {
                RunStatus::Applied | RunStatus::PlannedAndFinished => InstanceRun::Applied,
                RunStatus::Discarded => InstanceRun::Discarded { status },
                s if s.is_final() => InstanceRun::Ended {
                    status: s.to_string(),
                },
                s => InstanceRun::Running {
                    status: s.to_string(),
                },
            })
        }
        Err(e) => Err(e),
    }
}

fn created_at(run: &Run) -> Option<time::OffsetDateTime> {
    run.attributes.created_at.as_deref().and_then(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    })
}

/// How a TFE error affects waiting; fatal ones carry a message saying what to check.
fn to_api_failure(error: TfeError) -> ApiFailure {
    match error {
        TfeError::Conflict { .. } => ApiFailure::Conflict(error.to_string()),
        TfeError::RateLimited { retry_after, .. } => ApiFailure::Transient {
            message: error.to_string(),
            retry_after,
        },
        // An answer that cannot be read (a proxy's error page, a truncated or oversized body)
        // says nothing about the run: ask again, within the wait's budget for failures.
        TfeError::Server { .. }
        | TfeError::Transport { .. }
        | TfeError::Timeout { .. }
        | TfeError::OutcomeUnknown { .. }
        | TfeError::Decode { .. }
        | TfeError::BodyTooLarge { .. } => ApiFailure::Transient {
            message: error.to_string(),
            retry_after: None,
        },
        other => ApiFailure::Fatal(explain(&other)),
    }
}

fn view(run: &Run) -> RunView {
    RunView {
        id: run.id.clone(),
        status: run.status().clone(),
        is_confirmable: run.attributes.actions.is_confirmable,
        position_in_queue: run.attributes.position_in_queue.map(u64::from),
    }
}

impl RunApi for TfeRuns<'_> {
    async fn create_run(
        &self,
        operation: Operation,
        settings: &RunSettings,
    ) -> Result<RunView, ApiFailure> {
        let tag = RunTag::new(operation);
        // Claimed before sending, so no other resource takes the run for a leftover.
        self.claims.claim(&tag.reference);
        let message = tag.stamp(
            &settings
                .message
                .clone()
                .unwrap_or_else(|| default_message(operation)),
        );
        let run_options = &settings.options;
        let options = CreateRun {
            workspace_id: self.workspace_id.clone(),
            is_destroy: operation.is_destroy(),
            auto_apply: Some(settings.auto_apply()),
            message: Some(message),
            variables: run_options
                .variables
                .iter()
                .map(|(key, value)| RunVariable {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
            target_addrs: run_options.target_addrs.clone(),
            replace_addrs: run_options.replace_addrs.clone(),
            refresh_only: run_options.refresh_only,
            allow_empty_apply: run_options.allow_empty_apply,
            ..CreateRun::default()
        };
        let sent_at = time::OffsetDateTime::now_utc() - time::Duration::seconds(5);
        let mut sends = 0;
        loop {
            sends += 1;
            let lost = match self.client.create_run(options.clone()).await {
                Ok(run) => {
                    if sends > 1 {
                        // A copy of an earlier send may still be committed late.
                        *self.resent.lock().unwrap_or_else(|p| p.into_inner()) = Some((
                            tag.clone(),
                            run.id.clone(),
                            Instant::now(),
                            run.status().to_string(),
                        ));
                        self.sweep_copies(&tag, &run.id).await;
                    }
                    return Ok(view(&run));
                }
                Err(e @ TfeError::OutcomeUnknown { .. }) => e,
                Err(e) if e.is_configuration_version_missing() => {
                    return Err(ApiFailure::NoConfigurationVersion(e.to_string()));
                }
                Err(e) => {
                    return Err(match to_api_failure(e) {
                        ApiFailure::Transient { message, .. } | ApiFailure::Conflict(message) => {
                            ApiFailure::Fatal(message)
                        }
                        fatal => fatal,
                    });
                }
            };
            // The server may have queued it: find it by its reference rather than forget it.
            match self.look_for(&tag).await {
                Lookup::Found(run) => {
                    tracing::warn!(
                        run_id = %run.id,
                        "the answer to creating the run was lost ({lost}), but run {} carries this create's reference {}; going on with it",
                        run.id,
                        tag.reference
                    );
                    return Ok(view(&run));
                }
                Lookup::Absent if sends < CREATE_SENDS => tracing::warn!(
                    "the answer to creating the run was lost ({lost}) and no run in workspace {} carries this \
                     create's reference {}: the server did not make it; sending the create again",
                    self.workspace_id,
                    tag.reference
                ),
                Lookup::Absent => {
                    return Err(ApiFailure::Fatal(messages::create_lost(
                        sends,
                        &lost,
                        &self.workspace_id,
                        &tag.reference,
                        &self.candidates(sent_at).await,
                    )));
                }
                Lookup::Unknown(read_error) => {
                    return Err(ApiFailure::Fatal(messages::create_unknown(
                        &lost,
                        &read_error,
                        &self.workspace_id,
                        &tag,
                        &self.candidates(sent_at).await,
                    )));
                }
            }
        }
    }

    fn pause_before_poll(&self, poll: u32) -> Duration {
        match self.poller {
            // The poller waits for the right moment itself.
            Some(_) => Duration::ZERO,
            None => lifecycle::poll_interval(poll),
        }
    }

    async fn read_run(&self, run_id: &str) -> Result<RunView, ApiFailure> {
        let read = match self.poller {
            Some((poller, history)) => poller.next(run_id, &self.organization, history).await,
            None => self.client.run(run_id).await,
        };
        read.map(|run| view(&run)).map_err(to_api_failure)
    }

    async fn confirm_run(&self, run_id: &str) -> Result<(), ApiFailure> {
        // A 5xx on an action comes back as OutcomeUnknown: transient, i.e. "poll again".
        self.client
            .apply_run(run_id, Some(&messages::confirm_comment(&today())))
            .await
            .map_err(to_api_failure)?;
        if let Some((poller, _)) = self.poller {
            poller.confirmed(run_id);
        }
        Ok(())
    }

    async fn hard_policy_failure(&self, run_id: &str) -> Result<bool, ApiFailure> {
        let checks = self
            .client
            .run_policy_checks(run_id)
            .await
            .map_err(to_api_failure)?;
        Ok(checks
            .iter()
            .any(|c| c.attributes.status == PolicyCheckStatus::HardFailed))
    }

    async fn after_poll(&self, run: &RunView) {
        let due = {
            let mut resent = self.resent.lock().unwrap_or_else(|p| p.into_inner());
            // A late copy waits behind the kept run: look for it whenever the kept run moves on (a
            // run that applies by itself never pauses to be confirmed, and the copy starts as soon as
            // the kept run ends), and every 15 s.
            match resent.as_mut() {
                Some((tag, kept, last, status))
                    if *kept == run.id
                        && (run.is_confirmable
                            || status.as_str() != run.status.as_str()
                            || last.elapsed() >= SWEEP_EVERY) =>
                {
                    *last = Instant::now();
                    *status = run.status.to_string();
                    Some((tag.clone(), kept.clone()))
                }
                _ => None,
            }
        };
        if let Some((tag, kept)) = due {
            self.sweep_copies(&tag, &kept).await;
        }
    }

    fn run_url(&self, run_id: &str) -> String {
        self.client
            .run_url(&self.organization, &self.workspace_name, run_id)
    }

    async fn stop_unapplied(&self, run_id: &str) -> Result<Unapplied, ApiFailure> {
        // Where it stands now: with many runs stopped at once, from the organization's run list.
        let looked = match self.poller {
            Some((poller, _)) => poller.look(run_id, &self.organization).await,
            None => None,
        };
        let run = match looked {
            Some(run) => run,
            None => self.client.run(run_id).await.map_err(to_api_failure)?,
        };
        let status = run.status().to_string();
        if run.status().is_final() {
            return Ok(Unapplied::Ended { status });
        }
        if !before_apply(run.status()) {
            return Ok(Unapplied::Applying { status });
        }
        let actions = &run.attributes.actions;
        let comment =
            Some("Stopped by tfe_workspace_run: the apply waiting for it was interrupted");
        // Discarding only works while it waits after its plan; canceling while the plan runs.
        let stopped = if actions.is_discardable {
            self.client
                .discard_run(run_id, comment)
                .await
                .map(|()| Unapplied::Discarded { status })
        } else if actions.is_cancelable {
            self.client
                .cancel_run(run_id, comment)
                .await
                .map(|()| Unapplied::Canceled { status })
        } else {
            // Neither, before its apply: a cancel is already under way (an earlier attempt whose
            // answer was lost, or someone else's).
            return Ok(Unapplied::Canceled { status });
        };
        match stopped {
            Ok(done) => Ok(done),
            // It moved on between the look and the action: say where it went.
            Err(TfeError::Conflict { .. }) => {
                let now = self.client.run(run_id).await.map_err(to_api_failure)?;
                let status = now.status().to_string();
                Ok(if now.status().is_final() {
                    Unapplied::Ended { status }
                } else {
                    Unapplied::Applying { status }
                })
            }
            Err(e) => Err(to_api_failure(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_what_waiting_does_about_them() {
        let conflict = TfeError::Conflict {
            detail: "not confirmable".into(),
        };
        assert!(matches!(to_api_failure(conflict), ApiFailure::Conflict(_)));
        let limited = TfeError::RateLimited {
            retry_after: Some(std::time::Duration::from_secs(2)),
            detail: "slow down".into(),
        };
        assert!(matches!(
            to_api_failure(limited),
            ApiFailure::Transient { retry_after: Some(d), .. } if d.as_secs() == 2
        ));
        let unknown = TfeError::OutcomeUnknown {
            request: "POST /api/v2/runs/run-1/actions/apply".into(),
            source: Box::new(TfeError::Server {
                status: 502,
                detail: "bad gateway".into(),
            }),
        };
        assert!(matches!(
            to_api_failure(unknown),
            ApiFailure::Transient { .. }
        ));
        match to_api_failure(TfeError::Unauthorized {
            detail: "invalid token".into(),
        }) {
            ApiFailure::Fatal(m) => assert!(m.contains("check the provider's token"), "{m}"),
            other => panic!("401 must be fatal, got {other:?}"),
        }
        assert!(matches!(
            to_api_failure(TfeError::NotFound { detail: "x".into() }),
            ApiFailure::Fatal(_)
        ));
    }

    #[test]
    fn the_default_message_names_the_provider_and_the_date() {
        let message = default_message(Operation::Destroy);
        assert!(message.starts_with("destroy run queued by terraform-provider-tfe"));
        assert!(message.ends_with(&today()));
    }
}
