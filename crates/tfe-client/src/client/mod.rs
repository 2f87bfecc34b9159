//! TfeClient: the configuration and connecting (discovery, ping, the shared rate limiter), over the
//! transport (`transport`: retries and pauses) and the JSON:API envelopes (`envelope`), with one module per
//! API area, as go-tfe has one file per area.

mod configuration_versions;
mod envelope;
mod logs;
mod oauth_clients;
mod oauth_tokens;
mod organizations;
mod run_phases;
mod runs;
#[cfg(test)]
mod tests;
mod transport;
mod workspaces;
// What a workspace holds beyond its runs: state and outputs, variables, the configuration a run would use.
mod latest_configuration;
mod state_versions;
mod variables;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use url::Url;

use super::error::{Readable, TfeError};
use super::limiter::{RateLimiter, shared_limiter};
use super::models::*;
use super::response::{self, MAX_BODY_BYTES};
use super::tls;

use super::requests::*;
use envelope::*;
pub use logs::RunLog;
pub use runs::RunWithIncludes;
pub use state_versions::{CurrentOutputs, OutputValue};
use transport::*;

/// How to reach one TFE host.
#[derive(Clone)]
pub struct TfeClientConfig {
    /// `host` or `host:port`; `http://host:port` selects plain HTTP (tests only).
    pub hostname: String,
    /// The API token, sent as `Authorization: Bearer`. Never printed: `Debug` shows `<redacted>`.
    pub token: String,
    /// Accept any server certificate (`TFE_SSL_SKIP_VERIFY`).
    pub ssl_skip_verify: bool,
    /// Defaults to [`default_user_agent`]; an application sets its own.
    pub user_agent: Option<String>,
    /// An extra CA certificate file to trust, in addition to the native roots / SSL_CERT_FILE.
    pub ca_file: Option<PathBuf>,
    /// Limit for one HTTP exchange (`TFE_REQUEST_TIMEOUT` in the provider).
    pub request_timeout: Duration,
    /// The retry budget of one request: no retry starts once its pause would end past this much time since
    /// the first attempt (`TFE_RETRY_MAX_ELAPSED`). Zero means a single attempt.
    pub max_retry_time: Duration,
    /// Cap on a pause the server asks for through `Retry-After` / `X-RateLimit-Reset` (`TFE_RETRY_MAX_PAUSE`).
    pub max_server_pause: Duration,
}

impl TfeClientConfig {
    /// 30 s.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    /// 5 minutes.
    pub const DEFAULT_MAX_RETRY_TIME: Duration = Duration::from_secs(300);
    /// 60 s.
    pub const DEFAULT_MAX_SERVER_PAUSE: Duration = Duration::from_secs(60);
}

impl Default for TfeClientConfig {
    fn default() -> Self {
        TfeClientConfig {
            hostname: "app.terraform.io".into(),
            token: String::new(),
            ssl_skip_verify: false,
            user_agent: None,
            ca_file: None,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_retry_time: Self::DEFAULT_MAX_RETRY_TIME,
            max_server_pause: Self::DEFAULT_MAX_SERVER_PAUSE,
        }
    }
}

impl fmt::Debug for TfeClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TfeClientConfig")
            .field("hostname", &self.hostname)
            .field("token", &"<redacted>")
            .field("ssl_skip_verify", &self.ssl_skip_verify)
            .field("user_agent", &self.user_agent)
            .field("ca_file", &self.ca_file)
            .field("request_timeout", &self.request_timeout)
            .field("max_retry_time", &self.max_retry_time)
            .field("max_server_pause", &self.max_server_pause)
            .finish()
    }
}

/// The User-Agent when the configuration sets none: this client crate and its version.
pub fn default_user_agent() -> String {
    format!("tfe-client/{}", env!("CARGO_PKG_VERSION"))
}

/// A TFE API v2 client. Cheap to clone; every clone shares the HTTP pool and the rate limiter.
#[derive(Clone)]
pub struct TfeClient {
    inner: Arc<Inner>,
}

struct Inner {
    wire: Wire,
    /// `scheme://host[:port]`, for UI links.
    origin: String,
    /// The API base from discovery, ending in `/`.
    api_base: Url,
    /// Filled by the ping in `connect`.
    server: std::sync::OnceLock<ServerInfo>,
}

/// What the ping told us about the server.
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    /// `X-RateLimit-Limit`, in requests per second; `None` when the server sent none (then no client-side limit).
    pub rate_limit: Option<f64>,
    /// `TFP-API-Version`, e.g. `2.5`.
    pub api_version: Option<String>,
    /// `TFP-AppName`: `HCP Terraform` for the cloud service, else Terraform Enterprise.
    pub app_name: Option<String>,
}

