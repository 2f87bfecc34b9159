//! The resource itself: [`WorkspaceRunResource`] and its [`Resource`] impl. Create queues the apply run
//! and delete the destroy run: both [`start`](WorkspaceRunResource::start) (the workspace, its runs, a run
//! left behind to adopt, its configuration on its way) and then [`lifecycle::drive`] over a [`TfeRuns`];
//! after an apply run, `report.rs` hands back what it did. Update stores the plan, as in the official
//! resource, unless `rerun.rs` says it queues a new apply run (changed `triggers`, an added apply block):
//! then it takes create's path, and a failure keeps the prior state. Read checks that the run still exists
//! and refreshes what it did; import fills the state from a run ID. The schema hooks call the functions of
//! `schema.rs`.

use std::future::Future;

use async_trait::async_trait;
use rand::Rng;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::configuration::{self, NotArrived};
use super::lifecycle::{self, ApiFailure, FailureReason, Operation, RunApi, RunFailure, RunView};
use super::model::WorkspaceRunModel;
use super::ownership::Claims;
use super::poller::{History, ProcessPoller};
use super::rerun::{self, Update};
use super::run_results::ProcessRunResults;
use super::tfe_runs::{InstanceRun, TfeRuns, settle_instance_run};
use super::workspace_reads::{ProcessWorkspaceReads, WorkspaceRead};
use super::{messages, plan_warnings, report, run_logs, schema};
use crate::provider::api_errors::explain;
use crate::provider::client::SharedClient;
use tfe_client::{PageRequest, Run, RunWithIncludes, TfeClient, TfeError, Workspace};
use tfplugin::model::ValueModel;
use tfplugin::plan::GenericPlan;
use tfplugin::{
    ApplyRequest, ApplyResponse, Diagnostics, ImportRequest, ImportResponse, PlanRequest,
    ReadRequest, ReadResponse, Resource, Schema, Value,
};

/// `tfe_workspace_run` as the plugin layer sees it.
pub(crate) struct WorkspaceRunResource {
    client: SharedClient,
    /// The runs this process created or adopted, shared by all instances.
    claims: Claims,
    /// One poller for all instances, so one request can report many runs.
    poller: ProcessPoller,
    /// Workspace reads of instances starting together, batched through their organization's list.
    workspaces: ProcessWorkspaceReads,
    /// What runs ending together did, read through their organization's workspace list.
    results: ProcessRunResults,
}

impl WorkspaceRunResource {
    pub(crate) fn new(client: SharedClient) -> Self {
        WorkspaceRunResource {
            client,
            claims: Claims::default(),
            poller: ProcessPoller::default(),
            workspaces: ProcessWorkspaceReads::default(),
            results: ProcessRunResults::default(),
        }
    }
}

