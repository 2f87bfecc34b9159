//! TfeClient: discovery, authentication, JSON:API envelopes, rate limiting and retries, and the operations.

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
use super::tls;
use super::untrusted::{self, MAX_BODY_BYTES};

const JSONAPI: &str = "application/vnd.api+json";
/// A list walk stops with an error after this many pages (a server could announce a next page forever).
const MAX_PAGES: u32 = 100;
/// The pause after a 429 that names none, and the least pause after any 429 (as go-tfe).
const DEFAULT_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(1);
const MIN_RATE_LIMIT_PAUSE: Duration = Duration::from_millis(100);

/// How to reach one TFE host.
#[derive(Clone)]
pub struct TfeClientConfig {
    /// `host` or `host:port`; `http://host:port` selects plain HTTP (tests only).
    pub hostname: String,
    pub token: String,
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
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    pub const DEFAULT_MAX_RETRY_TIME: Duration = Duration::from_secs(300);
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

/// Sending with the one retry policy: the HTTP pool, the shared bucket and the limits.
struct Wire {
    http: reqwest::Client,
    limiter: Arc<RateLimiter>,
    config: TfeClientConfig,
}

/// What the ping told us about the server.
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    pub rate_limit: Option<f64>,
    pub api_version: Option<String>,
    pub app_name: Option<String>,
}

impl fmt::Debug for TfeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TfeClient")
            .field("api_base", &self.inner.api_base.as_str())
            .finish()
    }
}

/// Whether a request may be repeated after an unclear failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// GET/PATCH/DELETE and similar: retry 429, 5xx and transport failures.
    Idempotent,
    /// Creates and actions: retry only when the server certainly did nothing (429, connect failure).
    Unsafe,
}

struct RawResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: bytes::Bytes,
}

/// What a request sends.
#[derive(Clone, Copy)]
enum Payload<'a> {
    None,
    Json(&'a Value),
    /// The configuration upload.
    Octets(&'a bytes::Bytes),
}

/// One logical request, sent as often as the retry policy allows.
struct Call<'a> {
    method: Method,
    url: Url,
    payload: Payload<'a>,
    retry: Retry,
    accept: &'static str,
    /// The bearer token goes to the API only (not to discovery or the upload URL).
    auth: bool,
    /// The ping: a non-2xx answer that is not retried is still an answer (its headers matter).
    any_status: bool,
}

impl Call<'_> {
    fn api(method: Method, url: Url, payload: Payload<'_>, retry: Retry) -> Call<'_> {
        Call {
            method,
            url,
            payload,
            retry,
            accept: JSONAPI,
            auth: true,
            any_status: false,
        }
    }

    fn describe(&self) -> String {
        format!("{} {}", self.method, self.url.path())
    }
}

/// Parameters of `POST /runs`.
#[derive(Debug, Clone, Default)]
pub struct CreateRun {
    pub workspace_id: String,
    pub is_destroy: bool,
    /// `None` uses the workspace's setting.
    pub auto_apply: Option<bool>,
    pub message: Option<String>,
    pub plan_only: bool,
    pub allow_empty_apply: bool,
    pub configuration_version_id: Option<String>,
    pub target_addrs: Vec<String>,
    pub replace_addrs: Vec<String>,
}

/// Parameters of workspace create and update (unset fields are not sent).
#[derive(Debug, Clone, Default)]
pub struct WorkspaceOptions {
    pub name: Option<String>,
    pub auto_apply: Option<bool>,
    pub execution_mode: Option<String>,
    pub queue_all_runs: Option<bool>,
    pub allow_destroy_plan: Option<bool>,
    pub terraform_version: Option<String>,
    pub working_directory: Option<String>,
    pub vcs_repo: Option<VcsRepo>,
}

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

/// Page selection for list calls.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub number: u32,
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

/// A run with the resources requested through `include`.
#[derive(Debug, Clone)]
pub struct RunWithIncludes {
    pub run: Run,
    /// Raw included resources; use [`RunWithIncludes::included`] to decode one.
    pub included: Vec<Value>,
}

