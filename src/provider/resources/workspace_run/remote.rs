//! The remote side of `tfe_workspace_run`: create queues the apply run, delete the destroy run,
//! both seen through by [`run_lifecycle::drive`] over a [`RunApi`] backed by the TFE client;
//! read checks the run still exists; import fills the state from a run ID.

use std::future::Future;
use std::sync::atomic::Ordering;

use rand::Rng;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{WorkspaceRun, with_id};
use crate::plugin::{
    ApplyRequest, ApplyResponse, Diagnostics, ImportRequest, ImportResponse, ImportedResource,
    ReadRequest, ReadResponse, Value,
};
use crate::provider::client::LazyClient;
use crate::provider::run_lifecycle::{self, Ended, FailureReason, Operation, RunFailure};
use crate::tfe::{TfeClient, TfeError};

use super::run_api::{TfeRuns, explain};

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
        FailureReason::NotQueued => format!("Could not queue the {operation} run"),
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
             replaces it with a new run."
        ));
    }
    Diagnostics::from_error(summary, detail)
}

pub async fn create(client: &LazyClient, request: ApplyRequest) -> ApplyResponse {
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
    let workspace = match bounded(
        cancel,
        deadline,
        "reading the workspace",
        client.workspace(&resource.workspace_id),
    )
    .await
    {
        Ok(Ok(ws)) => ws,
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
    let api = TfeRuns::new(client, &workspace);
    match run_lifecycle::drive(&api, Operation::Apply, &settings, cancel, deadline).await {
        Ok(outcome) => ApplyResponse::ok(with_id(&planned, &outcome.run_id)),
        Err(failure) => {
            let diags = failure_diagnostics(Operation::Apply, &failure);
            let state = match &failure.run_id {
                Some(id) => with_id(&planned, id),
                None => Value::Null,
            };
            ApplyResponse::failed(state, diags)
        }
    }
}

pub async fn delete(client: &LazyClient, request: ApplyRequest) -> Diagnostics {
    let resource = WorkspaceRun::from_value(&request.prior_state);
    let Some(block) = resource.destroy else {
        return Diagnostics::new();
    };
    let settings = block.to_settings();
    let deadline = resource.timeouts.delete_deadline();
    let cancel = &request.cancel;

    let client = match connect(client, cancel, deadline).await {
        Ok(c) => c,
        Err(diags) => return diags,
    };
    let workspace = match bounded(
        cancel,
        deadline,
        "reading the workspace",
        client.workspace(&resource.workspace_id),
    )
    .await
    {
        Ok(Ok(ws)) => ws,
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
    let api = TfeRuns::new(client, &workspace);
    match run_lifecycle::drive(&api, Operation::Destroy, &settings, cancel, deadline).await {
        Ok(_) => Diagnostics::new(),
        Err(failure)
            if failure.reason == FailureReason::NotQueued
                && api.configuration_version_missing.load(Ordering::SeqCst) =>
        {
            let mut diags = Diagnostics::new();
            diags.warning(
                "Workspace has no configuration",
                format!(
                    "Workspace {} has no configuration version, so it has never been applied and there is \
                     nothing to destroy; no destroy run was queued.",
                    resource.workspace_id
                ),
            );
            diags
        }
        Err(failure) => failure_diagnostics(Operation::Destroy, &failure),
    }
}

pub async fn read(client: &LazyClient, request: ReadRequest) -> ReadResponse {
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
    match bounded(
        &request.cancel,
        None,
        "reading the run",
        client.run(&run_id),
    )
    .await
    {
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

pub async fn import(client: &LazyClient, request: ImportRequest) -> ImportResponse {
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
