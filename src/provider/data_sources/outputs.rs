//! Data source `tfe_outputs`: the root module outputs of another workspace's current state, as HashiCorp's
//! (`values` every output, sensitive as a whole; `nonsensitive_values` those the state does not mark
//! sensitive), so that one configuration can read what another workspace's apply produced.
//!
//! The values and their types come from `outputs::output_values`; a state whose outputs the server has not
//! processed yet is waited for (at most [`PROCESSING_WAIT`], or the retry budget of one request when that is
//! shorter) rather than read as "no outputs".

use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::provider::api_errors::api_error;
use crate::provider::client::SharedClient;
use crate::provider::config::{SharedConfig, client_tuning, organization};
use crate::provider::outputs::{OutputValues, WaitError, output_values, processed_outputs};
use tfplugin::{Attribute, Block, DataSource, Diagnostics, ReadDataRequest, Schema, Type, Value};

pub(crate) const TYPE_NAME: &str = "tfe_outputs";

/// How long a read waits for the server to process the workspace's newest state (HCP Terraform does it
/// seconds after the run ends), unless `TFE_RETRY_MAX_ELAPSED` is shorter. Terraform does not stop a
/// provider while it plans, so this bound is what ends a wait that Ctrl-C cannot.
pub(crate) const PROCESSING_WAIT: Duration = Duration::from_secs(60);

/// [`PROCESSING_WAIT`], or the retry budget of one request (`TFE_RETRY_MAX_ELAPSED`) when it is shorter.
fn processing_wait(env: &dyn Fn(&str) -> Option<String>) -> Duration {
    client_tuning(env)
        .map(|t| t.retry_max_elapsed)
        .unwrap_or(PROCESSING_WAIT)
        .min(PROCESSING_WAIT)
}

pub(crate) fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            attributes: vec![
                Attribute::computed("id", Type::String)
                    .describe("<organization>-<workspace>, for Terraform's bookkeeping."),
                Attribute {
                    computed: true,
                    ..Attribute::optional("organization", Type::String)
                }
                .describe("Name of the organization. Defaults to the provider's organization."),
                Attribute::required("workspace", Type::String)
                    .describe("Name of the workspace whose outputs are read."),
                Attribute::computed("values", Type::Dynamic)
                    .sensitive()
                    .describe("Every output of the workspace's current state, by name (sensitive as a whole)."),
                Attribute::computed("nonsensitive_values", Type::Dynamic).describe(
                    "The outputs the workspace's state does not mark sensitive, by name.",
                ),
            ],
            description: "Reads the outputs of a workspace's current state.".into(),
            ..Block::default()
        },
    }
}

/// The data source's state for `org`/`workspace` with `values`.
pub(crate) fn state_for(org: &str, workspace: &str, values: OutputValues) -> Value {
    Value::object([
        ("id", Value::string(format!("{org}-{workspace}"))),
        ("organization", Value::string(org)),
        ("workspace", Value::string(workspace)),
        ("values", values.all),
        ("nonsensitive_values", values.nonsensitive),
    ])
}

pub(crate) struct OutputsDataSource {
    client: SharedClient,
    config: SharedConfig,
}

impl OutputsDataSource {
    pub(crate) fn new(client: SharedClient, config: SharedConfig) -> Self {
        OutputsDataSource { client, config }
    }
}

#[async_trait]
impl DataSource for OutputsDataSource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(&self, request: ReadDataRequest) -> (Value, Diagnostics) {
        let config = request.config;
        let workspace = config
            .attr("workspace")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let result = async {
            let org = organization(&config, &self.config)?;
            let client = self.client.connect().await?;
            let ws = client
                .workspace_by_name(&org, &workspace)
                .await
                .map_err(|e| {
                    api_error(format!("Could not find workspace {org}/{workspace}"), &e)
                })?;
            let deadline = Instant::now() + processing_wait(&|k| std::env::var(k).ok());
            let current = processed_outputs(client, &ws.id, &request.cancel, Some(deadline))
                .await
                .map_err(|e| match e {
                    WaitError::Api(e) => api_error(
                        format!("Could not read the outputs of workspace {org}/{workspace}"),
                        &e,
                    ),
                    other => Diagnostics::from_error(
                        format!("Outputs of workspace {org}/{workspace} not ready"),
                        format!(
                            "{other}; read them again once the server has processed the state."
                        ),
                    ),
                })?;
            // A workspace without a state version has no outputs yet: two empty objects, as the official
            // data source gives.
            let values = match current {
                None => OutputValues::empty(),
                Some(current) => output_values(&current.outputs).map_err(|e| {
                    Diagnostics::from_error(
                        format!("Could not read the outputs of workspace {org}/{workspace}"),
                        e.to_string(),
                    )
                })?,
            };
            Ok::<_, Diagnostics>(state_for(&org, &workspace, values))
        }
        .await;
        match result {
            Ok(state) => (state, Diagnostics::new()),
            Err(d) => (config, d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_sensitive_and_both_are_dynamic() {
        let s = schema();
        let values = s.block.attribute("values").unwrap();
        assert!(values.sensitive && values.computed);
        assert_eq!(values.ty, Type::Dynamic);
        let plain = s.block.attribute("nonsensitive_values").unwrap();
        assert!(!plain.sensitive);
        assert_eq!(plain.ty, Type::Dynamic);
        assert!(s.block.attribute("workspace").unwrap().required);
    }

    #[test]
    fn the_wait_is_a_minute_or_the_retry_budget_when_shorter() {
        assert_eq!(processing_wait(&|_| None), PROCESSING_WAIT);
        let budget = |value: &'static str| {
            move |k: &str| (k == "TFE_RETRY_MAX_ELAPSED").then(|| value.to_string())
        };
        assert_eq!(processing_wait(&budget("3s")), Duration::from_secs(3));
        assert_eq!(processing_wait(&budget("1h")), PROCESSING_WAIT);
        assert_eq!(processing_wait(&budget("nonsense")), PROCESSING_WAIT);
    }

    #[test]
    fn the_state_names_the_workspace_and_keeps_both_sets() {
        let state = state_for("acme", "network", OutputValues::empty());
        assert_eq!(state.attr("id"), &Value::string("acme-network"));
        assert_eq!(state.attr("organization"), &Value::string("acme"));
        assert_eq!(state.attr("values"), &Value::Object(Default::default()));
    }
}