impl RunWithIncludes {
    /// Decodes the included resource of `kind` with `id`.
    pub fn included<T: DeserializeOwned>(&self, kind: &str, id: &str) -> Option<T> {
        self.included
            .iter()
            .find(|v| v["type"] == kind && v["id"] == id)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
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
            rate_limit: untrusted::rate_limit(&response.headers),
            api_version: untrusted::header_text(&response.headers, "tfp-api-version"),
            app_name: untrusted::header_text(&response.headers, "tfp-appname"),
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

    // ---------- organizations ----------

    pub async fn organization(&self, name: &str) -> Result<Organization, TfeError> {
        self.get(&format!("organizations/{}", seg(name)), &[]).await
    }

    pub async fn create_organization(
        &self,
        name: &str,
        email: &str,
    ) -> Result<Organization, TfeError> {
        let body = json!({"data": {"type": "organizations", "attributes": {"name": name, "email": email}}});
        self.write(Method::POST, "organizations", body).await
    }

    /// Changes an organization's email and/or cost estimation setting (unset fields are not sent).
    pub async fn update_organization(
        &self,
        name: &str,
        email: Option<&str>,
        cost_estimation_enabled: Option<bool>,
    ) -> Result<Organization, TfeError> {
        let mut attrs = json!({});
        set_opt(&mut attrs, "email", &email);
        set_opt(
            &mut attrs,
            "cost-estimation-enabled",
            &cost_estimation_enabled,
        );
        let body = json!({"data": {"type": "organizations", "attributes": attrs}});
        let raw = self
            .send(
                Method::PATCH,
                &format!("organizations/{}", seg(name)),
                &[],
                Some(body),
                Retry::Idempotent,
            )
            .await?;
        untrusted::decode_data(&raw.body, self.inner.api_base.as_str())
    }

    pub async fn delete_organization(&self, name: &str) -> Result<(), TfeError> {
        self.no_content(
            Method::DELETE,
            &format!("organizations/{}", seg(name)),
            Retry::Idempotent,
        )
        .await
    }

    pub async fn org_capacity(&self, organization: &str) -> Result<OrganizationCapacity, TfeError> {
        self.get(
            &format!("organizations/{}/capacity", seg(organization)),
            &[],
        )
        .await
    }

    /// The organization's queue of runs waiting for a worker, with `position-in-queue`.
    pub async fn org_run_queue(
        &self,
        organization: &str,
        page: PageRequest,
    ) -> Result<Page<Run>, TfeError> {
        self.list(
            &format!("organizations/{}/runs/queue", seg(organization)),
            page,
            &[],
        )
        .await
    }

    // ---------- OAuth clients ----------

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

    // ---------- workspaces ----------

    pub async fn workspace(&self, id: &str) -> Result<Workspace, TfeError> {
        self.get(&format!("workspaces/{}", seg(id)), &[]).await
    }

    /// `GET /workspaces/:id?include=current_run`: the workspace and, in the same request, its
    /// current run (if it has one and the server included it).
    pub async fn workspace_with_current_run(
        &self,
        id: &str,
    ) -> Result<(Workspace, Option<Run>), TfeError> {
        let query = [("include".to_string(), "current_run".to_string())];
        let raw = self
            .send(
                Method::GET,
                &format!("workspaces/{}", seg(id)),
                &query,
                None,
                Retry::Idempotent,
            )
            .await?;
        untrusted::decode_workspace_with_current_run(&raw.body, self.inner.api_base.as_str())
    }

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

    pub async fn create_workspace(
        &self,
        organization: &str,
        options: &WorkspaceOptions,
    ) -> Result<Workspace, TfeError> {
        if options.name.as_deref().unwrap_or("").is_empty() {
            return Err(TfeError::Config("a workspace needs a name".into()));
        }
        let body =
            json!({"data": {"type": "workspaces", "attributes": workspace_attributes(options)}});
        self.write(
            Method::POST,
            &format!("organizations/{}/workspaces", seg(organization)),
            body,
        )
        .await
    }

    pub async fn update_workspace(
        &self,
        id: &str,
        options: &WorkspaceOptions,
    ) -> Result<Workspace, TfeError> {
        let body =
            json!({"data": {"type": "workspaces", "attributes": workspace_attributes(options)}});
        let raw = self
            .send(
                Method::PATCH,
                &format!("workspaces/{}", seg(id)),
                &[],
                Some(body),
                Retry::Idempotent,
            )
            .await?;
        untrusted::decode_data(&raw.body, self.inner.api_base.as_str())
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

    pub async fn lock_workspace(&self, id: &str, reason: &str) -> Result<Workspace, TfeError> {
        self.write(
            Method::POST,
            &format!("workspaces/{}/actions/lock", seg(id)),
            json!({"reason": reason}),
        )
        .await
    }

    pub async fn unlock_workspace(&self, id: &str) -> Result<Workspace, TfeError> {
        self.write(
            Method::POST,
            &format!("workspaces/{}/actions/unlock", seg(id)),
            json!({}),
        )
        .await
    }

    pub async fn force_unlock_workspace(&self, id: &str) -> Result<Workspace, TfeError> {
        self.write(
            Method::POST,
            &format!("workspaces/{}/actions/force-unlock", seg(id)),
            json!({}),
        )
        .await
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

    // ---------- configuration versions ----------

    pub async fn create_configuration_version(
        &self,
        workspace_id: &str,
        auto_queue_runs: bool,
        speculative: bool,
    ) -> Result<ConfigurationVersion, TfeError> {
        let body = json!({"data": {"type": "configuration-versions",
            "attributes": {"auto-queue-runs": auto_queue_runs, "speculative": speculative}}});
        self.write(
            Method::POST,
            &format!("workspaces/{}/configuration-versions", seg(workspace_id)),
            body,
        )
        .await
    }

    pub async fn configuration_version(&self, id: &str) -> Result<ConfigurationVersion, TfeError> {
        self.get(&format!("configuration-versions/{}", seg(id)), &[])
            .await
    }

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

    // ---------- runs ----------

    pub async fn create_run(&self, options: CreateRun) -> Result<Run, TfeError> {
        let mut attrs = json!({
            "is-destroy": options.is_destroy,
            "plan-only": options.plan_only,
            "allow-empty-apply": options.allow_empty_apply,
        });
        set_opt(&mut attrs, "auto-apply", &options.auto_apply);
        set_opt(&mut attrs, "message", &options.message);
        if !options.target_addrs.is_empty() {
            attrs["target-addrs"] = json!(options.target_addrs);
        }
        if !options.replace_addrs.is_empty() {
            attrs["replace-addrs"] = json!(options.replace_addrs);
        }
        let mut relationships =
            json!({"workspace": {"data": {"type": "workspaces", "id": options.workspace_id}}});
        if let Some(cv) = &options.configuration_version_id {
            relationships["configuration-version"] =
                json!({"data": {"type": "configuration-versions", "id": cv}});
        }
        let body =
            json!({"data": {"type": "runs", "attributes": attrs, "relationships": relationships}});
        self.write(Method::POST, "runs", body).await
    }

    /// `GET /runs/:id`: one request (plus bounded retries of 429/5xx/transport failures).
    pub async fn run(&self, id: &str) -> Result<Run, TfeError> {
        self.get(&format!("runs/{}", seg(id)), &[]).await
    }

    /// `GET /runs/:id?include=...`, e.g. `["plan", "apply", "workspace", "cost_estimate"]`.
    pub async fn run_with_includes(
        &self,
        id: &str,
        include: &[&str],
    ) -> Result<RunWithIncludes, TfeError> {
        let query = [("include".to_string(), include.join(","))];
        let raw = self
            .send(
                Method::GET,
                &format!("runs/{}", seg(id)),
                &query,
                None,
                Retry::Idempotent,
            )
            .await?;
        let (run, included) =
            untrusted::decode_run_with_includes(&raw.body, self.inner.api_base.as_str())?;
        Ok(RunWithIncludes { run, included })
    }

    /// Runs of an organization, newest first.
    pub async fn org_runs(
        &self,
        organization: &str,
        page: PageRequest,
    ) -> Result<Page<Run>, TfeError> {
        self.list(
            &format!("organizations/{}/runs", seg(organization)),
            page,
            &[],
        )
        .await
    }

    /// Confirms a run paused for confirmation; 409 (`TfeError::Conflict`) when it is not.
    pub async fn apply_run(&self, id: &str, comment: Option<&str>) -> Result<(), TfeError> {
        self.run_action(id, "apply", comment).await
    }

    pub async fn discard_run(&self, id: &str, comment: Option<&str>) -> Result<(), TfeError> {
        self.run_action(id, "discard", comment).await
    }

    pub async fn cancel_run(&self, id: &str, comment: Option<&str>) -> Result<(), TfeError> {
        self.run_action(id, "cancel", comment).await
    }

    pub async fn force_cancel_run(&self, id: &str, comment: Option<&str>) -> Result<(), TfeError> {
        self.run_action(id, "force-cancel", comment).await
    }

    /// Starts a pending run at once by discarding the run that blocks its workspace (403/409 otherwise).
    pub async fn force_execute_run(&self, id: &str) -> Result<(), TfeError> {
        self.send(
            Method::POST,
            &format!("runs/{}/actions/force-execute", seg(id)),
            &[],
            None,
            Retry::Unsafe,
        )
        .await
        .map(|_| ())
    }

    async fn run_action(
        &self,
        id: &str,
        action: &str,
        comment: Option<&str>,
    ) -> Result<(), TfeError> {
        let body = match comment {
            Some(c) => json!({"comment": c}),
            None => json!({}),
        };
        self.send(
            Method::POST,
            &format!("runs/{}/actions/{action}", seg(id)),
            &[],
            Some(body),
            Retry::Unsafe,
        )
        .await
        .map(|_| ())
    }

    // ---------- plans, applies, estimates, policy checks, task stages ----------

    pub async fn plan(&self, id: &str) -> Result<Plan, TfeError> {
        self.get(&format!("plans/{}", seg(id)), &[]).await
    }

    pub async fn apply(&self, id: &str) -> Result<Apply, TfeError> {
        self.get(&format!("applies/{}", seg(id)), &[]).await
    }

    pub async fn cost_estimate(&self, id: &str) -> Result<CostEstimate, TfeError> {
        self.get(&format!("cost-estimates/{}", seg(id)), &[]).await
    }

    pub async fn run_policy_checks(&self, run_id: &str) -> Result<Vec<PolicyCheck>, TfeError> {
        self.all_pages(&format!("runs/{}/policy-checks", seg(run_id)))
            .await
    }

    pub async fn override_policy_check(&self, id: &str) -> Result<PolicyCheck, TfeError> {
        self.write(
            Method::POST,
            &format!("policy-checks/{}/actions/override", seg(id)),
            json!({}),
        )
        .await
    }

    pub async fn run_task_stages(&self, run_id: &str) -> Result<Vec<TaskStage>, TfeError> {
        self.all_pages(&format!("runs/{}/task-stages", seg(run_id)))
            .await
    }

    // ---------- envelope handling (the one place that knows JSON:API documents) ----------

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<T, TfeError> {
        let raw = self
            .send(Method::GET, path, query, None, Retry::Idempotent)
            .await?;
        untrusted::decode_data(&raw.body, self.inner.api_base.as_str())
    }

    /// A create or action: a 2xx answer that cannot be read still means it took effect, so a decode
    /// failure is an unknown outcome (callers look for what was created instead of creating it again).
    async fn write<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Value,
    ) -> Result<T, TfeError> {
        let raw = self
            .send(method.clone(), path, &[], Some(body), Retry::Unsafe)
            .await?;
        untrusted::decode_data(&raw.body, self.inner.api_base.as_str()).map_err(|e| {
            TfeError::OutcomeUnknown {
                request: format!("{method} {}", self.path_of(path)),
                source: Box::new(e),
            }
        })
    }

    fn path_of(&self, path: &str) -> String {
        self.inner
            .api_base
            .join(path)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| path.to_string())
    }

    async fn no_content(&self, method: Method, path: &str, retry: Retry) -> Result<(), TfeError> {
        self.send(method, path, &[], None, retry).await.map(|_| ())
    }

    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        page: PageRequest,
        extra: &[(String, String)],
    ) -> Result<Page<T>, TfeError> {
        let number = page.number.max(1);
        let mut query = vec![
            ("page[number]".to_string(), number.to_string()),
            (
                "page[size]".to_string(),
                page.size.clamp(1, 100).to_string(),
            ),
        ];
        query.extend_from_slice(extra);
        let raw = self
            .send(Method::GET, path, &query, None, Retry::Idempotent)
            .await?;
        untrusted::decode_list(&raw.body, self.inner.api_base.as_str(), number)
    }

