//! The one TFE client a provider process uses, built lazily on first use from the resolved
//! provider configuration: configure and plan never touch the network, and every resource shares
//! one connection pool and one rate limiter.

use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::plugin::Diagnostics;
use crate::tfe::{TfeClient, TfeClientConfig, TfeError};

use super::SharedConfig;
use super::config::TokenSource;

/// Why no client could be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
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
    #[error("could not connect to the TFE API at {hostname}: {source}")]
    Connect {
        hostname: String,
        #[source]
        source: TfeError,
    },
}

impl ClientError {
    pub fn into_diagnostics(self) -> Diagnostics {
        let summary = match self {
            ClientError::NotConfigured => "Provider not configured",
            ClientError::MissingToken { .. } => "Missing API token",
            ClientError::Connect { .. } => "Cannot reach the TFE API",
        };
        Diagnostics::from_error(summary, self.to_string())
    }
}

/// The provider's lazily built client, shared by all resources.
pub struct LazyClient {
    config: SharedConfig,
    cell: OnceCell<TfeClient>,
}

pub type SharedClient = Arc<LazyClient>;

impl LazyClient {
    pub fn new(config: SharedConfig) -> SharedClient {
        Arc::new(LazyClient {
            config,
            cell: OnceCell::new(),
        })
    }

    /// The client, connecting (discovery and ping) on the first call. A failure is not cached,
    /// so a later call tries again.
    pub async fn get(&self) -> Result<&TfeClient, ClientError> {
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
                let client_config = TfeClientConfig {
                    hostname: config.hostname.clone(),
                    token: config.token.expose().to_string(),
                    ssl_skip_verify: config.ssl_skip_verify,
                    ..TfeClientConfig::default()
                };
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
