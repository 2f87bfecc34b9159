//! `tfe_oauth_client`: a VCS connection of an organization. Its first OAuth token's ID
//! (`oauth_token_id`) is what a workspace's `vcs_repo.oauth_token_id` refers to.

use async_trait::async_trait;

use super::state::{known_or, path, warn_unsupported};
use crate::provider::api_errors::api_error;
use crate::provider::client::SharedClient;
use crate::provider::config::{SharedConfig, organization, plan_organization_fallback};
use tfe_client::CreateOAuthClient;
use tfe_client::models::OAuthClient;
use tfplugin::model::ValueModel;
use tfplugin::plan::GenericPlan;
use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, Block, Diagnostics, PlanRequest, ReadRequest,
    ReadResponse, Resource, Schema, Type, Value,
};

pub(crate) const TYPE_NAME: &str = "tfe_oauth_client";

pub(crate) const SERVICE_PROVIDERS: [&str; 10] = [
    "ado_server",
    "ado_services",
    "bitbucket_hosted",
    "bitbucket_server",
    "bitbucket_data_center",
    "github",
    "github_enterprise",
    "gitlab_hosted",
    "gitlab_community_edition",
    "gitlab_enterprise_edition",
];

fn unsupported_attributes() -> Vec<(&'static str, Value)> {
    vec![
        ("key", Value::Null),
        ("secret", Value::Null),
        ("private_key", Value::Null),
        ("rsa_public_key", Value::Null),
        ("agent_pool_id", Value::Null),
    ]
}

pub(crate) fn schema() -> Schema {
    let optional_computed = |name: &str, ty: Type| Attribute {
        computed: true,
        ..Attribute::optional(name, ty)
    };
    Schema {
        version: 0,
        block: Block {
            attributes: vec![
                Attribute::computed("id", Type::String).describe("OAuth client ID (oc-…)."),
                Attribute::required("api_url", Type::String)
                    .force_new()
                    .describe("Base URL of the VCS provider's API, e.g. https://api.github.com."),
                Attribute::required("http_url", Type::String)
                    .force_new()
                    .describe("Base URL of the VCS provider's web site, e.g. https://github.com."),
                Attribute::required("service_provider", Type::String)
                    .force_new()
                    .describe("VCS provider kind, e.g. \"github\".")
                    .validate(|v, p, d| {
                        if let Some(s) = v.as_str()
                            && !SERVICE_PROVIDERS.contains(&s)
                        {
                            d.attribute_error(
                                p.clone(),
                                "Invalid service provider",
                                format!(
                                    "service_provider {s:?} is not allowed; use one of {}.",
                                    SERVICE_PROVIDERS.join(", ")
                                ),
                            );
                        }
                    }),
                Attribute::optional("oauth_token", Type::String)
                    .sensitive()
                    .describe("Token the client authenticates to the VCS provider with."),
                optional_computed("organization", Type::String)
                    .force_new()
                    .describe("Organization. Defaults to the provider's organization."),
                Attribute::optional("name", Type::String)
                    .force_new()
                    .describe("Display name."),
                Attribute::optional("key", Type::String)
                    .sensitive()
                    .force_new()
                    .describe("Kept in state only."),
                Attribute::optional("secret", Type::String)
                    .sensitive()
                    .force_new()
                    .describe("Kept in state only."),
                Attribute::optional("private_key", Type::String)
                    .sensitive()
                    .force_new()
                    .describe("Kept in state only."),
                Attribute::optional("rsa_public_key", Type::String)
                    .force_new()
                    .describe("Kept in state only; needs key and secret."),
                optional_computed("agent_pool_id", Type::String).describe("Kept in state only."),
                Attribute::with_default("organization_scoped", Type::Bool, Value::Bool(true))
                    .describe("Available to every workspace of the organization."),
                Attribute::computed("oauth_token_id", Type::String).describe(
                    "ID (ot-…) of the client's OAuth token, for vcs_repo.oauth_token_id.",
                ),
            ],
            description: "A VCS connection (OAuth client) of an organization.".into(),
            ..Block::default()
        },
    }
}