    async fn all_pages<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, TfeError> {
        let mut items = Vec::new();
        let mut page = PageRequest {
            number: 1,
            size: 100,
        };
        for _ in 0..MAX_PAGES {
            let p: Page<T> = self.list(path, page, &[]).await?;
            let got = p.items.len();
            items.extend(p.items);
            match p.pagination.next_page {
                Some(next) if next > page.number && got > 0 => page.number = next,
                _ => return Ok(items),
            }
        }
        Err(TfeError::Decode {
            url: self.path_of(path),
            detail: format!("the list did not end after {MAX_PAGES} pages"),
        })
    }

    /// Sends an API request with the retry policy; returns a 2xx response or a typed error.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<Value>,
        retry: Retry,
    ) -> Result<RawResponse, TfeError> {
        let mut url = self
            .inner
            .api_base
            .join(path)
            .map_err(|e| TfeError::Config(format!("path {path:?}: {e}")))?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        let payload = match &body {
            Some(v) => Payload::Json(v),
            None => Payload::None,
        };
        self.inner
            .wire
            .execute(Call::api(method, url, payload, retry))
            .await
    }
}

impl Wire {
    /// `/.well-known/terraform.json`, retried like any read; every failure is a `Discovery` error.
    async fn discover(&self, url: &Url) -> Result<Url, TfeError> {
        let fail = |detail: String| TfeError::Discovery {
            url: url.to_string(),
            detail,
        };
        let response = self
            .execute(Call {
                accept: "application/json",
                auth: false,
                ..Call::api(Method::GET, url.clone(), Payload::None, Retry::Idempotent)
            })
            .await
            .map_err(|e| fail(e.to_string()))?;
        untrusted::api_base_from_discovery(url, &response.body).map_err(fail)
    }

