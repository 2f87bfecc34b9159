//! Every text a user of `tfe_workspace_run` reads while it works, in one place: the diagnostics of
//! create, delete, read and import; why a wait failed (the lifecycle's and the API side's words); the
//! plan-time warning; the excerpt of a failed run's log; and the messages and comments this provider
//! records on the runs it queues, confirms and discards. (The schema's descriptions and validation
//! errors stay with the schema, in `mod.rs`; logs stay where they are written.)
//!
//! The other files decide which text applies; this one words it. It takes plain values and imports
//! nothing of its siblings, so that every file of the folder may use it.

use std::fmt::Display;
use std::time::Duration;

use tfplugin::Diagnostics;

// ------------------------------------------------------------------ on the runs

/// Who queued, confirmed or discarded a run, as recorded on the run.
const ACTOR: &str = "terraform-provider-tfe (tfe_workspace_run)";

/// The message of a run when the block sets none (the official provider documents a default but
/// sends nothing); `date` is today's, as `2024-05-31`.
pub(super) fn default_run_message(operation: impl Display, date: &str) -> String {
    format!("{operation} run queued by {ACTOR} on {date}")
}

/// The comment of a confirmation.
pub(super) fn confirm_comment(date: &str) -> String {
    format!("Run confirmed by {ACTOR} on {date}")
}

/// The comment on a late copy of a create that had to be sent again, when it is stopped.
pub(super) const DISCARD_COPY: &str =
    "Discarded by tfe_workspace_run: a copy of a create that was sent twice";

/// The comment on the run of an instance whose apply never succeeded, when the instance goes.
pub(super) const DISCARD_UNAPPLIED: &str =
    "Discarded by tfe_workspace_run: the apply it belongs to never succeeded";

// ------------------------------------------------------------------ why a wait failed

/// Why a guarded wait ended, as the end of a sentence ("... because {why}").
pub(super) const STOP_REQUESTED: &str = "Terraform asked the provider to stop";
/// See [`STOP_REQUESTED`].
pub(super) const TIMEOUT_PASSED: &str = "the timeout passed";

/// The run could not be queued.
pub(super) fn not_queued(operation: impl Display, failure: impl Display) -> String {
    format!("could not queue the {operation} run: {failure}")
}

/// Why an errored run was not retried (again).
pub(super) fn errored_why(
    hard_policy_failure: bool,
    retries_on: bool,
    retries_done: u32,
) -> String {
    if hard_policy_failure {
        "a hard-mandatory policy failed (not retried)".to_string()
    } else if retries_on {
        format!("it errored after {retries_done} retries")
    } else {
        "it errored (retries are off)".to_string()
    }
}

/// A run that errored for good.
pub(super) fn errored(operation: impl Display, run_id: &str, why: &str, url: &str) -> String {
    format!("{operation} run {run_id} ended in status \"errored\": {why}. See {url}")
}

/// A run that ended in a final status other than success, never retried.
pub(super) fn ended_unapplied(run_id: &str, status: impl Display, url: &str) -> String {
    format!("run {run_id} ended in status \"{status}\" and was not applied. See {url}")
}

/// Reading the run kept failing with transient errors for the whole budget.
pub(super) fn kept_failing(budget: Duration, last_error: &str) -> String {
    format!(
        "the API kept failing for {} s; last error: {last_error}",
        budget.as_secs()
    )
}

/// Waiting for a run failed for an API reason.
pub(super) fn wait_failed(run_id: &str, status: impl Display, why: &str, url: &str) -> String {
    format!("waiting for run {run_id} (last seen in status \"{status}\") failed: {why}. See {url}")
}

/// Waiting stopped (see [`STOP_REQUESTED`]) on a known run.
pub(super) fn stopped_waiting(run_id: &str, status: &str, why: &str, url: &str) -> String {
    format!(
        "stopped waiting for run {run_id} (last seen in status \"{status}\") because {why}; the run itself \
         was left as it is. See {url}"
    )
}

/// Waiting stopped before the create had answered.
pub(super) fn stopped_before_queued(why: &str) -> String {
    format!(
        "stopped before the run was known to be queued because {why}; if the request reached the \
         server, the run is in the workspace's run list"
    )
}

// ------------------------------------------------------------------ the API side

/// Looking for a run left behind by an earlier apply failed.
pub(super) fn left_behind_unknown(workspace_id: &str, error: &str) -> String {
    format!(
        "could not check workspace {workspace_id} for a run left unfinished by an earlier apply: {error}"
    )
}

/// After every send of a create was lost and no run carries its reference.
pub(super) fn create_lost(
    sends: u32,
    last_error: impl Display,
    workspace_id: &str,
    reference: &str,
    candidates: &str,
) -> String {
    format!(
        "the outcome of creating the run is unknown: {sends} sends failed, the last with: {last_error}; \
         no run in workspace {workspace_id} carries this create's reference {reference} ({candidates})"
    )
}