/// `rsa_public_key` needs both `key` and `secret` (as the official schema's RequiredWith).
pub(crate) fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if !config.attr("rsa_public_key").is_null() {
        for needed in ["key", "secret"] {
            if config.attr(needed).is_null() {
                diags.attribute_error(
                    path("rsa_public_key"),
                    "Missing attribute",
                    format!("rsa_public_key needs `key` and `secret` to be set too; `{needed}` is missing."),
                );
            }
        }
    }
    diags
}

tfplugin::value_model! {
    /// The values of a `tfe_oauth_client` that the API has fields for, plus its computed attributes.
    pub struct OAuthClientModel {
        pub id: Option<String> = "id",
        pub name: Option<String> = "name",
        /// Raw, so that an organization still unknown at create time can be told from a null one.
        pub organization: Value = "organization",
        pub api_url: Option<String> = "api_url",
        pub http_url: Option<String> = "http_url",
        pub service_provider: Option<String> = "service_provider",
        /// The VCS provider's token, sent once at create time (sensitive).
        pub oauth_token: Option<String> = "oauth_token",
        pub organization_scoped: Option<bool> = "organization_scoped",
        pub oauth_token_id: Option<String> = "oauth_token_id",
    }
}

/// State from the API's client over `base`: URLs, provider and token ID come from the server.
pub(crate) fn state_from(base: &Value, client: &OAuthClient) -> Value {
    let mut state = base.clone();
    let prior = OAuthClientModel::from_value(&state);
    let a = &client.attributes;
    OAuthClientModel {
        id: Some(client.id.clone()),
        api_url: a.api_url.clone().or(prior.api_url),
        http_url: a.http_url.clone().or(prior.http_url),
        service_provider: a.service_provider.clone().or(prior.service_provider),
        organization: client
            .related_id("organization")
            .map_or(prior.organization, Value::string),
        organization_scoped: Some(a.organization_scoped),
        oauth_token_id: client.oauth_token_id().map(str::to_owned),
        ..prior
    }
    .write_to(&mut state);
    let agent_pool = known_or(state.attr("agent_pool_id"), Value::Null);
    state.set_attr("agent_pool_id", agent_pool);
    state
}

pub(crate) struct OAuthClientResource {
    client: SharedClient,
    config: SharedConfig,
}

impl OAuthClientResource {
    pub(crate) fn new(client: SharedClient, config: SharedConfig) -> Self {
        OAuthClientResource { client, config }
    }
}

