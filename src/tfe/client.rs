//! TfeClient: discovery, authentication, JSON:API envelopes, rate limiting and retries, and the operations.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use url::Url;

use super::error::TfeError;
use super::limiter::{RateLimiter, shared_limiter};
use super::models::*;
use super::tls;

const JSONAPI: &str = "application/vnd.api+json";
/// The discovery keys this client speaks, newest first.
const SERVICE_KEYS: &[&str] = &["tfe.v2.2", "tfe.v2.1", "tfe.v2"];

/// How to reach one TFE host.
#[derive(Clone)]
pub struct TfeClientConfig {
    /// `host` or `host:port`; `http://host:port` selects plain HTTP (tests only).
    pub hostname: String,
    pub token: String,
    pub ssl_skip_verify: bool,
    /// Defaults to `terraform-provider-tfe/<version>`.
    pub user_agent: Option<String>,
    /// An extra CA certificate file to trust, in addition to the native roots / SSL_CERT_FILE.
    pub ca_file: Option<PathBuf>,
    /// Limit for one HTTP exchange.
    pub request_timeout: Duration,
    /// Total time spent retrying one idempotent request before the last error is returned.
    pub max_retry_time: Duration,
    /// Attempts after the first one.
    pub max_retries: u32,
}

impl Default for TfeClientConfig {
    fn default() -> Self {
        TfeClientConfig {
            hostname: "app.terraform.io".into(),
            token: String::new(),
            ssl_skip_verify: false,
            user_agent: None,
            ca_file: None,
            request_timeout: Duration::from_secs(30),
            max_retry_time: Duration::from_secs(60),
            max_retries: 8,
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
            .finish()
    }
}

/// The default User-Agent: this provider and its version.
pub fn default_user_agent() -> String {
    format!("terraform-provider-tfe/{}", env!("CARGO_PKG_VERSION"))
}

/// A TFE API v2 client. Cheap to clone; every clone shares the HTTP pool and the rate limiter.
#[derive(Clone)]
pub struct TfeClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// `scheme://host[:port]`, for UI links.
    origin: String,
    /// The API base from discovery, ending in `/`.
    api_base: Url,
    token: String,
    limiter: Arc<RateLimiter>,
    config: TfeClientConfig,
    /// Filled by the ping in `connect`.
    server: std::sync::OnceLock<ServerInfo>,
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
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| TfeError::Config(format!("HTTP client setup: {e}")))?;

        let discovery_url = Url::parse(&format!("{origin}/.well-known/terraform.json"))
            .map_err(|e| TfeError::Config(format!("hostname {:?}: {e}", config.hostname)))?;
        let api_base = discover(&http, &discovery_url).await?;
        let limiter = shared_limiter(&host, &config.token);
        let client = TfeClient {
            inner: Arc::new(Inner {
                http,
                origin,
                api_base,
                token: config.token.clone(),
                limiter,
                config,
                server: std::sync::OnceLock::new(),
            }),
        };
        // The ping's status is ignored (as go-tfe does); only its headers matter.
        let ping = client.inner.api_base.join("ping").expect("static path");
        let response = client.send_once(Method::GET, ping, None).await?;
        let header = |name: &str| {
            response
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let server = ServerInfo {
            rate_limit: header("x-ratelimit-limit").and_then(|v| v.parse().ok()),
            api_version: header("tfp-api-version"),
            app_name: header("tfp-appname"),
        };
        if let Some(limit) = server.rate_limit {
            client.inner.limiter.configure_from_limit(limit);
        }
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
        self.inner.limiter.rate()
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
        decode_data(&raw, self.inner.api_base.as_str())
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
        let doc: Value = decode(&raw, self.inner.api_base.as_str())?;
        let workspace: Workspace =
            serde_json::from_value(doc["data"].clone()).map_err(|e| self.decode_error(e))?;
        let current = workspace.current_run_id().and_then(|run_id| {
            doc["included"]
                .as_array()?
                .iter()
                .find(|v| v["type"] == "runs" && v["id"] == run_id)
                .and_then(|v| serde_json::from_value::<Run>(v.clone()).ok())
        });
        Ok((workspace, current))
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
        decode_data(&raw, self.inner.api_base.as_str())
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
        self.inner.limiter.acquire().await;
        let response = self
            .inner
            .http
            .put(url.clone())
            .header("content-type", "application/octet-stream")
            .body(archive)
            .send()
            .await
            .map_err(|e| transport_error(&url, e, self.inner.config.request_timeout))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(&url, e, self.inner.config.request_timeout))?;
        check_status(RawResponse {
            status,
            headers,
            body,
        })
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
        let doc: Value = decode(&raw, self.inner.api_base.as_str())?;
        let run = serde_json::from_value(doc["data"].clone()).map_err(|e| self.decode_error(e))?;
        let included = doc["included"].as_array().cloned().unwrap_or_default();
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
        decode_data(&raw, self.inner.api_base.as_str())
    }

    async fn write<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Value,
    ) -> Result<T, TfeError> {
        let raw = self
            .send(method, path, &[], Some(body), Retry::Unsafe)
            .await?;
        decode_data(&raw, self.inner.api_base.as_str())
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
        let mut query = vec![
            ("page[number]".to_string(), page.number.max(1).to_string()),
            (
                "page[size]".to_string(),
                page.size.clamp(1, 100).to_string(),
            ),
        ];
        query.extend_from_slice(extra);
        let raw = self
            .send(Method::GET, path, &query, None, Retry::Idempotent)
            .await?;
        let doc: ListDocument<T> = decode(&raw, self.inner.api_base.as_str())?;
        let pagination = doc.meta.and_then(|m| m.pagination).unwrap_or(Pagination {
            current_page: page.number,
            ..Default::default()
        });
        Ok(Page {
            items: doc.data,
            pagination,
        })
    }

    async fn all_pages<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, TfeError> {
        let mut items = Vec::new();
        let mut page = PageRequest {
            number: 1,
            size: 100,
        };
        loop {
            let p: Page<T> = self.list(path, page, &[]).await?;
            let got = p.items.len();
            items.extend(p.items);
            match p.pagination.next_page {
                Some(next) if next > page.number && got > 0 => page.number = next,
                _ => return Ok(items),
            }
        }
    }

    fn decode_error(&self, e: serde_json::Error) -> TfeError {
        TfeError::Decode {
            url: self.inner.api_base.to_string(),
            detail: e.to_string(),
        }
    }

    /// Sends with rate limiting and retries; returns a 2xx response or a typed error.
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
        let config = &self.inner.config;
        let started = tokio::time::Instant::now();
        let mut attempt: u32 = 0;
        loop {
            let outcome = match self
                .send_once(method.clone(), url.clone(), body.as_ref())
                .await
            {
                Ok(raw) => check_status(raw),
                Err(e) => Err(e),
            };
            let error = match outcome {
                Ok(raw) => return Ok(raw),
                Err(e) => e,
            };
            let delay = match (&error, retry) {
                (TfeError::RateLimited { retry_after, .. }, _) => {
                    let wait = retry_after
                        .unwrap_or(Duration::from_secs(1))
                        .max(Duration::from_millis(100));
                    self.inner.limiter.pause_for(wait);
                    Some(wait + jitter(300))
                }
                (e, Retry::Idempotent) if e.is_retryable() => Some(backoff(attempt)),
                (TfeError::Transport { detail, .. }, Retry::Unsafe)
                    if detail.starts_with("connect:") =>
                {
                    Some(backoff(attempt))
                }
                _ => None,
            };
            let out_of_budget = attempt >= config.max_retries
                || delay.is_some_and(|d| started.elapsed() + d > config.max_retry_time);
            match delay {
                Some(d) if !out_of_budget => {
                    tracing::debug!(%method, path, attempt, delay_ms = d.as_millis() as u64, error = %error, "retrying TFE request");
                    tokio::time::sleep(d).await;
                    attempt += 1;
                }
                _ => {
                    if retry == Retry::Unsafe
                        && matches!(
                            error,
                            TfeError::Server { .. }
                                | TfeError::Timeout { .. }
                                | TfeError::Transport { .. }
                        )
                    {
                        return Err(TfeError::OutcomeUnknown {
                            request: format!("{method} {}", url.path()),
                            source: Box::new(error),
                        });
                    }
                    return Err(error);
                }
            }
        }
    }

    /// One HTTP exchange after taking a token from the shared bucket.
    async fn send_once(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<RawResponse, TfeError> {
        self.inner.limiter.acquire().await;
        let has_body_method = method != Method::GET;
        let mut request = self
            .inner
            .http
            .request(method, url.clone())
            .bearer_auth(&self.inner.token)
            .header("accept", JSONAPI);
        if has_body_method {
            request = request.header("content-type", HeaderValue::from_static(JSONAPI));
        }
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let timeout = self.inner.config.request_timeout;
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(&url, e, timeout))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(&url, e, timeout))?;
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }
}