/// After a create's answer was lost and the workspace's runs could not be read to find it.
pub(super) fn create_unknown(
    lost: impl Display,
    read_error: impl Display,
    workspace_id: &str,
    tag: impl Display,
    candidates: &str,
) -> String {
    format!(
        "the outcome of creating the run is unknown: {lost}; and the workspace's runs could not be \
         read to find it ({read_error}). Look in workspace {workspace_id} for a run whose message ends in \
         {tag} before applying again ({candidates})"
    )
}

/// The unfinished runs created since a lost create was sent (`ids` as `run-x (status)`).
pub(super) fn candidates(ids: &[String]) -> String {
    if ids.is_empty() {
        "no unfinished run was created since the request was sent".to_string()
    } else {
        format!("candidate runs: {}", ids.join(", "))
    }
}

/// The workspace's runs could not be listed to name the candidates.
pub(super) fn candidates_unknown(error: impl Display) -> String {
    format!("its runs could not be listed either: {error}")
}

// ------------------------------------------------------------------ create and delete

/// Terraform asked to stop, or the timeout passed, before any run existed; `what` is under way.
pub(super) fn ended_before_any_run(stopped: bool, what: &str) -> Diagnostics {
    if stopped {
        Diagnostics::from_error(
            "Interrupted",
            format!("Terraform asked the provider to stop while {what}; no run was queued."),
        )
    } else {
        Diagnostics::from_error(
            "Timed out",
            format!("The timeout passed while {what}; no run was queued."),
        )
    }
}

/// What create and delete are doing while bounded, for [`ended_before_any_run`].
pub(super) const CONNECTING: &str = "connecting to the TFE API";
/// See [`CONNECTING`].
pub(super) const READING_WORKSPACE: &str = "reading the workspace";
/// See [`CONNECTING`].
pub(super) const LOOKING_FOR_LEFT_BEHIND: &str = "looking for a run left by an earlier apply";
/// See [`CONNECTING`].
pub(super) const CHECKING_INSTANCE_RUN: &str = "checking the run of the instance";
/// See [`CONNECTING`].
pub(super) const READING_RUN: &str = "reading the run";

/// The workspace could not be read, so no run was queued.
pub(super) fn cannot_read_workspace(destroy: bool, workspace_id: &str, error: &str) -> Diagnostics {
    let queued = if destroy { "No destroy run" } else { "No run" };
    Diagnostics::from_error(
        "Cannot read the workspace",
        format!("Reading workspace {workspace_id} failed: {error}. {queued} was queued."),
    )
}

/// A destroy found the workspace gone.
pub(super) fn workspace_gone(workspace_id: &str) -> Diagnostics {
    let mut diags = Diagnostics::new();
    diags.warning(
        "Workspace no longer exists",
        format!(
            "Workspace {workspace_id} was not found, so there is nothing to destroy and no destroy run was queued."
        ),
    );
    diags
}

/// Looking for a run left behind failed, so none was queued.
pub(super) fn cannot_look_for_left_behind(
    operation: impl Display,
    failure: impl Display,
) -> Diagnostics {
    Diagnostics::from_error(
        format!("Could not queue the {operation} run"),
        format!("{failure}. No run was queued."),
    )
}

/// A run of ours that an interrupted apply left unfinished is seen through instead of a new one.
pub(super) fn adopted(
    operation: impl Display,
    run_id: &str,
    status: impl Display,
    workspace_id: &str,
    diags: &mut Diagnostics,
) {
    diags.warning(
        format!("Adopted an unfinished {operation} run"),
        format!(
            "Run {run_id} ({status}) in workspace {workspace_id} was queued by an earlier, interrupted apply of \
             this provider and never finished: it is seen through instead of queuing a second {operation} run \
             beside it."
        ),
    )
}

/// The summary of a failed run, by why it failed.
pub(super) fn could_not_queue(operation: impl Display) -> String {
    format!("Could not queue the {operation} run")
}
/// See [`could_not_queue`].
pub(super) fn run_ended(operation: impl Display, status: &str) -> String {
    format!("The {operation} run ended {status}")
}
/// See [`could_not_queue`].
pub(super) fn interrupted_waiting(operation: impl Display) -> String {
    format!("Interrupted waiting for the {operation} run")
}
/// See [`could_not_queue`].
pub(super) fn timed_out_waiting(operation: impl Display) -> String {
    format!("Timed out waiting for the {operation} run")
}
/// See [`could_not_queue`].
pub(super) fn error_waiting(operation: impl Display) -> String {
    format!("Error waiting for the {operation} run")
}