impl fmt::Debug for TfeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TfeClient")
            .field("api_base", &self.inner.api_base.as_str())
            .finish()
    }
}

/// Page selection for list calls.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// The page, from 1.
    pub number: u32,
    /// Items per page; the API allows at most 100.
    pub size: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            number: 1,
            size: 20,
        }
    }
}

impl TfeClient {
    /// Discovers the API (`/.well-known/terraform.json`), pings it and sizes the shared rate limiter.
    pub async fn connect(config: TfeClientConfig) -> Result<TfeClient, TfeError> {
        if config.token.is_empty() {
            return Err(TfeError::Config("the API token is empty".into()));
        }
        let (scheme, host) = match config.hostname.split_once("://") {
            Some(("http", h)) => ("http", h),
            Some(("https", h)) => ("https", h),
            Some((other, _)) => {
                return Err(TfeError::Config(format!(
                    "unsupported scheme {other:?} in hostname; use a bare host"
                )));
            }
            None => ("https", config.hostname.as_str()),
        };
        let host = host.trim_end_matches('/').to_string();
        if host.is_empty() || host.contains('/') {
            return Err(TfeError::Config(format!(
                "hostname {:?} must be a bare host, optionally with :port",
                config.hostname
            )));
        }
        let origin = format!("{scheme}://{host}");
        let tls = tls::client_config(config.ssl_skip_verify, config.ca_file.as_deref())?;
        let user_agent = config.user_agent.clone().unwrap_or_else(default_user_agent);
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .user_agent(user_agent)
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| TfeError::Config(format!("HTTP client setup: {e}")))?;
        let wire = Wire {
            http,
            limiter: shared_limiter(&host, &config.token),
            config,
        };

        let discovery_url = Url::parse(&format!("{origin}/.well-known/terraform.json"))
            .map_err(|e| TfeError::Config(format!("hostname {:?}: {e}", wire.config.hostname)))?;
        let api_base = wire.discover(&discovery_url).await?;
        let ping = api_base
            .join("ping")
            .map_err(|e| TfeError::Config(format!("API base {api_base}: {e}")))?;
        // The ping's status is ignored (as go-tfe does); only its headers matter. It is retried like any read.
        let response = wire
            .execute(Call {
                any_status: true,
                ..Call::api(Method::GET, ping, Payload::None, Retry::Idempotent)
            })
            .await?;
        let server = ServerInfo {
            rate_limit: response::rate_limit(&response.headers),
            api_version: response::header_text(&response.headers, "tfp-api-version"),
            app_name: response::header_text(&response.headers, "tfp-appname"),
        };
        if let Some(limit) = server.rate_limit {
            wire.limiter.configure_from_limit(limit);
        }
        let client = TfeClient {
            inner: Arc::new(Inner {
                wire,
                origin,
                api_base,
                server: std::sync::OnceLock::new(),
            }),
        };
        let _ = client.inner.server.set(server);
        Ok(client)
    }

    /// What the ping reported (rate limit, API version, application name).
    pub fn server_info(&self) -> &ServerInfo {
        static NONE: ServerInfo = ServerInfo {
            rate_limit: None,
            api_version: None,
            app_name: None,
        };
        self.inner.server.get().unwrap_or(&NONE)
    }

    /// The API base URL found by discovery (ends in `/`).
    pub fn api_base(&self) -> &str {
        self.inner.api_base.as_str()
    }

    /// The shared limiter's (requests per second, burst).
    pub fn rate_limit(&self) -> (f64, f64) {
        self.inner.wire.limiter.rate()
    }

    /// The web UI URL of a run.
    pub fn run_url(&self, organization: &str, workspace_name: &str, run_id: &str) -> String {
        format!(
            "{}/app/{organization}/workspaces/{workspace_name}/runs/{run_id}",
            self.inner.origin
        )
    }

    /// The web UI URL of a workspace in `organization`: the `self-html` link the server sent with it,
    /// else the address the UI serves it at (as [`run_url`](Self::run_url) builds it).
    pub fn workspace_url(&self, organization: &str, workspace: &Workspace) -> String {
        workspace
            .links
            .as_ref()
            .and_then(|links| links.get("self-html"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!(
                    "{}/app/{organization}/workspaces/{}",
                    self.inner.origin, workspace.attributes.name
                )
            })
    }
}

/// Percent-encodes one path segment.
fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
