//! A workspace's latest configuration version, so that a caller about to queue a run can first wait for the
//! configuration to arrive: a run made while it is still `pending` (its upload not processed) or `fetching`
//! (from VCS) fails, and HCP Terraform does not wait for it (multispace#9).

use super::*;

impl TfeClient {
    /// The configuration version a run queued now would use: the workspace's `current-configuration-version`
    /// (the one created last, uploaded or not), read in full. `None` when the workspace has none yet, in which
    /// case the API refuses runs with "Configuration version is missing". See
    /// [`ConfigurationVersion::is_uploaded`] and [`ConfigurationVersion::is_on_its_way`].
    pub async fn latest_configuration_version(
        &self,
        workspace_id: &str,
    ) -> Result<Option<ConfigurationVersion>, TfeError> {
        let workspace = self.workspace(workspace_id).await?;
        match workspace.current_configuration_version_id() {
            Some(id) => self.configuration_version(id).await.map(Some),
            None => Ok(None),
        }
    }
}