    /// The one retry loop. Every request goes through it: 429s (any method) and, for idempotent requests,
    /// 5xx, timeouts and broken connections are retried until the time budget is spent, honouring the
    /// server's pause headers up to the configured cap. Creates and actions are only repeated when the
    /// server certainly did nothing (429, connect failure).
    async fn execute(&self, call: Call<'_>) -> Result<RawResponse, TfeError> {
        let config = &self.config;
        let started = tokio::time::Instant::now();
        let mut attempts: u32 = 0;
        loop {
            attempts = attempts.saturating_add(1);
            let (mut error, headers) = match self.send_once(&call).await {
                Ok(raw) => {
                    let status = raw.status.as_u16();
                    match untrusted::status_error(
                        status,
                        &raw.headers,
                        &raw.body,
                        SystemTime::now(),
                    ) {
                        None => return Ok(raw),
                        Some(e) if call.any_status && !may_retry(&e, call.retry) => return Ok(raw),
                        Some(e) => (e, Some(raw.headers)),
                    }
                }
                Err(e) => (e, None),
            };
            redact(&mut error, &config.token);
            let pause = retry_pause(
                &mut error,
                headers.as_ref(),
                attempts,
                config.max_server_pause,
                &call.describe(),
            );
            let elapsed = started.elapsed();
            let retrying = may_retry(&error, call.retry);
            if retrying && elapsed.saturating_add(pause) <= config.max_retry_time {
                if matches!(error, TfeError::RateLimited { .. }) {
                    // Everyone sharing the bucket waits, not just this request.
                    self.limiter.pause_for(pause);
                }
                tracing::debug!(request = %call.describe(), attempts, delay_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX), error = %error, "retrying TFE request");
                tokio::time::sleep(pause).await;
                continue;
            }
            return Err(give_up(error, &call, attempts, elapsed, retrying));
        }
    }

    /// One HTTP exchange after taking a token from the shared bucket.
    async fn send_once(&self, call: &Call<'_>) -> Result<RawResponse, TfeError> {
        self.limiter.acquire().await;
        let url = &call.url;
        let mut request = self
            .http
            .request(call.method.clone(), url.clone())
            .header("accept", call.accept);
        if call.auth {
            request = request.bearer_auth(&self.config.token);
        }
        match call.payload {
            Payload::None if call.method == Method::GET => {}
            Payload::None => {
                request = request.header("content-type", HeaderValue::from_static(JSONAPI));
            }
            Payload::Json(body) => {
                request = request
                    .header("content-type", HeaderValue::from_static(JSONAPI))
                    .body(body.to_string());
            }
            Payload::Octets(bytes) => {
                request = request
                    .header("content-type", "application/octet-stream")
                    .body(bytes.clone());
            }
        }
        let timeout = self.config.request_timeout;
        let mut response = request
            .send()
            .await
            .map_err(|e| transport_error(url, e, timeout))?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let too_large = || TfeError::BodyTooLarge {
            url: format!("{}{}", url.origin().ascii_serialization(), url.path()),
            limit: MAX_BODY_BYTES,
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES)
        {
            return Err(too_large());
        }
        // Read chunk by chunk so a body without (or with a lying) Content-Length is still bounded.
        let mut body = Vec::with_capacity(
            usize::try_from(response.content_length().unwrap_or(0).min(1 << 20)).unwrap_or(0),
        );
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(url, e, timeout))?
        {
            if (body.len() as u64).saturating_add(chunk.len() as u64) > MAX_BODY_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RawResponse {
            status,
            headers,
            body: bytes::Bytes::from(body),
        })
    }
}

