//! The remote side of `tfe_workspace_run`: create queues the apply run, delete the destroy run,
//! both seen through by [`run_lifecycle::drive`] over a [`RunApi`] backed by the TFE client;
//! read checks the run still exists; import fills the state from a run ID.

use std::future::Future;

use rand::Rng;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::ownership::Claims;
use super::poller::{History, ProcessPoller};
use super::workspace_reads::ProcessWorkspaceReads;
use super::{WorkspaceRun, with_id};
use crate::provider::client::LazyClient;
use crate::provider::run_lifecycle::{
    self, ApiFailure, Ended, FailureReason, Operation, RunFailure, RunView,
};
use tfe_client::{PageRequest, Run, TfeClient, TfeError, Workspace};
use tfplugin::{
    ApplyRequest, ApplyResponse, Diagnostics, ImportRequest, ImportResponse, ImportedResource,
    ReadRequest, ReadResponse, Value,
};

use super::run_api::{InstanceRun, TfeRuns, settle_instance_run};
use crate::provider::api_errors::explain;

/// The ID the official resource stores when no run was queued: a random decimal integer.
fn placeholder_id() -> String {
    rand::rng()
        .random_range(1_000_000_000u64..u64::MAX)
        .to_string()
}

fn is_run_id(id: &str) -> bool {
    id.starts_with("run-") && id.len() > 4
}

// ------------------------------------------------------------------ resource operations

/// Runs `work` unless Terraform asks to stop or the deadline passes first, before any run exists.
async fn bounded<T>(
    cancel: &CancellationToken,
    deadline: Option<Instant>,
    what: &str,
    work: impl Future<Output = T>,
) -> Result<T, Diagnostics> {
    run_lifecycle::guarded(cancel, deadline, work)
        .await
        .map_err(|ended| match ended {
            Ended::Stopped => Diagnostics::from_error(
                "Interrupted",
                format!("Terraform asked the provider to stop while {what}; no run was queued."),
            ),
            Ended::TimedOut => Diagnostics::from_error(
                "Timed out",
                format!("The timeout passed while {what}; no run was queued."),
            ),
        })
}

/// The shared client, within the stop/deadline bounds.
async fn connect<'c>(
    client: &'c LazyClient,
    cancel: &CancellationToken,
    deadline: Option<Instant>,
) -> Result<&'c TfeClient, Diagnostics> {
    bounded(cancel, deadline, "connecting to the TFE API", client.get())
        .await?
        .map_err(|e| e.into_diagnostics())
}

fn failure_diagnostics(operation: Operation, failure: &RunFailure) -> Diagnostics {
    let summary = match &failure.reason {
        FailureReason::NotQueued | FailureReason::NoConfigurationVersion => {
            format!("Could not queue the {operation} run")
        }
        FailureReason::RunEnded { status } => format!("The {operation} run ended {status}"),
        FailureReason::Interrupted => format!("Interrupted waiting for the {operation} run"),
        FailureReason::TimedOut => format!("Timed out waiting for the {operation} run"),
        FailureReason::Api => format!("Error waiting for the {operation} run"),
    };
    let mut detail = failure.message.clone();
    if let Some(id) = &failure.run_id
        && operation == Operation::Apply
    {
        detail.push_str(&format!(
            "\n\nThe run ID {id} is kept in the state and the resource is marked tainted, so the next apply \
             replaces it with a new run. Because this apply never succeeded, replacing or destroying the \
             resource queues no destroy run, and a run of it still waiting is discarded first."
        ));
    }
    Diagnostics::from_error(summary, detail)
}

/// The workspace and its current run, within the stop/deadline bounds; batched with the other
/// instances reading theirs now.
async fn read_workspace(
    client: &TfeClient,
    workspaces: &ProcessWorkspaceReads,
    workspace_id: &str,
    cancel: &CancellationToken,
    deadline: Option<Instant>,
) -> Result<Result<(Workspace, Option<Run>), TfeError>, Diagnostics> {
    bounded(
        cancel,
        deadline,
        "reading the workspace",
        workspaces.get(client).read(workspace_id),
    )
    .await
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
    match run_lifecycle::guarded(
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
        "looking for a run left by an earlier apply",
        api.left_behind(operation, workspace, current),
    )
    .await?
    .map_err(|failure: ApiFailure| {
        Diagnostics::from_error(
            format!("Could not queue the {operation} run"),
            format!("{failure}. No run was queued."),
        )
    })?;
    if let Some(run) = &found {
        diags.warning(
            format!("Adopted an unfinished {operation} run"),
            format!(
                "Run {} ({}) in workspace {} was queued by an earlier, interrupted apply of this provider and \
                 never finished: it is seen through instead of queuing a second {operation} run beside it.",
                run.id,
                run.status,
                api.workspace_id()
            ),
        );
    }
    Ok(found)
}