#[async_trait]
impl Resource for WorkspaceRunResource {
    fn type_name(&self) -> &str {
        schema::TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate_config(&self, config: &Value) -> Diagnostics {
        schema::validate_run_config(config)
    }

    fn upgrade_state(&self, _version: i64, state: Value) -> Result<Value, Diagnostics> {
        Ok(schema::upgrade_run_state(state))
    }

    fn modify_plan(
        &self,
        request: &PlanRequest<'_>,
        plan: &mut GenericPlan,
        diagnostics: &mut Diagnostics,
    ) {
        if request.prior_state.is_null() {
            return;
        }
        // The first of the two calls of a replacement: the prior instance goes first.
        if !plan.requires_replace.is_empty() {
            plan_warnings::warn_destroy_run(
                request.prior_state,
                plan_warnings::Change::Replacement,
                diagnostics,
            );
            return;
        }
        // In place: a changed `triggers` or an added apply block queues an apply run.
        let update = rerun::planned_update(request.prior_state, &plan.planned_state);
        if matches!(update, Update::Rerun(_) | Update::MaybeRerun) {
            rerun::mark_unknown(&mut plan.planned_state);
        }
        let workspace_id = plan
            .planned_state
            .attr("workspace_id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        plan_warnings::warn_update(&update, &workspace_id, diagnostics);
    }

    fn plan_destroy(&self, prior_state: &Value, diagnostics: &mut Diagnostics) {
        plan_warnings::warn_destroy_run(prior_state, plan_warnings::Change::Removal, diagnostics);
    }

    async fn create(&self, request: ApplyRequest) -> ApplyResponse {
        let planned = &request.planned_state;
        if WorkspaceRunModel::with_defaults(planned).apply.is_empty() {
            // As the official resource: nothing to queue, an ID that is not a run's.
            let mut state = with_id(planned, &placeholder_id());
            report::RunReport::default().write_to(&mut state);
            return ApplyResponse::ok(state);
        }
        match self.queue_apply(&request).await {
            Ok((state, warnings)) => ApplyResponse::with_warnings(state, warnings),
            // Terraform keeps the run ID and taints the instance.
            Err(failed) => {
                let state = match &failed.run_id {
                    Some(id) => {
                        let mut state = with_id(planned, id);
                        report::RunReport::default().write_to(&mut state);
                        state
                    }
                    None => Value::Null,
                };
                ApplyResponse::failed(state, failed.diags)
            }
        }
    }

    /// An update stores the plan, unless it changed `triggers` or added the apply block: then it queues a
    /// new apply run and records it. A re-run that fails keeps the prior state as it was: the run it records
    /// is still the last that succeeded, so the destroy stays armed as before, and Terraform does not taint
    /// an instance whose update failed, so nothing is replaced or destroyed.
    async fn update(&self, request: ApplyRequest) -> ApplyResponse {
        match rerun::planned_update(&request.prior_state, &request.planned_state) {
            Update::Rerun(reason) => {
                tracing::info!("re-running in place: {reason:?}");
            }
            Update::Store | Update::MaybeRerun | Update::TriggersWithoutApply => {
                return ApplyResponse {
                    new_state: request.planned_state,
                    private: request.planned_private,
                    diagnostics: Diagnostics::new(),
                };
            }
        }
        match self.queue_apply(&request).await {
            Ok((state, warnings)) => ApplyResponse::with_warnings(state, warnings),
            Err(mut failed) => {
                let kept = WorkspaceRunModel::from_value(&request.prior_state).id;
                let kept = kept.filter(|id| is_run_id(id));
                failed.append_to_error(&messages::rerun_failed_keeps_state(kept.as_deref()));
                ApplyResponse::failed(request.prior_state.clone(), failed.diags)
            }
        }
    }

    async fn delete(&self, request: ApplyRequest) -> Diagnostics {
        let resource = WorkspaceRunModel::with_defaults(&request.prior_state);
        let cancel = &request.cancel;
        let deadline = resource.timeouts().delete_deadline();
        let settings = resource.destroy_settings();
        let records_a_run = resource.id.as_deref().is_some_and(is_run_id);
        if settings.is_none() && !records_a_run {
            return Diagnostics::new();
        }
        let workspace_id = resource.workspace_id();
        let armed = async {
            let client = self.connect(cancel, deadline).await?;
            // The workspace first: its current run is usually the one the instance recorded, whose
            // status decides whether the destroy block is armed.
            let read = self
                .read_workspace(client, workspace_id, cancel, deadline)
                .await?;
            let current = read
                .as_ref()
                .ok()
                .and_then(|found| found.current_run.clone());
            self.arm_destroy(client, &resource, current, cancel, deadline)
                .await?;
            Ok::<_, Diagnostics>((client, read))
        };
        let (client, read, settings) = match (armed.await, settings) {
            (Ok((client, read)), Some(settings)) => (client, read, settings),
            (Ok(_), None) => return Diagnostics::new(),
            (Err(diags), _) => return diags,
        };
        // Arming changed nothing in the workspace: a run it discards ends the destroy above.
        let Started {
            api,
            adopted,
            mut diags,
        } = match self
            .start_from(
                client,
                Operation::Destroy,
                workspace_id,
                read,
                cancel,
                deadline,
            )
            .await
        {
            Ok(started) => started,
            Err(diags) => return diags,
        };
        match lifecycle::drive(
            &api,
            Operation::Destroy,
            &settings,
            adopted,
            cancel,
            deadline,
        )
        .await
        {
            Ok(_) => {}
            Err(failure) if failure.reason == FailureReason::NoConfigurationVersion => {
                messages::workspace_never_applied(workspace_id, &mut diags);
            }
            Err(mut failure) => {
                run_logs::add_log_to(client, &mut failure).await;
                diags.extend(failure_diagnostics(Operation::Destroy, &failure, false));
            }
        }
        diags
    }

    async fn read(&self, request: ReadRequest) -> ReadResponse {
        let state = request.current_state;
        let keep = |state: Value, diagnostics: Diagnostics| ReadResponse {
            new_state: state,
            private: request.private.clone(),
            diagnostics,
        };
        let Some(run_id) = WorkspaceRunModel::with_defaults(&state).id else {
            return keep(state, Diagnostics::new());
        };
        // The placeholder IDs of apply-less resources name no run.
        if !is_run_id(&run_id) {
            return keep(state, Diagnostics::new());
        }
        let client = match self.connect(&request.cancel, None).await {
            Ok(c) => c,
            Err(diags) => return keep(state, diags),
        };
        let workspace_id = WorkspaceRunModel::with_defaults(&state)
            .workspace_id
            .unwrap_or_default();
        let read = async {
            // The workspace's current run is usually the one the instance recorded: the workspace's
            // read (from its organization's list when many instances are refreshed at once) shows it,
            // and the workspace (for the URL). The plan's counts then stay as the state has them, so
            // only a state that has them reads it this way (a run queued without waiting has none yet).
            let has_counts = !state.attr("resource_additions").is_null();
            if has_counts
                && !workspace_id.is_empty()
                && let Ok(found) = self.workspaces.get(client).read(&workspace_id).await
                && let Some(current) = &found.current_run
                && current.id == run_id
            {
                return Ok(RunWithIncludes {
                    run: current.clone(),
                    included: serde_json::to_value(&found.workspace).into_iter().collect(),
                });
            }
            // Else one request, with what the computed attributes need.
            client
                .run_with_includes(&run_id, &["plan", "workspace"])
                .await
        };
        match bounded(&request.cancel, None, messages::READING_RUN, read).await {
            Ok(Ok(read)) => {
                let mut state = state;
                report::refresh(client, &mut state, &read).await;
                keep(state, Diagnostics::new())
            }
            Ok(Err(e)) if e.is_not_found() => {
                tracing::info!(run_id = %run_id, "run no longer exists; removing it from the state");
                keep(Value::Null, Diagnostics::new())
            }
            Ok(Err(e)) => keep(state, messages::cannot_read_run(&run_id, &explain(&e))),
            Err(diags) => keep(state, diags),
        }
    }

    async fn import(&self, request: ImportRequest) -> ImportResponse {
        let result = async {
            let id = request.id.trim();
            if !is_run_id(id) {
                return Err(messages::invalid_import_id(&request.id));
            }
            let client = self.connect(&request.cancel, None).await?;
            let run = bounded(&request.cancel, None, messages::READING_RUN, client.run(id))
                .await?
                .map_err(|e| messages::cannot_import(id, &explain(&e)))?;
            let workspace_id = run
                .workspace_id()
                .ok_or_else(|| messages::import_without_workspace(id))?;
            let state = WorkspaceRunModel {
                id: Some(id.to_string()),
                workspace_id: Some(workspace_id.to_string()),
                ..WorkspaceRunModel::default()
            };
            Ok(state.to_value())
        }
        .await;
        ImportResponse::from_result(result)
    }
}

/// What create and delete share before the lifecycle drives a run: the workspace's runs through the
/// client, a run of ours an interrupted apply left unfinished (to see through instead of queuing a
/// second), and the warnings so far.
struct Started<'a> {
    api: TfeRuns<'a>,
    adopted: Option<RunView>,
    diags: Diagnostics,
}

/// An apply run (on create, or a re-run on update) that did not succeed: the run to record, if one was
/// made, and the diagnostics.
struct ApplyFailed {
    run_id: Option<String>,
    diags: Diagnostics,
}

impl ApplyFailed {
    fn before_any_run(diags: Diagnostics) -> Self {
        ApplyFailed {
            run_id: None,
            diags,
        }
    }