#[async_trait]
impl Resource for OAuthClientResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate_config(&self, config: &Value) -> Diagnostics {
        validate(config)
    }

    fn modify_plan(&self, request: &PlanRequest<'_>, plan: &mut GenericPlan, _: &mut Diagnostics) {
        plan_organization_fallback(&mut plan.planned_state, request.config, &self.config);
    }

    async fn read(&self, request: ReadRequest) -> ReadResponse {
        let prior = request.current_state;
        let id = OAuthClientModel::from_value(&prior).id.unwrap_or_default();
        let result = async {
            let client = self.client.connect().await?;
            match client.oauth_client(&id).await {
                Ok(c) => Ok(state_from(&prior, &c)),
                Err(e) if e.is_not_found() => Ok(Value::Null),
                Err(e) => Err(api_error(format!("Could not read OAuth client {id}"), &e)),
            }
        }
        .await;
        ReadResponse::refreshed(prior, request.private, result)
    }

    async fn create(&self, request: ApplyRequest) -> ApplyResponse {
        let planned = request.planned_state;
        let mut diags = Diagnostics::new();
        warn_unsupported(&request.config, &unsupported_attributes(), &mut diags);
        let model = OAuthClientModel::from_value(&planned);
        let options = CreateOAuthClient {
            service_provider: model.service_provider.unwrap_or_default(),
            http_url: model.http_url.unwrap_or_default(),
            api_url: model.api_url.unwrap_or_default(),
            oauth_token_string: model.oauth_token,
            name: model.name,
            organization_scoped: model.organization_scoped,
        };
        let result = async {
            let org = organization(&planned, &self.config)?;
            let client = self.client.connect().await?;
            let created = client
                .create_oauth_client(&org, &options)
                .await
                .map_err(|e| api_error(format!("Could not create OAuth client in {org}"), &e))?;
            let mut state = state_from(&planned, &created);
            if state.attr("organization").is_unknown() {
                state.set_attr("organization", Value::string(org));
            }
            Ok::<_, Diagnostics>(state)
        }
        .await;
        ApplyResponse::from_result(result, diags, Value::Null)
    }

    async fn update(&self, request: ApplyRequest) -> ApplyResponse {
        // The TFE API subset has no OAuth client update: say so for each changed attribute.
        let mut diags = Diagnostics::new();
        for name in ["oauth_token", "organization_scoped", "agent_pool_id"] {
            if request.prior_state.attr(name) != request.planned_state.attr(name) {
                diags.attribute_warning(
                    path(name),
                    "Change not applied remotely",
                    format!(
                        "`{name}` changed in state, but the TFE API subset has no OAuth client update, so the \
                         server keeps the old value. Replace the resource (terraform apply -replace) to apply it."
                    ),
                );
            }
        }
        ApplyResponse::with_warnings(request.planned_state, diags)
    }

    async fn delete(&self, request: ApplyRequest) -> Diagnostics {
        let id = OAuthClientModel::from_value(&request.prior_state)
            .id
            .unwrap_or_default();
        let client = match self.client.connect().await {
            Ok(c) => c,
            Err(d) => return d,
        };
        match client.delete_oauth_client(&id).await {
            Ok(()) => Diagnostics::new(),
            Err(e) if e.is_not_found() => Diagnostics::new(),
            Err(e) => api_error(format!("Could not delete OAuth client {id}"), &e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::AttributePath;
    use tfplugin::validate::validate_block;

    #[test]
    fn the_model_names_only_what_the_schema_declares() {
        assert!(tfplugin::model::undeclared_attributes::<OAuthClientModel>(&schema()).is_empty());
    }

    fn config(provider: &str) -> Value {
        let mut v = Value::object(
            schema()
                .block
                .attributes
                .iter()
                .map(|a| (a.name.clone(), Value::Null)),
        );
        v.set_attr("api_url", Value::string("https://api.github.com"));
        v.set_attr("http_url", Value::string("https://github.com"));
        v.set_attr("service_provider", Value::string(provider));
        v
    }

    #[test]
    fn service_provider_must_be_one_of_the_official_values() {
        let mut diags = Diagnostics::new();
        validate_block(
            &schema().block,
            &config("github"),
            &AttributePath::default(),
            &mut diags,
        );
        assert!(diags.is_empty(), "{diags:?}");
        validate_block(
            &schema().block,
            &config("svn"),
            &AttributePath::default(),
            &mut diags,
        );
        assert_eq!(diags.0.len(), 1);
        assert!(diags.0[0].detail.contains("\"svn\""));
        assert!(diags.0[0].detail.contains("gitlab_hosted"));
    }

    #[test]
    fn rsa_public_key_needs_key_and_secret() {
        let mut c = config("bitbucket_server");
        c.set_attr("rsa_public_key", Value::string("pk"));
        c.set_attr("key", Value::string("k"));
        let d = validate(&c);
        assert_eq!(d.0.len(), 1);
        assert!(d.0[0].detail.contains("`secret`"));
    }

    #[test]
    fn oauth_token_is_sensitive() {
        let s = schema();
        assert!(s.block.attribute("oauth_token").unwrap().sensitive);
        assert!(s.block.attribute("service_provider").unwrap().force_new);
    }
}