pub(super) async fn create(
    client: &LazyClient,
    claims: &Claims,
    poller: &ProcessPoller,
    workspaces: &ProcessWorkspaceReads,
    request: ApplyRequest,
) -> ApplyResponse {
    let planned = request.planned_state;
    let resource = WorkspaceRun::from_value(&planned);
    let Some(block) = resource.apply else {
        // As the official resource: nothing to queue, an ID that is not a run's.
        return ApplyResponse::ok(with_id(&planned, &placeholder_id()));
    };
    let settings = block.to_settings();
    let deadline = resource.timeouts.create_deadline();
    let cancel = &request.cancel;

    let client = match connect(client, cancel, deadline).await {
        Ok(c) => c,
        Err(diags) => return ApplyResponse::failed(Value::Null, diags),
    };
    let (workspace, current) =
        match read_workspace(client, workspaces, &resource.workspace_id, cancel, deadline).await {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                return ApplyResponse::failed(
                    Value::Null,
                    Diagnostics::from_error(
                        "Cannot read the workspace",
                        format!(
                            "Reading workspace {} failed: {}. No run was queued.",
                            resource.workspace_id,
                            explain(&e)
                        ),
                    ),
                );
            }
            Err(diags) => return ApplyResponse::failed(Value::Null, diags),
        };
    let history =
        workspace_history(client, &workspace.id, current.as_ref(), cancel, deadline).await;
    let api = TfeRuns::new(client, claims, &workspace).polling(poller.get(client), history);
    let mut diags = Diagnostics::new();
    let adopted = match run_to_adopt(
        &api,
        Operation::Apply,
        &workspace,
        current.as_ref(),
        cancel,
        deadline,
        &mut diags,
    )
    .await
    {
        Ok(adopted) => adopted,
        Err(error) => {
            diags.extend(error);
            return ApplyResponse::failed(Value::Null, diags);
        }
    };
    match run_lifecycle::drive(&api, Operation::Apply, &settings, adopted, cancel, deadline).await {
        Ok(outcome) => ApplyResponse::with_warnings(with_id(&planned, &outcome.run_id), diags),
        Err(mut failure) => {
            super::run_logs::add_log_to(client, &mut failure).await;
            diags.extend(failure_diagnostics(Operation::Apply, &failure));
            let state = match &failure.run_id {
                Some(id) => with_id(&planned, id),
                None => Value::Null,
            };
            ApplyResponse::failed(state, diags)
        }
    }
}

/// The run an instance records, as the organization's run list shows it when many instances look
/// at theirs at once (refreshed or destroyed together); `None` when few do, or the list did not show
/// it: then the caller reads it by itself.
async fn look_at_recorded_run(
    client: &TfeClient,
    poller: &ProcessPoller,
    workspaces: &ProcessWorkspaceReads,
    workspace_id: &str,
    run_id: &str,
) -> Option<Run> {
    if workspace_id.is_empty() {
        return None;
    }
    let organization = workspaces.get(client).organization_of(workspace_id).await?;
    poller.get(client).look(run_id, &organization).await
}

