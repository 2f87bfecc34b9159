//! OAuth clients.

use super::*;

/// Parameters of OAuth client create.
#[derive(Debug, Clone, Default)]
pub struct CreateOAuthClient {
    pub service_provider: String,
    pub http_url: String,
    pub api_url: String,
    pub oauth_token_string: Option<String>,
    pub name: Option<String>,
    pub organization_scoped: Option<bool>,
}

impl TfeClient {
    pub async fn create_oauth_client(
        &self,
        organization: &str,
        options: &CreateOAuthClient,
    ) -> Result<OAuthClient, TfeError> {
        let mut attrs = json!({
            "service-provider": options.service_provider,
            "http-url": options.http_url,
            "api-url": options.api_url,
        });
        set_opt(
            &mut attrs,
            "oauth-token-string",
            &options.oauth_token_string,
        );
        set_opt(&mut attrs, "name", &options.name);
        set_opt(
            &mut attrs,
            "organization-scoped",
            &options.organization_scoped,
        );
        let body = json!({"data": {"type": "oauth-clients", "attributes": attrs}});
        self.write(
            Method::POST,
            &format!("organizations/{}/oauth-clients", seg(organization)),
            body,
        )
        .await
    }

    pub async fn oauth_client(&self, id: &str) -> Result<OAuthClient, TfeError> {
        self.get(&format!("oauth-clients/{}", seg(id)), &[]).await
    }

    pub async fn delete_oauth_client(&self, id: &str) -> Result<(), TfeError> {
        self.no_content(
            Method::DELETE,
            &format!("oauth-clients/{}", seg(id)),
            Retry::Idempotent,
        )
        .await
    }
}
