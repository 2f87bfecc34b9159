//! OAuth clients of an organization and their tokens: list, read, set or remove the SSH key, delete.

use super::*;

impl TfeClient {
    /// `GET /organizations/:org/oauth-clients`: one page of the organization's OAuth clients.
    pub async fn oauth_clients(
        &self,
        organization: &str,
        page: PageRequest,
    ) -> Result<Page<OAuthClient>, TfeError> {
        self.list(
            &format!("organizations/{}/oauth-clients", seg(organization)),
            page,
            &[],
        )
        .await
    }

    /// `GET /organizations/:org/oauth-tokens`: one page of the tokens of the organization's OAuth clients.
    pub async fn organization_oauth_tokens(
        &self,
        organization: &str,
        page: PageRequest,
    ) -> Result<Page<OAuthToken>, TfeError> {
        self.list(
            &format!("organizations/{}/oauth-tokens", seg(organization)),
            page,
            &[],
        )
        .await
    }

    /// `GET /oauth-tokens/:id`.
    pub async fn oauth_token(&self, id: &str) -> Result<OAuthToken, TfeError> {
        self.get(&format!("oauth-tokens/{}", seg(id)), &[]).await
    }

    /// `PATCH /oauth-tokens/:id`: sets (`ssh_key`) or removes (`clear_ssh_key`) the private SSH key.
    pub async fn update_oauth_token(
        &self,
        id: &str,
        options: &OAuthTokenOptions,
    ) -> Result<OAuthToken, TfeError> {
        let raw = self
            .send(
                Method::PATCH,
                &format!("oauth-tokens/{}", seg(id)),
                &[],
                Some(options.to_document()),
                Retry::Idempotent,
            )
            .await?;
        response::decode_data(&raw.body, self.inner.api_base.as_str())
    }

    /// `DELETE /oauth-tokens/:id`: the token is gone (its client lists none).
    pub async fn delete_oauth_token(&self, id: &str) -> Result<(), TfeError> {
        self.no_content(
            Method::DELETE,
            &format!("oauth-tokens/{}", seg(id)),
            Retry::Idempotent,
        )
        .await
    }
}