    /// Appends `text` to the detail of the last error (what happens next).
    fn append_to_error(&mut self, text: &str) {
        if let Some(error) = self
            .diags
            .0
            .iter_mut()
            .rev()
            .find(|d| d.severity == tfplugin::Severity::Error)
        {
            error.detail.push_str(text);
        }
    }
}

impl WorkspaceRunResource {
    /// Queues the apply run of `request`'s planned state (create, or a re-run on update) and sees it
    /// through; on success, the planned state with the run recorded and what it did, and the warnings.
    async fn queue_apply(
        &self,
        request: &ApplyRequest,
    ) -> Result<(Value, Diagnostics), ApplyFailed> {
        let planned = &request.planned_state;
        let resource = WorkspaceRunModel::with_defaults(planned);
        let settings = resource
            .apply_settings_with_variables_of(&request.config)
            .ok_or_else(|| {
                ApplyFailed::before_any_run(Diagnostics::from_error(
                    "Provider bug",
                    "an apply run was to be queued without an apply block",
                ))
            })?;
        let deadline = resource.timeouts().create_deadline();
        let cancel = &request.cancel;
        let workspace_id = resource.workspace_id();
        let client = self
            .connect(cancel, deadline)
            .await
            .map_err(ApplyFailed::before_any_run)?;
        let Started {
            api,
            adopted,
            mut diags,
        } = self
            .start(client, Operation::Apply, workspace_id, cancel, deadline)
            .await
            .map_err(ApplyFailed::before_any_run)?;
        match lifecycle::drive(&api, Operation::Apply, &settings, adopted, cancel, deadline).await {
            Ok(outcome) => {
                let url = api.run_url(&outcome.run_id);
                let report = report::after_run(
                    client,
                    self.results.get(client, self.poller.get(client)),
                    api.organization(),
                    workspace_id,
                    &outcome,
                    url,
                    cancel,
                    deadline,
                    &mut diags,
                )
                .await;
                let mut state = with_id(planned, &outcome.run_id);
                report.write_to(&mut state);
                Ok((state, diags))
            }
            Err(mut failure) => {
                run_logs::add_log_to(client, &mut failure).await;
                let creating = request.prior_state.is_null();
                diags.extend(failure_diagnostics(Operation::Apply, &failure, creating));
                Err(ApplyFailed {
                    run_id: failure.run_id,
                    diags,
                })
            }
        }
    }

