//! What hangs off a run: plans, applies, cost estimates, policy checks, task stages.

use super::*;

impl TfeClient {
    pub async fn plan(&self, id: &str) -> Result<Plan, TfeError> {
        self.get(&format!("plans/{}", seg(id)), &[]).await
    }

    pub async fn apply(&self, id: &str) -> Result<Apply, TfeError> {
        self.get(&format!("applies/{}", seg(id)), &[]).await
    }

    pub async fn cost_estimate(&self, id: &str) -> Result<CostEstimate, TfeError> {
        self.get(&format!("cost-estimates/{}", seg(id)), &[]).await
    }

    pub async fn run_policy_checks(&self, run_id: &str) -> Result<Vec<PolicyCheck>, TfeError> {
        self.all_pages(&format!("runs/{}/policy-checks", seg(run_id)))
            .await
    }

    pub async fn override_policy_check(&self, id: &str) -> Result<PolicyCheck, TfeError> {
        self.write(
            Method::POST,
            &format!("policy-checks/{}/actions/override", seg(id)),
            json!({}),
        )
        .await
    }

    pub async fn run_task_stages(&self, run_id: &str) -> Result<Vec<TaskStage>, TfeError> {
        self.all_pages(&format!("runs/{}/task-stages", seg(run_id)))
            .await
    }
}
