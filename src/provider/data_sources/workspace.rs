//! Data source `tfe_workspace`: looks a workspace up by organization and name.

use async_trait::async_trait;

use crate::provider::api_errors::api_error;
use crate::provider::client::SharedClient;
use crate::provider::config::{SharedConfig, organization};
use tfe_client::models::Workspace;
use tfplugin::{Attribute, Block, DataSource, Diagnostics, ReadDataRequest, Schema, Type, Value};

pub(crate) const TYPE_NAME: &str = "tfe_workspace";

fn vcs_repo_type() -> Type {
    Type::list(Type::Object(
        [
            ("identifier", Type::String),
            ("branch", Type::String),
            ("oauth_token_id", Type::String),
            ("github_app_installation_id", Type::String),
            ("ingress_submodules", Type::Bool),
            ("tags_regex", Type::String),
        ]
        .into_iter()
        .map(|(k, t)| (k.to_string(), t))
        .collect(),
    ))
}

pub(crate) fn schema() -> Schema {
    let computed = |name: &str, ty: Type| Attribute::computed(name, ty);
    Schema {
        version: 0,
        block: Block {
            attributes: vec![
                Attribute::required("name", Type::String).describe("Workspace name."),
                Attribute {
                    computed: true,
                    ..Attribute::optional("organization", Type::String)
                }
                .describe("Organization. Defaults to the provider's organization."),
                computed("id", Type::String),
                computed("auto_apply", Type::Bool),
                computed("execution_mode", Type::String),
                computed("terraform_version", Type::String),
                computed("working_directory", Type::String),
                computed("queue_all_runs", Type::Bool),
                computed("allow_destroy_plan", Type::Bool),
                computed("resource_count", Type::Number),
                computed("locked", Type::Bool),
                computed("html_url", Type::String),
                computed("vcs_repo", vcs_repo_type()),
            ],
            description: "Looks up a workspace by organization and name.".into(),
            ..Block::default()
        },
    }
}

/// The data source's state for `ws` (looked up in `org`).
pub(crate) fn state_for(org: &str, ws: &Workspace, html_url: String) -> Value {
    let a = &ws.attributes;
    let text = |s: &Option<String>| Value::string(s.clone().unwrap_or_default());
    let vcs = a.vcs_repo.iter().map(|r| {
        Value::object([
            ("identifier", Value::string(&r.identifier)),
            ("branch", text(&r.branch)),
            ("oauth_token_id", text(&r.oauth_token_id)),
            ("github_app_installation_id", Value::string("")),
            ("ingress_submodules", Value::Bool(r.ingress_submodules)),
            ("tags_regex", text(&r.tags_regex)),
        ])
    });
    Value::object([
        ("name", Value::string(&a.name)),
        ("organization", Value::string(org)),
        ("id", Value::string(&ws.id)),
        ("auto_apply", Value::Bool(a.auto_apply)),
        ("execution_mode", text(&a.execution_mode)),
        ("terraform_version", text(&a.terraform_version)),
        ("working_directory", text(&a.working_directory)),
        ("queue_all_runs", Value::Bool(a.queue_all_runs)),
        ("allow_destroy_plan", Value::Bool(a.allow_destroy_plan)),
        ("resource_count", Value::int(a.resource_count as i64)),
        ("locked", Value::Bool(a.locked)),
        ("html_url", Value::string(html_url)),
        ("vcs_repo", Value::List(vcs.collect())),
    ])
}

pub(crate) struct WorkspaceDataSource {
    client: SharedClient,
    config: SharedConfig,
}

impl WorkspaceDataSource {
    pub(crate) fn new(client: SharedClient, config: SharedConfig) -> Self {
        WorkspaceDataSource { client, config }
    }
}

#[async_trait]
impl DataSource for WorkspaceDataSource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(&self, request: ReadDataRequest) -> (Value, Diagnostics) {
        let config = request.config;
        let name = config.attr("name").as_str().unwrap_or_default().to_string();
        let result = async {
            let org = organization(&config, &self.config)?;
            let client = self.client.connect().await?;
            let ws = client
                .workspace_by_name(&org, &name)
                .await
                .map_err(|e| api_error(format!("Could not find workspace {org}/{name}"), &e))?;
            let url = client.workspace_url(&org, &ws);
            Ok::<_, Diagnostics>(state_for(&org, &ws, url))
        }
        .await;
        match result {
            Ok(state) => (state, Diagnostics::new()),
            Err(d) => (config, d),
        }
    }
}