/// Appended to a failed apply that created a run: what happens to it next.
pub(super) fn apply_failed_keeps_run(run_id: &str) -> String {
    format!(
        "\n\nThe run ID {run_id} is kept in the state and the resource is marked tainted, so the next apply \
         replaces it with a new run. Because this apply never succeeded, replacing or destroying the \
         resource queues no destroy run, and a run of it still waiting is discarded first."
    )
}

/// Appended to a failed re-run (an update queued by `triggers` or an added apply block): nothing changes in
/// the state. `kept` is the run the state keeps recording, if any.
pub(super) fn rerun_failed_keeps_state(kept: Option<&str>) -> String {
    let kept = match kept {
        Some(id) => format!("the state still records run {id}, the last one that succeeded"),
        None => "the state is left as it was".to_string(),
    };
    format!(
        "\n\nThis was a re-run of an existing tfe_workspace_run: {kept}. Nothing was replaced or destroyed, no \
         destroy run was queued, and the destroy block stays armed as before. The next apply queues the re-run \
         again, as long as the change that asked for it is still in the configuration."
    )
}

/// The run's own details (its plan) could not be read after it succeeded.
pub(super) fn run_details_unread(run_id: &str, why: &str, diags: &mut Diagnostics) {
    diags.warning(
        "Run details not read",
        format!(
            "Run {run_id} succeeded, but reading its plan afterwards failed ({why}), so has_changes and the \
             resource counts are null; the next refresh fills them in."
        ),
    );
}

/// The workspace's outputs could not be read after the run succeeded.
pub(super) fn outputs_unread(workspace_id: &str, why: &str, diags: &mut Diagnostics) {
    diags.warning(
        "Outputs not read",
        format!(
            "The run succeeded, but the outputs of workspace {workspace_id} could not be read: {why}. outputs and \
             nonsensitive_outputs are null (a configuration reading them fails), and the next refresh reads them \
             again."
        ),
    );
}

// ------------------------------------------------------------------ the configuration

/// Logged while the workspace's latest configuration is on its way.
pub(super) fn waiting_for_configuration(id: &str, status: &str) -> String {
    format!(
        "the workspace's latest configuration version {id} is still {status}: waiting for it before queuing, \
         since a run queued now would fail to fetch it"
    )
}

/// The configuration did not arrive within the wait's limit, so no run was queued.
pub(super) fn configuration_not_arrived(
    workspace_id: &str,
    id: &str,
    status: &str,
    waited: Duration,
    timed_out: bool,
) -> Diagnostics {
    let limit = if timed_out {
        "the timeouts block's limit"
    } else {
        "the longest wait for a configuration"
    };
    Diagnostics::from_error(
        "Configuration not ready",
        format!(
            "The latest configuration version of workspace {workspace_id}, {id}, was still {status} after {} s \
             ({limit}): a run queued now would fail to fetch it, so none was queued. Finish the upload (or check \
             the workspace's VCS connection) and apply again.",
            waited.as_secs()
        ),
    )
}

/// What create and delete are doing while bounded, for [`ended_before_any_run`].
pub(super) const WAITING_FOR_CONFIGURATION: &str = "waiting for the workspace's configuration";

/// The run an instance records could not be read, so nothing was destroyed.
pub(super) fn cannot_check_instance_run(run_id: &str, error: &str) -> Diagnostics {
    Diagnostics::from_error(
        "Cannot check the instance's run",
        format!(
            "Reading run {run_id} failed: {error}. Nothing was destroyed and no run was queued; try again."
        ),
    )
}

/// Where the run of an instance whose apply never succeeded was left, for [`no_destroy_run`].
pub(super) fn instance_run_ended(status: &str) -> String {
    format!("it ended {status}")
}
/// See [`instance_run_ended`].
pub(super) fn instance_run_discarded(status: &str) -> String {
    format!("it was still {status} and has now been discarded, so it no longer holds the workspace")
}
/// See [`instance_run_ended`].
pub(super) fn instance_run_running(status: &str) -> String {
    format!("it is {status}, past the point of discarding, and was left as it is")
}

/// The instance's apply never succeeded, so its destroy queues nothing.
pub(super) fn no_destroy_run(
    run_id: &str,
    what: &str,
    workspace_id: &str,
    has_destroy_block: bool,
) -> Diagnostics {
    let armed = if has_destroy_block {
        " (the destroy block only arms once the apply has succeeded)"
    } else {
        ""
    };
    let mut diags = Diagnostics::new();
    diags.warning(
        "No destroy run queued",
        format!(
            "The apply of this tfe_workspace_run never succeeded (run {run_id}: {what}), so there is nothing of \
             it to destroy in workspace {workspace_id}: no destroy run was queued{armed}."
        ),
    );
    diags
}

/// A destroy of a workspace that was never applied.
pub(super) fn workspace_never_applied(workspace_id: &str, diags: &mut Diagnostics) {
    diags.warning(
        "Workspace has no configuration",
        format!(
            "Workspace {workspace_id} has no configuration version, so it has never been applied and there is \
             nothing to destroy; no destroy run was queued."
        ),
    );
}

