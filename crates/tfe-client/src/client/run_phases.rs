//! What hangs off a run: plans, applies, cost estimates, policy checks, task stages.

use super::*;

impl TfeClient {
    /// `GET /plans/:id`.
    pub async fn plan(&self, id: &str) -> Result<Plan, TfeError> {
        self.get(&format!("plans/{}", seg(id)), &[]).await
    }

    /// `GET /applies/:id`.
    pub async fn apply(&self, id: &str) -> Result<Apply, TfeError> {
        self.get(&format!("applies/{}", seg(id)), &[]).await
    }

    /// `GET /cost-estimates/:id`.
    pub async fn cost_estimate(&self, id: &str) -> Result<CostEstimate, TfeError> {
        self.get(&format!("cost-estimates/{}", seg(id)), &[]).await
    }

    /// A run's policy checks, every page.
    pub async fn run_policy_checks(&self, run_id: &str) -> Result<Vec<PolicyCheck>, TfeError> {
        self.all_pages(&format!("runs/{}/policy-checks", seg(run_id)))
            .await
    }

    /// Overrides a soft-failed policy check so the run can go on.
    pub async fn override_policy_check(&self, id: &str) -> Result<PolicyCheck, TfeError> {
        self.write(
            Method::POST,
            &format!("policy-checks/{}/actions/override", seg(id)),
            // An override, like a run action, carries nothing but an optional comment.
            RunActionOptions::default().to_body(),
        )
        .await
    }

    /// A run's task stages, every page.
    pub async fn run_task_stages(&self, run_id: &str) -> Result<Vec<TaskStage>, TfeError> {
        self.all_pages(&format!("runs/{}/task-stages", seg(run_id)))
            .await
    }
}
