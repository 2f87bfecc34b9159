//! OAuth clients.

use super::*;

impl TfeClient {
    /// `POST /organizations/:name/oauth-clients`: connects a VCS provider.
    pub async fn create_oauth_client(
        &self,
        organization: &str,
        options: &CreateOAuthClient,
    ) -> Result<OAuthClient, TfeError> {
        self.write(
            Method::POST,
            &format!("organizations/{}/oauth-clients", seg(organization)),
            options.to_document(),
        )
        .await
    }

    /// `GET /oauth-clients/:id`.
    pub async fn oauth_client(&self, id: &str) -> Result<OAuthClient, TfeError> {
        self.get(&format!("oauth-clients/{}", seg(id)), &[]).await
    }

    /// `DELETE /oauth-clients/:id`.
    pub async fn delete_oauth_client(&self, id: &str) -> Result<(), TfeError> {
        self.no_content(
            Method::DELETE,
            &format!("oauth-clients/{}", seg(id)),
            Retry::Idempotent,
        )
        .await
    }
}
