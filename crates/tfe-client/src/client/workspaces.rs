//! Workspaces: by id and by name, create, update, delete and safe delete, locks, their runs.

use super::*;

impl TfeClient {
    /// `GET /workspaces/:id`.
    pub async fn workspace(&self, id: &str) -> Result<Workspace, TfeError> {
        self.get(&format!("workspaces/{}", seg(id)), &[]).await
    }

    /// `GET /workspaces/:id?include=current_run,current_configuration_version`: the workspace and, in the same
    /// request, its current run and its latest configuration version (each if it has one and the server
    /// included it).
    pub async fn workspace_with_current_run(
        &self,
        id: &str,
    ) -> Result<WorkspaceWithCurrent, TfeError> {
        let query = [(
            "include".to_string(),
            "current_run,current_configuration_version".to_string(),
        )];
        let raw = self
            .send(
                Method::GET,
                &format!("workspaces/{}", seg(id)),
                &query,
                None,
                Retry::Idempotent,
            )
            .await?;
        response::decode_workspace_with_current_run(&raw.body, self.inner.api_base.as_str())
    }

    /// `GET /organizations/:org/workspaces/:name`.
    pub async fn workspace_by_name(
        &self,
        organization: &str,
        name: &str,
    ) -> Result<Workspace, TfeError> {
        self.get(
            &format!(
                "organizations/{}/workspaces/{}",
                seg(organization),
                seg(name)
            ),
            &[],
        )
        .await
    }

    /// `POST /organizations/:org/workspaces`; `options.name` must be set.
    pub async fn create_workspace(
        &self,
        organization: &str,
        options: &WorkspaceOptions,
    ) -> Result<Workspace, TfeError> {
        if options.name.as_deref().unwrap_or("").is_empty() {
            return Err(TfeError::Config("a workspace needs a name".into()));
        }
        let body = options.to_document();
        self.write(
            Method::POST,
            &format!("organizations/{}/workspaces", seg(organization)),
            body,
        )
        .await
    }

    /// `PATCH /workspaces/:id`: changes the attributes `options` sets.
    pub async fn update_workspace(
        &self,
        id: &str,
        options: &WorkspaceOptions,
    ) -> Result<Workspace, TfeError> {
        let body = options.to_document();
        let raw = self
            .send(
                Method::PATCH,
                &format!("workspaces/{}", seg(id)),
                &[],
                Some(body),
                Retry::Idempotent,
            )
            .await?;
        response::decode_data(&raw.body, self.inner.api_base.as_str())
    }

    /// Force delete.
    pub async fn delete_workspace(&self, id: &str) -> Result<(), TfeError> {
        self.no_content(
            Method::DELETE,
            &format!("workspaces/{}", seg(id)),
            Retry::Idempotent,
        )
        .await
    }

    /// Deletes only if the workspace manages no resources and is not locked (409 otherwise).
    pub async fn safe_delete_workspace(&self, id: &str) -> Result<(), TfeError> {
        self.no_content(
            Method::POST,
            &format!("workspaces/{}/actions/safe-delete", seg(id)),
            Retry::Unsafe,
        )
        .await
    }

    /// Locks a workspace, with `reason` shown in the UI; 409 when it is already locked.
    pub async fn lock_workspace(&self, id: &str, reason: &str) -> Result<Workspace, TfeError> {
        self.write(
            Method::POST,
            &format!("workspaces/{}/actions/lock", seg(id)),
            json!({"reason": reason}),
        )
        .await
    }

    /// Unlocks a workspace locked by this user; 409 when it is not locked or a run holds the lock.
    pub async fn unlock_workspace(&self, id: &str) -> Result<Workspace, TfeError> {
        self.write(
            Method::POST,
            &format!("workspaces/{}/actions/unlock", seg(id)),
            json!({}),
        )
        .await
    }

    /// Unlocks a workspace whoever holds the lock (needs admin rights); 409 when it is not locked.
    pub async fn force_unlock_workspace(&self, id: &str) -> Result<Workspace, TfeError> {
        self.write(
            Method::POST,
            &format!("workspaces/{}/actions/force-unlock", seg(id)),
            json!({}),
        )
        .await
    }

    /// `GET /organizations/:org/workspaces?include=current_run,current_run.plan,current-state-version,outputs`:
    /// one page of the organization's workspaces, each with what its last run did (its plan, the state
    /// version it left and the outputs). One request reads it for up to 100 workspaces.
    pub async fn organization_workspace_results(
        &self,
        organization: &str,
        page: PageRequest,
    ) -> Result<Page<WorkspaceResults>, TfeError> {
        let include = "current_run,current_run.plan,current-state-version,outputs";
        let (body, number) = self
            .organization_workspace_page(organization, page, include)
            .await?;
        response::decode_workspace_results(&body, self.inner.api_base.as_str(), number)
    }

    /// `GET /organizations/:org/workspaces?include=current_run,current_configuration_version`: one page
    /// of the organization's workspaces, each with what [`TfeClient::workspace_with_current_run`] reads
    /// of one. One request reads up to 100 workspaces.
    pub async fn organization_workspaces(
        &self,
        organization: &str,
        page: PageRequest,
    ) -> Result<Page<WorkspaceWithCurrent>, TfeError> {
        let include = "current_run,current_configuration_version";
        let (body, number) = self
            .organization_workspace_page(organization, page, include)
            .await?;
        response::decode_workspaces_with_current_runs(&body, self.inner.api_base.as_str(), number)
    }

    /// One page of the organization's workspaces with `include`: the body and the page number asked for.
    async fn organization_workspace_page(
        &self,
        organization: &str,
        page: PageRequest,
        include: &str,
    ) -> Result<(bytes::Bytes, u32), TfeError> {
        let number = page.number.max(1);
        let query = [
            ("page[number]".to_string(), number.to_string()),
            (
                "page[size]".to_string(),
                page.size.clamp(1, 100).to_string(),
            ),
            ("include".to_string(), include.to_string()),
        ];
        let raw = self
            .send(
                Method::GET,
                &format!("organizations/{}/workspaces", seg(organization)),
                &query,
                None,
                Retry::Idempotent,
            )
            .await?;
        Ok((raw.body, number))
    }

    /// Runs of a workspace, newest first.
    pub async fn workspace_runs(
        &self,
        workspace_id: &str,
        page: PageRequest,
    ) -> Result<Page<Run>, TfeError> {
        self.list(&format!("workspaces/{}/runs", seg(workspace_id)), page, &[])
            .await
    }
}