/// Before an instance goes (destroyed, or replaced because it is tainted): whether its apply
/// succeeded, from the run it records. Only then is its destroy block armed. A run of it still
/// waiting is discarded. `Err` carries the diagnostics to return instead of destroying: a warning
/// that nothing is destroyed, or the error that kept it from knowing.
/// `current` is the workspace's current run, just read with it.
async fn arm_destroy(
    client: &TfeClient,
    claims: &Claims,
    (poller, workspaces): (&ProcessPoller, &ProcessWorkspaceReads),
    resource: &WorkspaceRun,
    current: Option<Run>,
    cancel: &CancellationToken,
    deadline: Option<Instant>,
) -> Result<(), Diagnostics> {
    let Some(run_id) = resource.id.as_deref().filter(|id| is_run_id(id)) else {
        // No run recorded: an apply-less instance, armed from the start as in the official resource.
        return Ok(());
    };
    let settled = bounded(cancel, deadline, "checking the run of the instance", async {
        let looked = match current.filter(|run| run.id == run_id) {
            Some(run) => Some(run),
            None => {
                look_at_recorded_run(client, poller, workspaces, &resource.workspace_id, run_id)
                    .await
            }
        };
        settle_instance_run(client, claims, run_id, looked).await
    })
    .await?
    .map_err(|e| {
        Diagnostics::from_error(
            "Cannot check the instance's run",
            format!(
                "Reading run {run_id} failed: {}. Nothing was destroyed and no run was queued; try again.",
                explain(&e)
            ),
        )
    })?;
    let what = match settled {
        // Its record is gone: as before, the destroy block decides.
        InstanceRun::Gone | InstanceRun::Applied => return Ok(()),
        InstanceRun::Ended { status } => format!("it ended {status}"),
        InstanceRun::Discarded { status } => {
            format!(
                "it was still {status} and has now been discarded, so it no longer holds the workspace"
            )
        }
        InstanceRun::Running { status } => {
            format!("it is {status}, past the point of discarding, and was left as it is")
        }
    };
    let armed = if resource.destroy.is_some() {
        " (the destroy block only arms once the apply has succeeded)"
    } else {
        ""
    };
    let mut diags = Diagnostics::new();
    diags.warning(
        "No destroy run queued",
        format!(
            "The apply of this tfe_workspace_run never succeeded (run {run_id}: {what}), so there is nothing of \
             it to destroy in workspace {}: no destroy run was queued{armed}.",
            resource.workspace_id
        ),
    );
    Err(diags)
}

pub(super) async fn delete(
    client: &LazyClient,
    claims: &Claims,
    poller: &ProcessPoller,
    workspaces: &ProcessWorkspaceReads,
    request: ApplyRequest,
) -> Diagnostics {
    let resource = WorkspaceRun::from_value(&request.prior_state);
    let cancel = &request.cancel;
    let deadline = resource.timeouts.delete_deadline();
    let records_a_run = resource.id.as_deref().is_some_and(is_run_id);
    if resource.destroy.is_none() && !records_a_run {
        return Diagnostics::new();
    }
    let client = match connect(client, cancel, deadline).await {
        Ok(c) => c,
        Err(diags) => return diags,
    };
    // The workspace first: its current run is usually the one the instance recorded, whose status
    // decides whether the destroy block is armed.
    let read = read_workspace(client, workspaces, &resource.workspace_id, cancel, deadline).await;
    let current = match &read {
        Ok(Ok((_, current))) => current.clone(),
        _ => None,
    };
    if let Err(diags) = arm_destroy(
        client,
        claims,
        (poller, workspaces),
        &resource,
        current,
        cancel,
        deadline,
    )
    .await
    {
        return diags;
    }
    let Some(block) = resource.destroy else {
        return Diagnostics::new();
    };
    let settings = block.to_settings();
    // Arming changed nothing in the workspace (a run it discards ends the destroy above).
    let (workspace, current) = match read {
        Ok(Ok(found)) => found,
        Ok(Err(TfeError::NotFound { .. })) => {
            let mut diags = Diagnostics::new();
            diags.warning(
                    "Workspace no longer exists",
                    format!(
                        "Workspace {} was not found, so there is nothing to destroy and no destroy run was queued.",
                        resource.workspace_id
                    ),
                );
            return diags;
        }
        Ok(Err(e)) => {
            return Diagnostics::from_error(
                "Cannot read the workspace",
                format!(
                    "Reading workspace {} failed: {}. No destroy run was queued.",
                    resource.workspace_id,
                    explain(&e)
                ),
            );
        }
        Err(diags) => return diags,
    };
    let history =
        workspace_history(client, &workspace.id, current.as_ref(), cancel, deadline).await;
    let api = TfeRuns::new(client, claims, &workspace).polling(poller.get(client), history);
    let mut diags = Diagnostics::new();
    let adopted = match run_to_adopt(
        &api,
        Operation::Destroy,
        &workspace,
        current.as_ref(),
        cancel,
        deadline,
        &mut diags,
    )
    .await
    {
        Ok(adopted) => adopted,
        Err(error) => {
            diags.extend(error);
            return diags;
        }
    };
    match run_lifecycle::drive(
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
            diags.warning(
                "Workspace has no configuration",
                format!(
                    "Workspace {} has no configuration version, so it has never been applied and there is \
                     nothing to destroy; no destroy run was queued.",
                    resource.workspace_id
                ),
            );
        }
        Err(mut failure) => {
            super::run_logs::add_log_to(client, &mut failure).await;
            diags.extend(failure_diagnostics(Operation::Destroy, &failure));
        }
    }
    diags
}

