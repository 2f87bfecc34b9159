//! Waiting for the workspace's configuration before queuing a run (mitchellh/terraform-provider-multispace#9).
//! A run uses the workspace's latest configuration version; while that one is still arriving (`pending`: its
//! upload not processed yet; `fetching`: from VCS), a run queued now fails to fetch it, and HCP Terraform does
//! not wait. So before queuing, the latest configuration version is read and, while it is on its way, read
//! again, within the timeouts block's limit and at most [`CONFIGURATION_WAIT`].
//!
//! It costs no request in the usual case: the workspace read that comes before includes the latest
//! configuration version (`include=current_configuration_version`), and one that the workspace's current run
//! already used has arrived. Only a configuration still on its way (or one the server did not include) is
//! read, once a second while it is on its way.

use std::time::Duration;

use tfe_client::{ConfigurationVersion, Run, TfeClient, Workspace};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::lifecycle::{Ended, guarded};
use super::messages;

/// The longest wait for a configuration still on its way when the timeouts block sets a longer limit or
/// none: a configuration version whose upload never comes stays `pending` for ever.
pub(super) const CONFIGURATION_WAIT: Duration = Duration::from_secs(600);

/// How often the configuration version is read again while it is on its way.
const CONFIGURATION_POLL: Duration = Duration::from_secs(1);

/// The configuration version to wait for before queuing: the workspace's latest, unless the workspace's
/// current run was made from it or `included` (the latest, as the workspace read included it) shows it has
/// arrived. `None` also when the workspace has none (the create then says so).
pub(super) fn to_check(
    workspace: &Workspace,
    current: Option<&Run>,
    included: Option<&ConfigurationVersion>,
) -> Option<String> {
    let latest = workspace.current_configuration_version_id()?;
    let used_by_current = current
        .and_then(|run| run.related_id("configuration-version"))
        .is_some_and(|id| id == latest);
    let arrived = included.is_some_and(|version| version.id == latest && !version.is_on_its_way());
    (!used_by_current && !arrived).then(|| latest.to_string())
}

/// Why no run may be queued yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NotArrived {
    /// Still on its way when the wait's limit passed.
    StillOnItsWay {
        id: String,
        status: String,
        waited: Duration,
        /// The limit was the timeouts block's (not [`CONFIGURATION_WAIT`]).
        timed_out: bool,
    },
    /// Terraform asked the provider to stop.
    Stopped,
}

/// Waits while configuration version `id` is on its way. A read that fails (after the client's own retries)
/// ends the wait: the create that follows is what it always was, and its answer tells.
pub(super) async fn await_configuration(
    client: &TfeClient,
    id: &str,
    stop: &CancellationToken,
    deadline: Option<Instant>,
) -> Result<(), NotArrived> {
    let started = Instant::now();
    let limit = started + CONFIGURATION_WAIT;
    let (until, timed_out) = match deadline {
        Some(at) if at < limit => (at, true),
        _ => (limit, false),
    };
    let mut logged = false;
    loop {
        let read = guarded(stop, Some(until), client.configuration_version(id)).await;
        let version = match read {
            Ok(Ok(version)) => version,
            Ok(Err(e)) => {
                tracing::warn!(
                    "could not read configuration version {id} before queuing ({e}); queuing anyway"
                );
                return Ok(());
            }
            Err(Ended::Stopped) => return Err(NotArrived::Stopped),
            Err(Ended::TimedOut) => {
                return Err(NotArrived::StillOnItsWay {
                    id: id.to_string(),
                    status: "unknown".to_string(),
                    waited: started.elapsed(),
                    timed_out,
                });
            }
        };
        if !version.is_on_its_way() {
            if logged {
                tracing::info!(
                    "configuration version {id} is {}; queuing",
                    version.attributes.status
                );
            }
            return Ok(());
        }
        if !logged {
            logged = true;
            tracing::info!(
                "{}",
                messages::waiting_for_configuration(id, &version.attributes.status)
            );
        }
        let status = version.attributes.status;
        match guarded(stop, Some(until), tokio::time::sleep(CONFIGURATION_POLL)).await {
            Ok(()) => {}
            Err(Ended::Stopped) => return Err(NotArrived::Stopped),
            Err(Ended::TimedOut) => {
                return Err(NotArrived::StillOnItsWay {
                    id: id.to_string(),
                    status,
                    waited: started.elapsed(),
                    timed_out,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn workspace(latest: Option<&str>) -> Workspace {
        let mut doc = json!({"id": "ws-1", "type": "workspaces", "attributes": {"name": "app"}, "relationships": {}});
        if let Some(id) = latest {
            doc["relationships"]["current-configuration-version"] =
                json!({"data": {"id": id, "type": "configuration-versions"}});
        }
        serde_json::from_value(doc).expect("a workspace")
    }

    fn run(configuration: &str) -> Run {
        serde_json::from_value(json!({
            "id": "run-1", "type": "runs",
            "attributes": {"status": "applied"},
            "relationships": {"configuration-version": {"data": {"id": configuration, "type": "configuration-versions"}}}
        }))
        .expect("a run")
    }

    fn version(id: &str, status: &str) -> ConfigurationVersion {
        serde_json::from_value(json!({
            "id": id, "type": "configuration-versions", "attributes": {"status": status}
        }))
        .expect("a configuration version")
    }

    #[test]
    fn only_a_configuration_not_known_to_have_arrived_is_waited_for() {
        let ws = workspace(Some("cv-2"));
        assert_eq!(to_check(&ws, None, None).as_deref(), Some("cv-2"));
        assert_eq!(
            to_check(&ws, Some(&run("cv-1")), None).as_deref(),
            Some("cv-2")
        );
        assert_eq!(to_check(&ws, Some(&run("cv-2")), None), None);
        assert_eq!(to_check(&workspace(None), Some(&run("cv-2")), None), None);
        // Included with the workspace: no request unless it is still on its way.
        assert_eq!(
            to_check(&ws, None, Some(&version("cv-2", "uploaded"))),
            None
        );
        for arriving in ["pending", "fetching"] {
            assert_eq!(
                to_check(&ws, None, Some(&version("cv-2", arriving))).as_deref(),
                Some("cv-2"),
                "{arriving}"
            );
        }
        // An included version that is not the latest says nothing of the latest.
        assert_eq!(
            to_check(&ws, None, Some(&version("cv-1", "uploaded"))).as_deref(),
            Some("cv-2")
        );
    }
}
