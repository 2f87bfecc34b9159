//! The provider: [`TfeProvider`] registers the resources and the data sources and resolves its own
//! block (`config`). Each resource is a module of `resources/` (`tfe_workspace_run` is the folder
//! `resources/workspace_run/`), each data source one of `data_sources/`; they share one lazily connected
//! client (`client`), one way of turning API errors into diagnostics (`api_errors`) and one of reading a
//! workspace's outputs (`outputs`).

pub(crate) mod api_errors;
pub(crate) mod client;
pub(crate) mod config;
pub(crate) mod credentials;
pub(crate) mod data_sources;
pub(crate) mod duration;
pub(crate) mod outputs;
pub(crate) mod resources;

pub use client::user_agent;
pub use resources::workspace_run::schema as workspace_run_schema;

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;

use config::SharedConfig;
use tfplugin::{ConfigureRequest, DataSource, Diagnostics, Resource, Schema, Value};

/// Source address Terraform knows this provider by; `hashicorp/tfe` so existing configurations
/// and CDKTF bindings work through dev_overrides or reattach.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/hashicorp/tfe";
/// The short name, as in TF_LOG_PROVIDER_TFE.
pub const PROVIDER_NAME: &str = "tfe";

/// The `tfe` provider: its configuration, resources and data sources, served by `tfplugin`.
pub struct TfeProvider {
    config: SharedConfig,
    client: client::SharedClient,
}

impl TfeProvider {
    /// A provider not yet configured: its API client connects on first use, after ConfigureProvider.
    pub fn new() -> Self {
        let config: SharedConfig = Arc::new(OnceLock::new());
        TfeProvider {
            client: client::LazyClient::new(config.clone()),
            config,
        }
    }
}

impl Default for TfeProvider {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl tfplugin::Provider for TfeProvider {
    fn schema(&self) -> Schema {
        config::schema()
    }

    fn validate_config(&self, config: &Value) -> Diagnostics {
        config::validate(config)
    }

    async fn configure(&self, request: ConfigureRequest) -> Diagnostics {
        match config::resolve(&request.config, &|k| std::env::var(k).ok()) {
            Ok(resolved) => {
                tracing::debug!(
                    hostname = %resolved.hostname,
                    organization = resolved.organization.as_deref().unwrap_or(""),
                    token_source = ?resolved.token_source,
                    ssl_skip_verify = resolved.ssl_skip_verify,
                    "provider configured"
                );
                // Terraform configures once per process; a second call keeps the first result.
                let _ = self.config.set(resolved);
                Diagnostics::new()
            }
            Err(diags) => diags,
        }
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(resources::workspace_run::WorkspaceRunResource::new(
                self.client.clone(),
            )),
            Arc::new(resources::workspace::WorkspaceResource::new(
                self.client.clone(),
                self.config.clone(),
            )),
            Arc::new(resources::organization::OrganizationResource::new(
                self.client.clone(),
            )),
            Arc::new(resources::oauth_client::OAuthClientResource::new(
                self.client.clone(),
                self.config.clone(),
            )),
            Arc::new(resources::variable::VariableResource::new(
                self.client.clone(),
            )),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![
            Arc::new(data_sources::workspace::WorkspaceDataSource::new(
                self.client.clone(),
                self.config.clone(),
            )),
            Arc::new(data_sources::outputs::OutputsDataSource::new(
                self.client.clone(),
                self.config.clone(),
            )),
        ]
    }
}