/// Whether the policy repeats a request after this error.
fn may_retry(error: &TfeError, retry: Retry) -> bool {
    match error {
        TfeError::RateLimited { .. } => true,
        TfeError::Transport { detail, .. } if detail.starts_with(CONNECT_PREFIX) => true,
        TfeError::Server { .. } | TfeError::Timeout { .. } | TfeError::Transport { .. } => {
            retry == Retry::Idempotent
        }
        _ => false,
    }
}

/// How long to wait before the next attempt. The server's pause (capped; the cap is logged) wins over the
/// backoff when it is longer; a 429's error is updated to carry the pause actually honoured.
fn retry_pause(
    error: &mut TfeError,
    headers: Option<&HeaderMap>,
    attempts: u32,
    max_server_pause: Duration,
    request: &str,
) -> Duration {
    let asked = headers.and_then(|h| untrusted::server_pause(h, SystemTime::now()));
    let honoured = asked.map(|asked| {
        if asked > max_server_pause {
            tracing::warn!(
                request,
                asked = %Readable(asked),
                cap = %Readable(max_server_pause),
                "the server asked for a longer pause than allowed; waiting the maximum instead"
            );
            max_server_pause
        } else {
            asked
        }
    });
    match error {
        TfeError::RateLimited { retry_after, .. } => {
            *retry_after = honoured;
            honoured
                .unwrap_or(DEFAULT_RATE_LIMIT_PAUSE)
                .max(MIN_RATE_LIMIT_PAUSE)
                + jitter(300)
        }
        _ => backoff(attempts.saturating_sub(1)).max(honoured.unwrap_or_default()),
    }
}