    /// The shared client, within the stop/deadline bounds.
    async fn connect(
        &self,
        cancel: &CancellationToken,
        deadline: Option<Instant>,
    ) -> Result<&TfeClient, Diagnostics> {
        bounded(
            cancel,
            deadline,
            messages::CONNECTING,
            self.client.connect(),
        )
        .await?
    }

    /// The workspace and its current run, within the stop/deadline bounds; batched with the other
    /// instances reading theirs now.
    async fn read_workspace(
        &self,
        client: &TfeClient,
        workspace_id: &str,
        cancel: &CancellationToken,
        deadline: Option<Instant>,
    ) -> Result<Result<WorkspaceRead, TfeError>, Diagnostics> {
        let read = self.workspaces.get(client).read(workspace_id);
        bounded(cancel, deadline, messages::READING_WORKSPACE, read).await
    }

    /// The run an instance records, as the organization's run list shows it when many instances look
    /// at theirs at once (destroyed together); `None` when few do, or the list did not show it: then
    /// the caller reads it by itself.
    async fn look_at_recorded_run(
        &self,
        client: &TfeClient,
        workspace_id: &str,
        run_id: &str,
    ) -> Option<Run> {
        if workspace_id.is_empty() {
            return None;
        }
        let organization = self
            .workspaces
            .get(client)
            .organization_of(workspace_id)
            .await?;
        self.poller.get(client).look(run_id, &organization).await
    }

