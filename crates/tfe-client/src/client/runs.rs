//! Runs: create, read (with includes), list, and the run actions.

use super::*;

/// A run with the resources requested through `include`.
#[derive(Debug, Clone)]
pub struct RunWithIncludes {
    /// The run.
    pub run: Run,
    /// Raw included resources; use [`RunWithIncludes::included`] to decode one.
    pub included: Vec<Value>,
}

impl RunWithIncludes {
    /// Decodes the included resource of `kind` with `id`.
    pub fn included<T: DeserializeOwned>(&self, kind: &str, id: &str) -> Option<T> {
        self.included
            .iter()
            .find(|v| v["type"] == kind && v["id"] == id)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }
}

impl TfeClient {
    /// `POST /runs`.
    pub async fn create_run(&self, options: CreateRun) -> Result<Run, TfeError> {
        self.write(Method::POST, "runs", options.to_document())
            .await
    }

    /// `GET /runs/:id`: one request (plus bounded retries of 429/5xx/transport failures).
    pub async fn run(&self, id: &str) -> Result<Run, TfeError> {
        self.get(&format!("runs/{}", seg(id)), &[]).await
    }

    /// `GET /runs/:id?include=...`, e.g. `["plan", "apply", "workspace", "cost_estimate"]`.
    pub async fn run_with_includes(
        &self,
        id: &str,
        include: &[&str],
    ) -> Result<RunWithIncludes, TfeError> {
        let query = [("include".to_string(), include.join(","))];
        let raw = self
            .send(
                Method::GET,
                &format!("runs/{}", seg(id)),
                &query,
                None,
                Retry::Idempotent,
            )
            .await?;
        let (run, included) =
            response::decode_run_with_includes(&raw.body, self.inner.api_base.as_str())?;
        Ok(RunWithIncludes { run, included })
    }

    /// Runs of an organization, newest first.
    pub async fn org_runs(
        &self,
        organization: &str,
        page: PageRequest,
    ) -> Result<Page<Run>, TfeError> {
        self.list(
            &format!("organizations/{}/runs", seg(organization)),
            page,
            &[],
        )
        .await
    }

    /// Confirms a run paused for confirmation; 409 (`TfeError::Conflict`) when it is not.
    pub async fn apply_run(&self, id: &str, comment: Option<&str>) -> Result<(), TfeError> {
        self.run_action(id, "apply", comment).await
    }

    /// Discards a run paused for confirmation or policy override; 409 when it is not.
    pub async fn discard_run(&self, id: &str, comment: Option<&str>) -> Result<(), TfeError> {
        self.run_action(id, "discard", comment).await
    }

    /// Cancels a run that is planning or applying; 409 when it is not.
    pub async fn cancel_run(&self, id: &str, comment: Option<&str>) -> Result<(), TfeError> {
        self.run_action(id, "cancel", comment).await
    }

    /// Ends a run that a cancel did not stop and unlocks its workspace; the API allows it only after a cancel.
    pub async fn force_cancel_run(&self, id: &str, comment: Option<&str>) -> Result<(), TfeError> {
        self.run_action(id, "force-cancel", comment).await
    }

    /// Starts a pending run at once by discarding the run that blocks its workspace (403/409 otherwise).
    pub async fn force_execute_run(&self, id: &str) -> Result<(), TfeError> {
        self.send(
            Method::POST,
            &format!("runs/{}/actions/force-execute", seg(id)),
            &[],
            None,
            Retry::Unsafe,
        )
        .await
        .map(|_| ())
    }

    async fn run_action(
        &self,
        id: &str,
        action: &str,
        comment: Option<&str>,
    ) -> Result<(), TfeError> {
        let body = RunActionOptions {
            comment: comment.map(str::to_owned),
        }
        .to_body();
        self.send(
            Method::POST,
            &format!("runs/{}/actions/{action}", seg(id)),
            &[],
            Some(body),
            Retry::Unsafe,
        )
        .await
        .map(|_| ())
    }
}
