//! Configuration versions and the configuration upload.

use super::*;

impl TfeClient {
    /// `POST /workspaces/:id/configuration-versions`: a new configuration version awaiting its upload. `auto_queue_runs` queues a run once the upload is processed; `speculative` makes it plan-only.
    pub async fn create_configuration_version(
        &self,
        workspace_id: &str,
        auto_queue_runs: bool,
        speculative: bool,
    ) -> Result<ConfigurationVersion, TfeError> {
        let body = ConfigurationVersionOptions {
            auto_queue_runs: Some(auto_queue_runs),
            speculative: Some(speculative),
            provisional: None,
        }
        .to_document();
        self.write(
            Method::POST,
            &format!("workspaces/{}/configuration-versions", seg(workspace_id)),
            body,
        )
        .await
    }

    /// `GET /configuration-versions/:id`.
    pub async fn configuration_version(&self, id: &str) -> Result<ConfigurationVersion, TfeError> {
        self.get(&format!("configuration-versions/{}", seg(id)), &[])
            .await
    }

    /// One page of a workspace's configuration versions.
    pub async fn configuration_versions(
        &self,
        workspace_id: &str,
        page: PageRequest,
    ) -> Result<Page<ConfigurationVersion>, TfeError> {
        self.list(
            &format!("workspaces/{}/configuration-versions", seg(workspace_id)),
            page,
            &[],
        )
        .await
    }

    /// Uploads a tar.gz to a configuration version's `upload-url` (no auth, as the API requires).
    pub async fn upload_configuration(
        &self,
        upload_url: &str,
        archive: Vec<u8>,
    ) -> Result<(), TfeError> {
        let url = Url::parse(upload_url)
            .map_err(|e| TfeError::Config(format!("upload URL {upload_url:?}: {e}")))?;
        let archive = bytes::Bytes::from(archive);
        // A PUT of the same bytes is idempotent: retried like a read, without the API token.
        self.inner
            .wire
            .execute(Call {
                accept: "*/*",
                auth: false,
                ..Call::api(
                    Method::PUT,
                    url,
                    Payload::Octets(&archive),
                    Retry::Idempotent,
                )
            })
            .await
            .map(|_| ())
    }
}