    /// Reads the workspace and its current run, times the polls by its history, looks for a run of ours
    /// left behind, and unless there is one waits for a configuration still on its way; nothing is queued
    /// yet. A destroy whose workspace is gone gets a warning.
    async fn start<'a>(
        &'a self,
        client: &'a TfeClient,
        operation: Operation,
        workspace_id: &str,
        cancel: &CancellationToken,
        deadline: Option<Instant>,
    ) -> Result<Started<'a>, Diagnostics> {
        let read = self
            .read_workspace(client, workspace_id, cancel, deadline)
            .await?;
        self.start_from(client, operation, workspace_id, read, cancel, deadline)
            .await
    }

    /// [`start`](Self::start) from the workspace's read.
    async fn start_from<'a>(
        &'a self,
        client: &'a TfeClient,
        operation: Operation,
        workspace_id: &str,
        read: Result<WorkspaceRead, TfeError>,
        cancel: &CancellationToken,
        deadline: Option<Instant>,
    ) -> Result<Started<'a>, Diagnostics> {
        let found = match read {
            Ok(found) => found,
            Err(e) if e.is_not_found() && operation.is_destroy() => {
                return Err(messages::workspace_gone(workspace_id));
            }
            Err(e) => {
                return Err(messages::cannot_read_workspace(
                    operation.is_destroy(),
                    workspace_id,
                    &explain(&e),
                ));
            }
        };
        let (workspace, current, latest_configuration) = (
            &found.workspace,
            &found.current_run,
            &found.latest_configuration,
        );
        let history =
            workspace_history(client, &workspace.id, current.as_ref(), cancel, deadline).await;
        let api =
            TfeRuns::new(client, &self.claims, workspace).polling(self.poller.get(client), history);
        let mut diags = Diagnostics::new();
        let adopted = run_to_adopt(
            &api,
            operation,
            workspace,
            current.as_ref(),
            cancel,
            deadline,
            &mut diags,
        )
        .await?;
        // A run queued while the configuration is still on its way would fail to fetch it.
        if adopted.is_none()
            && let Some(version) =
                configuration::to_check(workspace, current.as_ref(), latest_configuration.as_ref())
        {
            configuration::await_configuration(client, &version, cancel, deadline)
                .await
                .map_err(|not_arrived| match not_arrived {
                    NotArrived::Stopped => {
                        messages::ended_before_any_run(true, messages::WAITING_FOR_CONFIGURATION)
                    }
                    NotArrived::StillOnItsWay {
                        id,
                        status,
                        waited,
                        timed_out,
                    } => messages::configuration_not_arrived(
                        &workspace.id,
                        &id,
                        &status,
                        waited,
                        timed_out,
                    ),
                })?;
        }
        Ok(Started {
            api,
            adopted,
            diags,
        })
    }

    /// Before an instance goes (destroyed, or replaced because it is tainted): whether its apply
    /// succeeded, from the run it records. Only then is its destroy block armed. A run of it still
    /// waiting is discarded. `Err` carries the diagnostics to return instead of destroying: a warning
    /// that nothing is destroyed, or the error that kept it from knowing.
    ///
    /// `current` is the workspace's current run, just read with it: when it is the instance's run, no
    /// other request is needed to know where that run stands.
    async fn arm_destroy(
        &self,
        client: &TfeClient,
        resource: &WorkspaceRunModel,
        current: Option<Run>,
        cancel: &CancellationToken,
        deadline: Option<Instant>,
    ) -> Result<(), Diagnostics> {
        let Some(run_id) = resource.id.as_deref().filter(|id| is_run_id(id)) else {
            // No run recorded: an apply-less instance, armed from the start as in the official resource.
            return Ok(());
        };
        let settle = async {
            let looked = match current.filter(|run| run.id == run_id) {
                Some(run) => Some(run),
                None => {
                    self.look_at_recorded_run(client, resource.workspace_id(), run_id)
                        .await
                }
            };
            settle_instance_run(client, &self.claims, run_id, looked).await
        };
        let settled = bounded(cancel, deadline, messages::CHECKING_INSTANCE_RUN, settle)
            .await?
            .map_err(|e| messages::cannot_check_instance_run(run_id, &explain(&e)))?;
        let what = match settled {
            // Its record is gone: as before, the destroy block decides.
            InstanceRun::Gone | InstanceRun::Applied => return Ok(()),
            InstanceRun::Ended { status } => messages::instance_run_ended(&status),
            InstanceRun::Discarded { status } => messages::instance_run_discarded(&status),
            InstanceRun::Running { status } => messages::instance_run_running(&status),
        };
        Err(messages::no_destroy_run(
            run_id,
            &what,
            resource.workspace_id(),
            !resource.destroy.is_empty(),
        ))
    }
}