/// The error the caller sees once the policy stops.
fn give_up(
    error: TfeError,
    call: &Call<'_>,
    attempts: u32,
    elapsed: Duration,
    out_of_time: bool,
) -> TfeError {
    let connect_failed =
        matches!(&error, TfeError::Transport { detail, .. } if detail.starts_with(CONNECT_PREFIX));
    let maybe_acted = matches!(
        error,
        TfeError::Server { .. }
            | TfeError::Timeout { .. }
            | TfeError::Transport { .. }
            | TfeError::BodyTooLarge { .. }
    ) && !connect_failed;
    if call.retry == Retry::Unsafe && maybe_acted {
        TfeError::OutcomeUnknown {
            request: call.describe(),
            source: Box::new(error),
        }
    } else if out_of_time && attempts > 1 {
        TfeError::RetriesExhausted {
            request: call.describe(),
            attempts,
            elapsed,
            source: Box::new(error),
        }
    } else {
        error
    }
}

/// A hostile or buggy server could echo the token back in its error text.
fn redact(error: &mut TfeError, token: &str) {
    if token.is_empty() {
        return;
    }
    if let Some(detail) = error.detail_mut()
        && detail.contains(token)
    {
        *detail = detail.replace(token, "<redacted>");
    }
}

const CONNECT_PREFIX: &str = "connect: ";

