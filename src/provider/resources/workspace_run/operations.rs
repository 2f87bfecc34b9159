//! The resource itself: [`WorkspaceRunResource`] and its [`Resource`] impl. Create queues the apply run
//! and delete the destroy run: both [`start`](WorkspaceRunResource::start) (the workspace, its runs, a run
//! left behind to adopt) and then [`lifecycle::drive`] over a [`TfeRuns`]; read checks that the run still
//! exists; import fills the state from a run ID. Update needs nothing remote (the trait's default stores
//! the plan), as in the official resource. The schema hooks call the functions of `schema.rs`.

use std::future::Future;

use async_trait::async_trait;
use rand::Rng;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::lifecycle::{self, ApiFailure, FailureReason, Operation, RunFailure, RunView};
use super::model::WorkspaceRunModel;
use super::ownership::Claims;
use super::poller::{History, ProcessPoller};
use super::tfe_runs::{InstanceRun, TfeRuns, settle_instance_run};
use super::workspace_reads::{ProcessWorkspaceReads, WorkspaceRead};
use super::{messages, plan_warnings, run_logs, schema};
use crate::provider::api_errors::explain;
use crate::provider::client::SharedClient;
use tfe_client::{PageRequest, Run, TfeClient, TfeError, Workspace};
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
}

impl WorkspaceRunResource {
    pub(crate) fn new(client: SharedClient) -> Self {
        WorkspaceRunResource {
            client,
            claims: Claims::default(),
            poller: ProcessPoller::default(),
            workspaces: ProcessWorkspaceReads::default(),
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
        // The first of the two calls of a replacement: the prior instance goes first.
        if !request.prior_state.is_null() && !plan.requires_replace.is_empty() {
            plan_warnings::warn_destroy_run(
                request.prior_state,
                plan_warnings::Change::Replacement,
                diagnostics,
            );
        }
    }

    fn plan_destroy(&self, prior_state: &Value, diagnostics: &mut Diagnostics) {
        plan_warnings::warn_destroy_run(prior_state, plan_warnings::Change::Removal, diagnostics);
    }

    async fn create(&self, request: ApplyRequest) -> ApplyResponse {
        let planned = request.planned_state;
        let resource = WorkspaceRunModel::with_defaults(&planned);
        let Some(settings) = resource.apply_settings() else {
            // As the official resource: nothing to queue, an ID that is not a run's.
            return ApplyResponse::ok(with_id(&planned, &placeholder_id()));
        };
        let deadline = resource.timeouts().create_deadline();
        let cancel = &request.cancel;
        let started = async {
            let client = self.connect(cancel, deadline).await?;
            let started = self
                .start(
                    client,
                    Operation::Apply,
                    resource.workspace_id(),
                    cancel,
                    deadline,
                )
                .await?;
            Ok::<_, Diagnostics>((client, started))
        };
        let (
            client,
            Started {
                api,
                adopted,
                mut diags,
            },
        ) = match started.await {
            Ok(started) => started,
            Err(diags) => return ApplyResponse::failed(Value::Null, diags),
        };
        match lifecycle::drive(&api, Operation::Apply, &settings, adopted, cancel, deadline).await {
            Ok(outcome) => ApplyResponse::with_warnings(with_id(&planned, &outcome.run_id), diags),
            Err(mut failure) => {
                run_logs::add_log_to(client, &mut failure).await;
                diags.extend(failure_diagnostics(Operation::Apply, &failure));
                let state = match &failure.run_id {
                    Some(id) => with_id(&planned, id),
                    None => Value::Null,
                };
                ApplyResponse::failed(state, diags)
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
            let current = read.as_ref().ok().and_then(|found| found.1.clone());
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
                diags.extend(failure_diagnostics(Operation::Destroy, &failure));
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
        let read_run = async {
            // The workspace's current run is usually the one the instance recorded: the workspace's
            // read (from its organization's list when many instances are refreshed at once) shows it.
            if !workspace_id.is_empty()
                && let Ok(found) = self.workspaces.get(client).read(&workspace_id).await
                && let Some(current) = &found.1
                && current.id == run_id
            {
                return Ok(current.clone());
            }
            // Else the organization's run list shows them all, when many look at once.
            match self
                .look_at_recorded_run(client, &workspace_id, &run_id)
                .await
            {
                Some(run) => Ok(run),
                None => client.run(&run_id).await,
            }
        };
        match bounded(&request.cancel, None, messages::READING_RUN, read_run).await {
            Ok(Ok(_)) => keep(state, Diagnostics::new()),
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

impl WorkspaceRunResource {
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
    /// at theirs at once (refreshed or destroyed together); `None` when few do, or the list did not
    /// show it: then the caller reads it by itself.
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

    /// Reads the workspace and its current run, times the polls by its history, and looks for a run of
    /// ours left behind; nothing is queued yet. A destroy whose workspace is gone gets a warning.
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
        let (workspace, current) = (&found.0, &found.1);
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

/// The diagnostics of a run that did not succeed: a summary by why, the lifecycle's words, and for an
/// apply that created a run, what happens to it next.
fn failure_diagnostics(operation: Operation, failure: &RunFailure) -> Diagnostics {
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
