//! Workspace variables (`/workspaces/:id/vars`): list, read, create, update, delete. The API never returns a
//! sensitive variable's value (it reads as `None`), and refuses a second variable with the same key in the same
//! category with a 422 ([`TfeError::Unprocessable`], "Key has already been taken").

use super::*;

impl TfeClient {
    /// `GET /workspaces/:id/vars`: every variable of the workspace (the endpoint is not paginated), in the
    /// order they were created; variable sets' variables are not included.
    pub async fn variables(&self, workspace_id: &str) -> Result<Vec<Variable>, TfeError> {
        self.get(&format!("workspaces/{}/vars", seg(workspace_id)), &[])
            .await
    }

    /// `GET /workspaces/:id/vars/:variable_id`.
    pub async fn variable(
        &self,
        workspace_id: &str,
        variable_id: &str,
    ) -> Result<Variable, TfeError> {
        self.get(
            &format!("workspaces/{}/vars/{}", seg(workspace_id), seg(variable_id)),
            &[],
        )
        .await
    }

    /// `POST /workspaces/:id/vars`; `options.key` and `options.category` must be set. A create whose answer is
    /// lost is not repeated ([`TfeError::OutcomeUnknown`]): list the variables to see whether it was made.
    pub async fn create_variable(
        &self,
        workspace_id: &str,
        options: &VariableOptions,
    ) -> Result<Variable, TfeError> {
        if options.key.as_deref().unwrap_or("").is_empty() {
            return Err(TfeError::Config("a variable needs a key".into()));
        }
        if options.category.is_none() {
            return Err(TfeError::Config(
                "a variable needs a category: terraform or env".into(),
            ));
        }
        self.write(
            Method::POST,
            &format!("workspaces/{}/vars", seg(workspace_id)),
            options.to_document(),
        )
        .await
    }

    /// `PATCH /workspaces/:id/vars/:variable_id`: changes the attributes `options` sets (the API gives the
    /// variable a new `version-id` even when nothing changed). Repeating it is harmless, so it is retried.
    pub async fn update_variable(
        &self,
        workspace_id: &str,
        variable_id: &str,
        options: &VariableOptions,
    ) -> Result<Variable, TfeError> {
        let mut body = options.to_document();
        body["data"]["id"] = Value::String(variable_id.to_string());
        self.update(
            &format!("workspaces/{}/vars/{}", seg(workspace_id), seg(variable_id)),
            body,
        )
        .await
    }

    /// `DELETE /workspaces/:id/vars/:variable_id` (404 when it is already gone).
    pub async fn delete_variable(
        &self,
        workspace_id: &str,
        variable_id: &str,
    ) -> Result<(), TfeError> {
        self.no_content(
            Method::DELETE,
            &format!("workspaces/{}/vars/{}", seg(workspace_id), seg(variable_id)),
            Retry::Idempotent,
        )
        .await
    }
}