fn transport_error(url: &Url, e: reqwest::Error, timeout: Duration) -> TfeError {
    let url = format!("{}{}", url.origin().ascii_serialization(), url.path());
    if e.is_timeout() {
        TfeError::Timeout { url, timeout }
    } else if is_tls_failure(&e) {
        // A certificate problem does not go away by asking again.
        TfeError::Tls {
            url,
            detail: error_chain(&e),
        }
    } else if e.is_connect() {
        TfeError::Transport {
            url,
            detail: format!("{CONNECT_PREFIX}{}", error_chain(&e)),
        }
    } else {
        TfeError::Transport {
            url,
            detail: error_chain(&e),
        }
    }
}

/// True when a rustls error is somewhere in the chain (io::Error hides its payload from `source()`).
fn is_tls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if err.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && is_tls_failure(inner)
        {
            return true;
        }
        current = err.source();
    }
    false
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Exponential backoff with full jitter: up to 250 ms * 2^attempt, capped at 8 s.
fn backoff(attempt: u32) -> Duration {
    let cap = 250u64.saturating_mul(1u64 << attempt.min(5)).min(8_000);
    Duration::from_millis(cap / 2) + jitter(cap / 2)
}

fn jitter(max_ms: u64) -> Duration {
    Duration::from_millis(rand::rng().random_range(0..=max_ms))
}

/// Percent-encodes one path segment.
fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn set_opt<T: serde::Serialize>(obj: &mut Value, key: &str, value: &Option<T>) {
    if let Some(v) = value {
        obj[key] = json!(v);
    }
}

