//! [`RunApi`] over the TFE client, for one workspace: what each API error means for waiting,
//! and the messages the provider records on the runs it queues and confirms.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::provider::run_lifecycle::{ApiFailure, Operation, RunApi, RunSettings, RunView};
use crate::tfe::{CreateRun, PageRequest, PolicyCheckStatus, TfeClient, TfeError, Workspace};

/// Who queued or confirmed a run, as recorded on the run.
const ACTOR: &str = "terraform-provider-tfe (tfe_workspace_run)";

fn today() -> String {
    let date = time::OffsetDateTime::now_utc().date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The message sent when the block sets none (the official provider documents a default but
/// sends nothing).
pub fn default_message(operation: Operation) -> String {
    format!("{operation} run queued by {ACTOR} on {}", today())
}

fn confirm_comment() -> String {
    format!("Run confirmed by {ACTOR} on {}", today())
}

/// One workspace's runs, through the shared client.
pub struct TfeRuns<'a> {
    client: &'a TfeClient,
    workspace_id: String,
    organization: String,
    workspace_name: String,
    /// Set when a create was refused because the workspace has no configuration version.
    pub configuration_version_missing: AtomicBool,
}

impl<'a> TfeRuns<'a> {
    pub fn new(client: &'a TfeClient, workspace: &Workspace) -> Self {
        TfeRuns {
            client,
            workspace_id: workspace.id.clone(),
            organization: workspace.organization_name().unwrap_or("-").to_string(),
            workspace_name: workspace.attributes.name.clone(),
            configuration_version_missing: AtomicBool::new(false),
        }
    }
}

impl TfeRuns<'_> {
    /// After a create whose outcome is unknown: the newest run of the workspace if it is the one
    /// just asked for (same kind and message, created in the last few minutes).
    async fn find_just_created(
        &self,
        operation: Operation,
        message: &str,
    ) -> Option<crate::tfe::Run> {
        let page = PageRequest { number: 1, size: 5 };
        let runs = self
            .client
            .workspace_runs(&self.workspace_id, page)
            .await
            .ok()?;
        let recent = time::OffsetDateTime::now_utc() - time::Duration::minutes(5);
        runs.items.into_iter().find(|run| {
            let a = &run.attributes;
            a.is_destroy == operation.is_destroy()
                && a.message.as_deref() == Some(message)
                && a.created_at
                    .as_deref()
                    .and_then(|t| {
                        time::OffsetDateTime::parse(
                            t,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .ok()
                    })
                    .is_some_and(|at| at >= recent)
        })
    }
}

/// How a TFE error affects waiting; fatal ones carry a message saying what to check.
fn to_api_failure(error: TfeError) -> ApiFailure {
    match error {
        TfeError::Conflict { .. } => ApiFailure::Conflict(error.to_string()),
        TfeError::RateLimited { retry_after, .. } => ApiFailure::Transient {
            message: error.to_string(),
            retry_after,
        },
        TfeError::Server { .. }
        | TfeError::Transport { .. }
        | TfeError::Timeout { .. }
        | TfeError::OutcomeUnknown { .. } => ApiFailure::Transient {
            message: error.to_string(),
            retry_after: None,
        },
        other => ApiFailure::Fatal(explain(&other)),
    }
}

/// The error with a hint for the statuses a user can do something about.
pub fn explain(error: &TfeError) -> String {
    let hint = match error.status() {
        Some(401) => " (the API token was refused: check the provider's token)",
        Some(403) => " (the token is not allowed to do this: check its team's permissions)",
        Some(404) => " (it does not exist, or the token cannot see it)",
        _ => "",
    };
    format!("{error}{hint}")
}

fn view(run: &crate::tfe::Run) -> RunView {
    RunView {
        id: run.id.clone(),
        status: run.status().as_str().to_string(),
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
        let message = settings
            .message
            .clone()
            .unwrap_or_else(|| default_message(operation));
        let options = CreateRun {
            workspace_id: self.workspace_id.clone(),
            is_destroy: operation.is_destroy(),
            auto_apply: Some(settings.auto_apply()),
            message: Some(message.clone()),
            ..CreateRun::default()
        };
        match self.client.create_run(options).await {
            Ok(run) => Ok(view(&run)),
            // The server may have queued it: find it rather than forget it (or queue a second one).
            Err(e @ TfeError::OutcomeUnknown { .. }) => {
                match self.find_just_created(operation, &message).await {
                    Some(run) => {
                        tracing::warn!(run_id = %run.id, "creating the run failed ({e}), but the run exists; going on with it");
                        Ok(view(&run))
                    }
                    None => Err(ApiFailure::Fatal(format!(
                        "{e}; no matching run was found in workspace {}, but check its runs before applying again",
                        self.workspace_id
                    ))),
                }
            }
            Err(e) if e.is_configuration_version_missing() => {
                self.configuration_version_missing
                    .store(true, Ordering::SeqCst);
                Err(ApiFailure::Fatal(e.to_string()))
            }
            Err(e) => Err(match to_api_failure(e) {
                ApiFailure::Transient { message, .. } | ApiFailure::Conflict(message) => {
                    ApiFailure::Fatal(message)
                }
                fatal => fatal,
            }),
        }
    }

    async fn read_run(&self, run_id: &str) -> Result<RunView, ApiFailure> {
        self.client
            .run(run_id)
            .await
            .map(|run| view(&run))
            .map_err(to_api_failure)
    }

    async fn confirm_run(&self, run_id: &str) -> Result<(), ApiFailure> {
        // A 5xx on an action comes back as OutcomeUnknown: transient, i.e. "poll again".
        self.client
            .apply_run(run_id, Some(&confirm_comment()))
            .await
            .map_err(to_api_failure)
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

    fn run_url(&self, run_id: &str) -> String {
        self.client
            .run_url(&self.organization, &self.workspace_name, run_id)
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
