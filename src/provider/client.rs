//! The one TFE client a provider process uses, built lazily on first use from the resolved
//! provider configuration: configure and plan never touch the network, and every resource shares
//! one connection pool and one rate limiter.

use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::provider::api_errors::hint;
use tfe_client::{TfeClient, TfeClientConfig, TfeError};
use tfplugin::Diagnostics;

use super::config::{ClientTuning, ProviderConfig, SharedConfig, TokenSource, client_tuning};

/// Why no client could be built.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    #[error("the provider is not configured")]
    NotConfigured,
    #[error(
        "no API token is available for {hostname}: set the provider's `token` argument, TFE_TOKEN, or a \
         credentials block for the host in the Terraform CLI configuration{hint}"
    )]
    MissingToken {
        hostname: String,
        hint: &'static str,
    },
    /// A tuning variable is bad (normally caught at configure time already).
    #[error("{0}")]
    Tuning(String),
    #[error("could not connect to the TFE API at {hostname}: {source}")]
    Connect {
        hostname: String,
        #[source]
        source: TfeError,
    },
}

impl ClientError {
    pub(crate) fn into_diagnostics(self) -> Diagnostics {
        let summary = match self {
            ClientError::NotConfigured => "Provider not configured",
            ClientError::MissingToken { .. } => "Missing API token",
            ClientError::Tuning(_) => "Invalid client tuning",
            ClientError::Connect { .. } => "Cannot reach the TFE API",
        };
        // A refused connection gets the hint every other API error gets.
        let hint = match &self {
            ClientError::Connect { source, .. } => hint(source),
            _ => "",
        };
        Diagnostics::from_error(summary, format!("{self}{hint}"))
    }
}

/// The provider's lazily built client, shared by all resources.
pub(crate) struct LazyClient {
    config: SharedConfig,
    cell: OnceCell<TfeClient>,
}

pub(crate) type SharedClient = Arc<LazyClient>;

impl LazyClient {
    pub(crate) fn new(config: SharedConfig) -> SharedClient {
        Arc::new(LazyClient {
            config,
            cell: OnceCell::new(),
        })
    }

    /// The client, or the diagnostics saying why there is none: [`get`](Self::get) for the resources.
    pub(crate) async fn connect(&self) -> Result<&TfeClient, Diagnostics> {
        self.get().await.map_err(ClientError::into_diagnostics)
    }

    /// The client, connecting (discovery and ping) on the first call. A failure is not cached,
    /// so a later call tries again.
    pub(crate) async fn get(&self) -> Result<&TfeClient, ClientError> {
        let config = self.config.get().ok_or(ClientError::NotConfigured)?;
        if config.token.is_empty() {
            return Err(ClientError::MissingToken {
                hostname: config.hostname.clone(),
                hint: if config.token_source == TokenSource::Unknown {
                    " (the token or hostname was not known at plan time and is still empty)"
                } else {
                    ""
                },
            });
        }
        self.cell
            .get_or_try_init(|| async {
                let tuning = client_tuning(&|k| std::env::var(k).ok()).map_err(|diags| {
                    ClientError::Tuning(
                        diags
                            .iter()
                            .map(|d| d.detail.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                    )
                })?;
                let client_config = client_config(config, tuning);
                TfeClient::connect(client_config)
                    .await
                    .map_err(|source| ClientError::Connect {
                        hostname: config.hostname.clone(),
                        source,
                    })
            })
            .await
    }
}

/// The User-Agent of every API request: this provider and its version.
pub fn user_agent() -> String {
    format!("terraform-provider-tfe/{}", env!("CARGO_PKG_VERSION"))
}

/// The TFE client settings for a resolved provider configuration and the environment's tuning.
pub(crate) fn client_config(config: &ProviderConfig, tuning: ClientTuning) -> TfeClientConfig {
    TfeClientConfig {
        user_agent: Some(user_agent()),
        hostname: config.hostname.clone(),
        token: config.token.expose().to_string(),
        ssl_skip_verify: config.ssl_skip_verify,
        request_timeout: tuning.request_timeout,
        max_retry_time: tuning.retry_max_elapsed,
        max_server_pause: tuning.retry_max_pause,
        ..TfeClientConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;
    use std::time::Duration;

    use super::*;
    use crate::provider::config::Token;

    fn config(token: &str, source: TokenSource) -> SharedConfig {
        let shared: SharedConfig = Arc::new(OnceLock::new());
        let _ = shared.set(ProviderConfig {
            hostname: "tfe.example.com".into(),
            token: Token::new(token),
            token_source: source,
            organization: None,
            ssl_skip_verify: false,
        });
        shared
    }

    #[test]
    fn tuning_reaches_the_client_configuration() {
        let shared = config("t0k", TokenSource::Environment);
        let resolved = shared.get().unwrap();
        let tuning = ClientTuning {
            request_timeout: Duration::from_secs(7),
            retry_max_elapsed: Duration::from_secs(90),
            retry_max_pause: Duration::from_secs(3),
        };
        let c = client_config(resolved, tuning);
        assert_eq!(c.hostname, "tfe.example.com");
        assert_eq!(c.token, "t0k");
        assert_eq!(c.request_timeout, Duration::from_secs(7));
        assert_eq!(c.max_retry_time, Duration::from_secs(90));
        assert_eq!(c.max_server_pause, Duration::from_secs(3));
        let user_agent = format!("terraform-provider-tfe/{}", env!("CARGO_PKG_VERSION"));
        assert_eq!(c.user_agent.as_deref(), Some(user_agent.as_str()));
        let defaults = client_config(resolved, ClientTuning::default());
        assert_eq!(defaults.max_retry_time, Duration::from_secs(300));
    }

    #[test]
    fn a_refused_token_at_connect_gets_the_same_hint_as_everywhere_else() {
        let refused = TfeError::Unauthorized {
            detail: "invalid token".into(),
        };
        let expected = crate::provider::api_errors::explain(&refused);
        let diags = ClientError::Connect {
            hostname: "tfe.example.com".into(),
            source: refused,
        }
        .into_diagnostics();
        assert_eq!(diags.0[0].summary, "Cannot reach the TFE API");
        assert_eq!(
            diags.0[0].detail,
            format!("could not connect to the TFE API at tfe.example.com: {expected}")
        );
    }

    #[tokio::test]
    async fn no_client_without_configuration_or_token_and_no_network_tried() {
        let unconfigured = LazyClient::new(Arc::new(OnceLock::new()));
        assert!(matches!(
            unconfigured.get().await,
            Err(ClientError::NotConfigured)
        ));

        let empty = LazyClient::new(config("", TokenSource::Unknown));
        let error = empty.get().await.unwrap_err();
        let text = error.to_string();
        assert!(text.contains("tfe.example.com"), "{text}");
        assert!(text.contains("TFE_TOKEN"), "{text}");
        assert!(text.contains("not known at plan time"), "{text}");
        let diags = error.into_diagnostics();
        assert!(diags.has_errors());
    }
}