fn workspace_attributes(o: &WorkspaceOptions) -> Value {
    let mut attrs = json!({});
    set_opt(&mut attrs, "name", &o.name);
    set_opt(&mut attrs, "auto-apply", &o.auto_apply);
    set_opt(&mut attrs, "execution-mode", &o.execution_mode);
    set_opt(&mut attrs, "queue-all-runs", &o.queue_all_runs);
    set_opt(&mut attrs, "allow-destroy-plan", &o.allow_destroy_plan);
    set_opt(&mut attrs, "terraform-version", &o.terraform_version);
    set_opt(&mut attrs, "working-directory", &o.working_directory);
    set_opt(&mut attrs, "vcs-repo", &o.vcs_repo);
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captures what tracing writes while a test runs.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
        }
        fn subscriber(&self) -> impl tracing::Subscriber + use<> {
            let me = self.clone();
            tracing_subscriber::fmt()
                .with_writer(move || me.clone())
                .with_ansi(false)
                .finish()
        }
    }

    fn limited(retry_after: &'static str) -> (TfeError, HeaderMap) {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static(retry_after));
        let error = untrusted::status_error(429, &h, b"{}", SystemTime::now()).unwrap();
        (error, h)
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_server_pause_is_capped_logged_and_shared() {
        let log = Captured::default();
        let _guard = tracing::subscriber::set_default(log.subscriber());
        let (mut error, headers) = limited("1e20");
        let cap = Duration::from_secs(60);
        let pause = retry_pause(&mut error, Some(&headers), 1, cap, "GET /api/v2/runs/run-1");
        assert!(
            pause >= cap && pause <= cap + Duration::from_millis(300),
            "{pause:?}"
        );
        assert!(
            matches!(error, TfeError::RateLimited { retry_after: Some(d), .. } if d == cap),
            "{error}"
        );
        assert!(error.to_string().contains("asked to wait 1 min"), "{error}");
        let text = log.text();
        assert!(
            text.contains("WARN") && text.contains("longer pause than allowed"),
            "{text}"
        );
        assert!(text.contains("GET /api/v2/runs/run-1"), "{text}");

        // The shared bucket honours the capped pause: the next request leaves after 60 s, not 1e20 s.
        let limiter = RateLimiter::unlimited();
        let started = tokio::time::Instant::now();
        limiter.pause_for(pause);
        limiter.acquire().await;
        let waited = started.elapsed();
        assert!(
            waited >= cap && waited <= cap + Duration::from_millis(301),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_under_the_cap_is_taken_as_is_without_warning() {
        let log = Captured::default();
        let _guard = tracing::subscriber::set_default(log.subscriber());
        let (mut error, headers) = limited("2");
        let pause = retry_pause(
            &mut error,
            Some(&headers),
            1,
            Duration::from_secs(60),
            "GET /x",
        );
        assert!(pause >= Duration::from_secs(2) && pause <= Duration::from_millis(2300));
        assert!(!log.text().contains("WARN"), "{}", log.text());
        // Unusable, missing or past values: the default second (at least 100 ms), never zero.
        for header in ["NaN", "-5", "abc", "", "Thu, 01 Jan 1970 00:00:00 GMT"] {
            let (mut error, headers) = limited(header);
            let pause = retry_pause(
                &mut error,
                Some(&headers),
                1,
                Duration::from_secs(60),
                "GET /x",
            );
            assert!(pause >= MIN_RATE_LIMIT_PAUSE, "{header:?}: {pause:?}");
            assert!(
                pause <= Duration::from_millis(1300),
                "{header:?}: {pause:?}"
            );
        }
    }

    #[test]
    fn a_503_with_retry_after_waits_at_least_that_long() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("3"));
        let mut error = untrusted::status_error(503, &h, b"", SystemTime::now()).unwrap();
        let pause = retry_pause(&mut error, Some(&h), 1, Duration::from_secs(60), "GET /x");
        assert!(pause >= Duration::from_secs(3), "{pause:?}");
        let capped = retry_pause(&mut error, Some(&h), 1, Duration::from_secs(1), "GET /x");
        assert!(capped <= Duration::from_secs(1), "{capped:?}");
    }

    #[test]
    fn giving_up_keeps_the_last_error_and_unknown_outcomes() {
        let url = Url::parse("https://tfe.example/api/v2/runs").unwrap();
        let read = Call::api(Method::GET, url.clone(), Payload::None, Retry::Idempotent);
        let create = Call::api(Method::POST, url, Payload::None, Retry::Unsafe);
        let server = || TfeError::Server {
            status: 503,
            detail: "down".into(),
        };
        let e = give_up(server(), &read, 7, Duration::from_secs(300), true);
        assert!(
            matches!(&e, TfeError::RetriesExhausted { attempts: 7, source, .. } if matches!(**source, TfeError::Server { status: 503, .. })),
            "{e}"
        );
        assert!(e.to_string().contains("down"), "{e}");
        let e = give_up(server(), &read, 1, Duration::ZERO, true);
        assert!(
            matches!(e, TfeError::Server { .. }),
            "a single attempt is not wrapped: {e}"
        );
        let e = give_up(server(), &create, 1, Duration::ZERO, false);
        assert!(matches!(e, TfeError::OutcomeUnknown { .. }), "{e}");
        let refused = TfeError::Transport {
            url: "u".into(),
            detail: format!("{CONNECT_PREFIX}connection refused"),
        };
        let e = give_up(refused, &create, 3, Duration::from_secs(9), true);
        assert!(
            matches!(e, TfeError::RetriesExhausted { .. }),
            "nothing reached the server: {e}"
        );
    }

    #[test]
    fn an_echoed_token_is_redacted_from_error_text() {
        let mut e = TfeError::Unauthorized {
            detail: "token s3cret-tok is not valid".into(),
        };
        redact(&mut e, "s3cret-tok");
        assert_eq!(
            e.to_string(),
            "unauthorized (401): token <redacted> is not valid"
        );
    }

    #[test]
    fn config_debug_redacts_token() {
        let c = TfeClientConfig {
            token: "secret-token".into(),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("secret-token"));
    }
}