/// Runs `work` unless Terraform asks to stop or the deadline passes first, before any run exists.
async fn bounded<T>(
    cancel: &CancellationToken,
    deadline: Option<Instant>,
    what: &str,
    work: impl Future<Output = T>,
) -> Result<T, Diagnostics> {
    lifecycle::guarded(cancel, deadline, work)
        .await
        .map_err(|ended| messages::ended_before_any_run(ended == lifecycle::Ended::Stopped, what))
}

/// How long the phases of the workspace's last run took, to time the polls of ours: its current
/// run's, or while that one is still under way, the newest finished run's (one more request, made
/// only then). Unknown phases are polled blind.
async fn workspace_history(
    client: &TfeClient,
    workspace_id: &str,
    current: Option<&Run>,
    cancel: &CancellationToken,
    deadline: Option<Instant>,
) -> History {
    let known = History::from_current(current);
    let complete = |h: &History| h.plan.is_some() && h.apply.is_some();
    if complete(&known) || current.is_none_or(|run| run.status().is_final()) {
        return known;
    }
    let recent = PageRequest {
        number: 1,
        size: 10,
    };
    match lifecycle::guarded(
        cancel,
        deadline,
        client.workspace_runs(workspace_id, recent),
    )
    .await
    {
        Ok(Ok(page)) => page
            .items
            .iter()
            .map(History::from_run)
            .find(complete)
            .unwrap_or(known),
        _ => known,
    }
}

/// A run of ours that an interrupted or killed apply left unfinished in the workspace, to see
/// through instead of queuing a second one beside it; a warning says so.
async fn run_to_adopt(
    api: &TfeRuns<'_>,
    operation: Operation,
    workspace: &Workspace,
    current: Option<&Run>,
    cancel: &CancellationToken,
    deadline: Option<Instant>,
    diags: &mut Diagnostics,
) -> Result<Option<RunView>, Diagnostics> {
    let found = bounded(
        cancel,
        deadline,
        messages::LOOKING_FOR_LEFT_BEHIND,
        api.left_behind(operation, workspace, current),
    )
    .await?
    .map_err(|failure: ApiFailure| messages::cannot_look_for_left_behind(operation, failure))?;
    if let Some(run) = &found {
        messages::adopted(operation, &run.id, &run.status, api.workspace_id(), diags);
    }
    Ok(found)
}

/// The diagnostics of a run that did not succeed: a summary by why, the lifecycle's words, and for the
/// apply of a create that made a run, what happens to it next (`taints`: Terraform taints the instance).
fn failure_diagnostics(operation: Operation, failure: &RunFailure, taints: bool) -> Diagnostics {
    let summary = match &failure.reason {
        FailureReason::NotQueued | FailureReason::NoConfigurationVersion => {
            messages::could_not_queue(operation)
        }
        FailureReason::RunEnded { status } => messages::run_ended(operation, status),
        FailureReason::Interrupted => messages::interrupted_waiting(operation),
        FailureReason::TimedOut => messages::timed_out_waiting(operation),
        FailureReason::Api => messages::error_waiting(operation),
    };
    let mut detail = failure.message.clone();
    if let Some(id) = &failure.run_id
        && operation == Operation::Apply
        && taints
    {
        detail.push_str(&messages::apply_failed_keeps_run(id));
    }
    Diagnostics::from_error(summary, detail)
}

/// Returns `state` with `id` set: what create returns on success, and with an error on failure
/// (Terraform then keeps the run ID and taints the instance).
fn with_id(state: &Value, id: &str) -> Value {
    let mut state = state.clone();
    state.set_attr("id", Value::string(id));
    state
}

/// The ID the official resource stores when no run was queued: a random decimal integer.
fn placeholder_id() -> String {
    rand::rng()
        .random_range(1_000_000_000u64..u64::MAX)
        .to_string()
}

fn is_run_id(id: &str) -> bool {
    id.starts_with("run-") && id.len() > 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_ids_are_not_run_ids() {
        let id = placeholder_id();
        assert!(id.parse::<u64>().is_ok(), "{id}");
        assert!(!is_run_id(&id));
        assert!(is_run_id("run-abc"));
        assert!(!is_run_id("run-"));
    }
}