pub(super) async fn read(
    client: &LazyClient,
    poller: &ProcessPoller,
    workspaces: &ProcessWorkspaceReads,
    request: ReadRequest,
) -> ReadResponse {
    let state = request.current_state;
    let keep = |state: Value, diagnostics: Diagnostics| ReadResponse {
        new_state: state,
        private: request.private.clone(),
        diagnostics,
    };
    let Some(run_id) = state.attr("id").as_str().map(str::to_string) else {
        return keep(state, Diagnostics::new());
    };
    // The placeholder IDs of apply-less resources name no run.
    if !is_run_id(&run_id) {
        return keep(state, Diagnostics::new());
    }
    let client = match connect(client, &request.cancel, None).await {
        Ok(c) => c,
        Err(diags) => return keep(state, diags),
    };
    let workspace_id = state.attr("workspace_id").as_str().unwrap_or_default();
    let read_run = async {
        // The workspace's current run is usually the one the instance recorded: the workspace's read
        // (from its organization's list when many instances are refreshed at once) shows it.
        if !workspace_id.is_empty()
            && let Ok((_, Some(current))) = workspaces.get(client).read(workspace_id).await
            && current.id == run_id
        {
            return Ok(current);
        }
        // Else the organization's run list shows them all, when many look at once.
        match look_at_recorded_run(client, poller, workspaces, workspace_id, &run_id).await {
            Some(run) => Ok(run),
            None => client.run(&run_id).await,
        }
    };
    match bounded(&request.cancel, None, "reading the run", read_run).await {
        Ok(Ok(_)) => keep(state, Diagnostics::new()),
        Ok(Err(TfeError::NotFound { .. })) => {
            tracing::info!(run_id = %run_id, "run no longer exists; removing it from the state");
            keep(Value::Null, Diagnostics::new())
        }
        Ok(Err(e)) => keep(
            state,
            Diagnostics::from_error(
                "Cannot read the run",
                format!("Reading run {run_id} failed: {}", explain(&e)),
            ),
        ),
        Err(diags) => keep(state, diags),
    }
}

pub(super) async fn import(client: &LazyClient, request: ImportRequest) -> ImportResponse {
    let failed = |diagnostics: Diagnostics| ImportResponse {
        imported: Vec::new(),
        diagnostics,
    };
    let id = request.id.trim();
    if !is_run_id(id) {
        return failed(Diagnostics::from_error(
            "Invalid import ID",
            format!(
                "{:?} is not a run ID: import a tfe_workspace_run by the ID of its run, e.g. `terraform import \
                 tfe_workspace_run.example run-AbCdEf123456`.",
                request.id
            ),
        ));
    }
    let client = match connect(client, &request.cancel, None).await {
        Ok(c) => c,
        Err(diags) => return failed(diags),
    };
    let run = match bounded(&request.cancel, None, "reading the run", client.run(id)).await {
        Ok(Ok(run)) => run,
        Ok(Err(e)) => {
            return failed(Diagnostics::from_error(
                "Cannot import the run",
                format!("Reading run {id} failed: {}", explain(&e)),
            ));
        }
        Err(diags) => return failed(diags),
    };
    let Some(workspace_id) = run.workspace_id() else {
        return failed(Diagnostics::from_error(
            "Cannot import the run",
            format!("The API did not say which workspace run {id} belongs to."),
        ));
    };
    let state = Value::object([
        ("id", Value::string(id)),
        ("workspace_id", Value::string(workspace_id)),
        ("apply", Value::List(Vec::new())),
        ("destroy", Value::List(Vec::new())),
        ("timeouts", Value::Null),
    ]);
    ImportResponse {
        imported: vec![ImportedResource {
            type_name: String::new(),
            state,
            private: Vec::new(),
        }],
        diagnostics: Diagnostics::new(),
    }
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