async fn discover(http: &reqwest::Client, url: &Url) -> Result<Url, TfeError> {
    let fail = |detail: String| TfeError::Discovery {
        url: url.to_string(),
        detail,
    };
    let response = http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| fail(error_chain(&e)))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP {}", response.status())));
    }
    let services: serde_json::Map<String, Value> = response
        .json()
        .await
        .map_err(|e| fail(format!("not a JSON object: {e}")))?;
    api_base_from_services(url, &services).map_err(fail)
}

/// Picks the TFE API from a discovery document (newest key first) and resolves it against the document's URL.
fn api_base_from_services(
    url: &Url,
    services: &serde_json::Map<String, Value>,
) -> Result<Url, String> {
    let Some(found) = SERVICE_KEYS
        .iter()
        .find_map(|k| services.get(*k).and_then(Value::as_str))
    else {
        let offered: Vec<&String> = services.keys().filter(|k| k.starts_with("tfe.")).collect();
        return Err(if offered.is_empty() {
            "the host does not offer the TFE API (no tfe.v2* service)".into()
        } else {
            format!(
                "TFE API version not supported: offered {offered:?}, this client needs one of {SERVICE_KEYS:?}"
            )
        });
    };
    let mut base = url
        .join(found)
        .map_err(|e| format!("bad service URL {found:?}: {e}"))?;
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    Ok(base)
}

