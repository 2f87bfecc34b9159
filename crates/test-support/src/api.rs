//! Helpers for tests that drive the TFE API with this project's client.

use std::time::{Duration, Instant};

use serde_json::Value;
use tfe_client::{CreateRun, Run, RunStatus, TfeClient};

/// Polls `run_id` until it reaches `want`; fails when 10 s pass or the run ends in another status.
pub async fn wait_for(client: &TfeClient, run_id: &str, want: RunStatus) -> Run {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let run = client.run(run_id).await.expect("read run");
        if run.attributes.status == want {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "run {run_id} is {} after 10 s (wanted {want})",
            run.attributes.status
        );
        assert!(
            !run.attributes.status.is_final(),
            "run {run_id} ended {} (wanted {want})",
            run.attributes.status
        );
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}

/// A run create for `workspace_id` with the API's defaults.
pub fn run_for(workspace_id: &str) -> CreateRun {
    CreateRun {
        workspace_id: workspace_id.to_string(),
        ..Default::default()
    }
}

/// `base` knobs with the keys of `extra` set over them.
pub fn knobs_with(base: Value, extra: Value) -> Value {
    let mut knobs = base;
    for (key, value) in extra.as_object().cloned().unwrap_or_default() {
        knobs[key] = value;
    }
    knobs
}