// ------------------------------------------------------------------ read and import

/// Refreshing could not read the run.
pub(super) fn cannot_read_run(run_id: &str, error: &str) -> Diagnostics {
    Diagnostics::from_error(
        "Cannot read the run",
        format!("Reading run {run_id} failed: {error}"),
    )
}

/// An import ID that is not a run's.
pub(super) fn invalid_import_id(id: &str) -> Diagnostics {
    Diagnostics::from_error(
        "Invalid import ID",
        format!(
            "{id:?} is not a run ID: import a tfe_workspace_run by the ID of its run, e.g. `terraform import \
             tfe_workspace_run.example run-AbCdEf123456`."
        ),
    )
}

/// The run to import could not be read.
pub(super) fn cannot_import(run_id: &str, error: &str) -> Diagnostics {
    Diagnostics::from_error(
        "Cannot import the run",
        format!("Reading run {run_id} failed: {error}"),
    )
}

/// The run to import names no workspace.
pub(super) fn import_without_workspace(run_id: &str) -> Diagnostics {
    Diagnostics::from_error(
        "Cannot import the run",
        format!("The API did not say which workspace run {run_id} belongs to."),
    )
}

// ------------------------------------------------------------------ plan

/// A plan removes or replaces an instance with an armed destroy block.
pub(super) fn destroy_run_ahead(replacement: bool, workspace_id: &str, diags: &mut Diagnostics) {
    let (verb, keep) = if replacement {
        (
            "replaces this tfe_workspace_run (its workspace_id changes)",
            "To keep it, remove the destroy block and apply before changing workspace_id.",
        )
    } else {
        (
            "removes this tfe_workspace_run",
            "To keep it, remove the destroy block and apply before removing the resource.",
        )
    };
    diags.warning(
        "Destroy run will be queued",
        format!(
            "Applying this plan {verb}, which queues a destroy run in workspace {workspace_id}: the infrastructure \
             that workspace manages will be destroyed (unless the apply run of this instance never succeeded). \
             {keep}"
        ),
    );
}

/// Why a plan queues an apply run on update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RerunReason {
    /// These `triggers` keys were added, changed or removed.
    Triggers(Vec<String>),
    /// An apply block was added to an instance that had none (hashicorp/tfe#1605).
    ApplyBlockAdded,
}

/// A plan that updates the instance in place and queues an apply run.
pub(super) fn apply_run_ahead(reason: &RerunReason, workspace_id: &str, diags: &mut Diagnostics) {
    let why = match reason {
        RerunReason::Triggers(keys) if keys.is_empty() => "triggers changed".to_string(),
        RerunReason::Triggers(keys) => format!("triggers changed ({})", keys.join(", ")),
        RerunReason::ApplyBlockAdded => "an apply block was added".to_string(),
    };
    diags.warning(
        "Apply run will be queued",
        format!(
            "Applying this plan queues a new apply run in workspace {workspace_id} because {why}, with the apply \
             block's settings, and records it in place: no replacement and no destroy run."
        ),
    );
}

/// A plan whose `triggers` is only known at apply: a run may be queued.
pub(super) fn apply_run_maybe(workspace_id: &str, diags: &mut Diagnostics) {
    diags.warning(
        "Apply run may be queued",
        format!(
            "triggers is known only after apply; if its value then differs from the stored one, applying this plan \
             queues a new apply run in workspace {workspace_id} in place (no replacement, no destroy run)."
        ),
    );
}

/// `triggers` changed on an instance without an apply block: nothing is queued.
pub(super) fn triggers_without_apply(workspace_id: &str, diags: &mut Diagnostics) {
    diags.warning(
        "No run queued",
        format!(
            "triggers changed, but this tfe_workspace_run has no apply block, so no run is queued in workspace \
             {workspace_id}; the new triggers are only stored. Add an apply block to run on changes."
        ),
    );
}

// ------------------------------------------------------------------ the log of a failed run

/// The `Error:` line of a failed phase's log.
pub(super) fn log_error(phase: &str, error: &str) -> String {
    format!("\n\nError in the {phase}: {error}")
}

/// The last lines of a failed phase's log, already indented.
pub(super) fn log_tail(phase: &str, indented_tail: &str) -> String {
    format!("\n\nLast lines of the {phase} log:\n{indented_tail}")
}

/// The log could not be read.
pub(super) fn log_unreadable(error: &str) -> String {
    format!("\n\nThe run's log could not be read: {error}.")
}

/// The log could not be read in time.
pub(super) fn log_too_slow(limit: Duration) -> String {
    format!(
        "\n\nThe run's log could not be read within {} s.",
        limit.as_secs()
    )
}