#[derive(serde::Deserialize)]
struct DataDocument<T> {
    data: T,
}

#[derive(serde::Deserialize)]
struct ListDocument<T> {
    data: Vec<T>,
    #[serde(default)]
    meta: Option<ListMeta>,
}

#[derive(serde::Deserialize)]
struct ListMeta {
    #[serde(default)]
    pagination: Option<Pagination>,
}

fn decode<T: DeserializeOwned>(raw: &RawResponse, url: &str) -> Result<T, TfeError> {
    serde_json::from_slice(&raw.body).map_err(|e| TfeError::Decode {
        url: url.to_string(),
        detail: e.to_string(),
    })
}

fn decode_data<T: DeserializeOwned>(raw: &RawResponse, url: &str) -> Result<T, TfeError> {
    decode::<DataDocument<T>>(raw, url).map(|d| d.data)
}

/// Maps a non-2xx response to a typed error carrying the API's detail.
fn check_status(raw: RawResponse) -> Result<RawResponse, TfeError> {
    if raw.status.is_success() {
        return Ok(raw);
    }
    let detail = serde_json::from_slice::<ErrorDocument>(&raw.body)
        .ok()
        .and_then(|doc| {
            let messages: Vec<&str> = doc.errors.iter().filter_map(|e| e.message()).collect();
            (!messages.is_empty()).then(|| messages.join("; "))
        })
        .unwrap_or_else(|| {
            raw.status
                .canonical_reason()
                .unwrap_or("no detail")
                .to_string()
        });
    let retry_after = if raw.status == StatusCode::TOO_MANY_REQUESTS {
        retry_after(&raw.headers)
    } else {
        None
    };
    Err(TfeError::from_status(
        raw.status.as_u16(),
        detail,
        retry_after,
    ))
}

/// The longer of `Retry-After` and `X-RateLimit-Reset` (both seconds, possibly fractional).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
    };
    match (seconds("retry-after"), seconds("x-ratelimit-reset")) {
        (Some(a), Some(b)) => Some(Duration::from_secs_f64(a.max(b))),
        (Some(s), None) | (None, Some(s)) => Some(Duration::from_secs_f64(s)),
        (None, None) => None,
    }
}

fn transport_error(url: &Url, e: reqwest::Error, timeout: Duration) -> TfeError {
    let url = format!("{}{}", url.origin().ascii_serialization(), url.path());
    if e.is_timeout() {
        TfeError::Timeout { url, timeout }
    } else if e.is_connect() {
        TfeError::Transport {
            url,
            detail: format!("connect: {}", error_chain(&e)),
        }
    } else {
        TfeError::Transport {
            url,
            detail: error_chain(&e),
        }
    }
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

    #[test]
    fn retry_after_takes_the_longer_header() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("1"));
        h.insert("x-ratelimit-reset", HeaderValue::from_static("2.5"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(2500)));
    }

    fn services(json: Value) -> serde_json::Map<String, Value> {
        json.as_object().unwrap().clone()
    }

    #[test]
    fn discovery_prefers_the_newest_key_and_resolves_relative_urls() {
        let url = Url::parse("https://tfe.example:8443/.well-known/terraform.json").unwrap();
        let both = services(json!({"tfe.v2": "/old/", "tfe.v2.2": "/api/v2/"}));
        assert_eq!(
            api_base_from_services(&url, &both).unwrap().as_str(),
            "https://tfe.example:8443/api/v2/"
        );
        let old_only = services(json!({"tfe.v2.1": "/api/v2"}));
        assert_eq!(
            api_base_from_services(&url, &old_only).unwrap().as_str(),
            "https://tfe.example:8443/api/v2/"
        );
        let absolute = services(json!({"tfe.v2.2": "https://other.example/api/v2/"}));
        assert_eq!(
            api_base_from_services(&url, &absolute).unwrap().as_str(),
            "https://other.example/api/v2/"
        );
    }

    #[test]
    fn discovery_explains_missing_or_unsupported_services() {
        let url = Url::parse("https://tfe.example/.well-known/terraform.json").unwrap();
        let newer =
            api_base_from_services(&url, &services(json!({"tfe.v3": "/api/v3/"}))).unwrap_err();
        assert!(
            newer.contains("not supported") && newer.contains("tfe.v3"),
            "{newer}"
        );
        let none =
            api_base_from_services(&url, &services(json!({"modules.v1": "/m/"}))).unwrap_err();
        assert!(none.contains("does not offer the TFE API"), "{none}");
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
