//! `tfe_organization`: an organization (its ID is its name). Name and email are required; email and
//! cost estimation are updated in place; the other official attributes are kept in state only.

use async_trait::async_trait;

use super::state::{known_or, path, warn_unsupported};
use crate::provider::api_errors::api_error;
use crate::provider::client::SharedClient;
use tfe_client::models::Organization;
use tfplugin::model::ValueModel;
use tfplugin::plan::GenericPlan;
use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, Block, Diagnostics, ImportRequest, ImportResponse,
    PlanRequest, ReadRequest, ReadResponse, Resource, Schema, Type, Value,
};

pub(crate) const TYPE_NAME: &str = "tfe_organization";

fn optional_computed(name: &str, ty: Type) -> Attribute {
    Attribute {
        computed: true,
        ..Attribute::optional(name, ty)
    }
}

/// Kept in state only, with the value that needs no warning.
fn unsupported_attributes() -> Vec<(&'static str, Value)> {
    vec![
        ("collaborator_auth_policy", Value::string("password")),
        ("allow_force_delete_workspaces", Value::Bool(false)),
        ("speculative_plan_management_enabled", Value::Bool(true)),
        ("user_tokens_enabled", Value::Bool(true)),
        ("enforce_hyok", Value::Bool(false)),
        ("max_ttl_enabled", Value::Bool(false)),
        ("session_timeout_minutes", Value::Null),
        ("session_remember_minutes", Value::Null),
        ("owners_team_saml_role_id", Value::Null),
        ("assessments_enforced", Value::Null),
        ("stacks_enabled", Value::Null),
        (
            "send_passing_statuses_for_untriggered_speculative_plans",
            Value::Null,
        ),
        ("aggregated_commit_status_enabled", Value::Null),
    ]
}

pub(crate) fn schema() -> Schema {
    let default = |name: &str, v: Value| {
        let ty = match v {
            Value::Bool(_) => Type::Bool,
            _ => Type::String,
        };
        Attribute::with_default(name, ty, v).describe("Kept in state only.")
    };
    Schema {
        version: 0,
        block: Block {
            attributes: vec![
                Attribute::computed("id", Type::String).describe("The organization's name."),
                Attribute::required("name", Type::String)
                    .describe("Name (letters, numbers, - and _). Compared case-insensitively."),
                Attribute::required("email", Type::String).describe("Admin email address."),
                default("collaborator_auth_policy", Value::string("password")),
                default("allow_force_delete_workspaces", Value::Bool(false)),
                default("speculative_plan_management_enabled", Value::Bool(true)),
                default("user_tokens_enabled", Value::Bool(true)),
                default("enforce_hyok", Value::Bool(false)),
                default("max_ttl_enabled", Value::Bool(false)),
                Attribute::optional("session_timeout_minutes", Type::Number)
                    .describe("Kept in state only."),
                Attribute::optional("session_remember_minutes", Type::Number)
                    .describe("Kept in state only."),
                Attribute::optional("owners_team_saml_role_id", Type::String)
                    .describe("Kept in state only."),
                Attribute::optional("assessments_enforced", Type::Bool)
                    .describe("Kept in state only."),
                Attribute::optional("stacks_enabled", Type::Bool).describe("Kept in state only."),
                optional_computed("cost_estimation_enabled", Type::Bool)
                    .describe("Estimate the cost of runs' resources."),
                optional_computed(
                    "send_passing_statuses_for_untriggered_speculative_plans",
                    Type::Bool,
                )
                .describe("Kept in state only."),
                optional_computed("aggregated_commit_status_enabled", Type::Bool)
                    .describe("Kept in state only."),
                Attribute::computed("default_project_id", Type::String).describe(
                    "Default project; the API subset has no projects, so it stays empty.",
                ),
            ],
            description: "An organization in HCP Terraform / Terraform Enterprise.".into(),
            ..Block::default()
        },
    }
}

tfplugin::value_model! {
    /// The values of a `tfe_organization` that the API has fields for, plus its computed attributes.
    pub struct OrganizationModel {
        /// The organization's name, as the API uses it for an id.
        pub id: Option<String> = "id",
        pub name: Option<String> = "name",
        pub email: Option<String> = "email",
        pub cost_estimation_enabled: Option<bool> = "cost_estimation_enabled",
        /// Always "" here: the API subset has no projects.
        pub default_project_id: Option<String> = "default_project_id",
    }
}

/// State from the API's organization over `base` (planned or prior state; null after import).
pub(crate) fn state_from(base: &Value, org: &Organization) -> Value {
    let mut state = if base.is_null() {
        let block = schema().block;
        Value::object(
            block
                .attributes
                .iter()
                .map(|a| (a.name.clone(), a.default.clone().unwrap_or_default())),
        )
    } else {
        base.clone()
    };
    let prior = OrganizationModel::from_value(&state);
    let a = &org.attributes;
    OrganizationModel {
        id: Some(org.id.clone()),
        // Keep the configured spelling when only the case differs.
        name: prior
            .name
            .filter(|n| n.eq_ignore_ascii_case(&a.name))
            .or_else(|| Some(a.name.clone())),
        email: a.email.clone().or(prior.email),
        cost_estimation_enabled: Some(a.cost_estimation_enabled),
        default_project_id: Some(String::new()),
    }
    .write_to(&mut state);
    for name in [
        "send_passing_statuses_for_untriggered_speculative_plans",
        "aggregated_commit_status_enabled",
    ] {
        let v = known_or(state.attr(name), Value::Bool(false));
        state.set_attr(name, v);
    }
    state
}

pub(crate) struct OrganizationResource {
    client: SharedClient,
}

impl OrganizationResource {
    pub(crate) fn new(client: SharedClient) -> Self {
        OrganizationResource { client }
    }
}

#[async_trait]
impl Resource for OrganizationResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn modify_plan(
        &self,
        request: &PlanRequest<'_>,
        plan: &mut GenericPlan,
        diags: &mut Diagnostics,
    ) {
        let (prior, planned) = (request.prior_state, &plan.planned_state);
        if prior.is_null() || planned.is_null() {
            return;
        }
        let (Some(old), Some(new)) = (prior.attr("name").as_str(), planned.attr("name").as_str())
        else {
            return;
        };
        // A change of case only is no rename: the server compares names case-insensitively.
        if !old.eq_ignore_ascii_case(new) {
            diags.attribute_error(
                path("name"),
                "Organization rename not supported",
                format!(
                    "Renaming organization {old:?} to {new:?} is not supported by the TFE API subset this \
                     provider speaks. Create a new tfe_organization resource instead."
                ),
            );
        }
    }

    async fn read(&self, request: ReadRequest) -> ReadResponse {
        let prior = request.current_state;
        let name = OrganizationModel::from_value(&prior).id.unwrap_or_default();
        let result = async {
            let client = self.client.connect().await?;
            match client.organization(&name).await {
                Ok(org) => Ok(state_from(&prior, &org)),
                Err(e) if e.is_not_found() => Ok(Value::Null),
                Err(e) => Err(api_error(format!("Could not read organization {name}"), &e)),
            }
        }
        .await;
        ReadResponse::refreshed(prior, request.private, result)
    }

    async fn create(&self, request: ApplyRequest) -> ApplyResponse {
        let planned = request.planned_state;
        let mut diags = Diagnostics::new();
        warn_unsupported(&request.config, &unsupported_attributes(), &mut diags);
        let OrganizationModel { name, email, .. } = OrganizationModel::from_value(&planned);
        let (name, email) = (name.unwrap_or_default(), email.unwrap_or_default());
        // Only a configured value is sent: the API decides the default.
        let cost = OrganizationModel::from_value(&request.config).cost_estimation_enabled;
        let result = async {
            let client = self.client.connect().await?;
            let mut org = client
                .create_organization(&name, &email)
                .await
                .map_err(|e| api_error(format!("Could not create organization {name}"), &e))?;
            if let Some(cost) = cost.filter(|c| *c != org.attributes.cost_estimation_enabled) {
                org = client
                    .update_organization(&org.id, None, Some(cost))
                    .await
                    .map_err(|e| {
                        api_error(
                            format!("Could not set cost estimation of organization {name}"),
                            &e,
                        )
                    })?;
            }
            Ok::<_, Diagnostics>(state_from(&planned, &org))
        }
        .await;
        ApplyResponse::from_result(result, diags, Value::Null)
    }

    async fn update(&self, request: ApplyRequest) -> ApplyResponse {
        let planned = request.planned_state;
        let mut diags = Diagnostics::new();
        warn_unsupported(&request.config, &unsupported_attributes(), &mut diags);
        let id = OrganizationModel::from_value(&request.prior_state)
            .id
            .unwrap_or_default();
        let OrganizationModel {
            email,
            cost_estimation_enabled: cost,
            ..
        } = OrganizationModel::from_value(&planned);
        let result = async {
            let client = self.client.connect().await?;
            client
                .update_organization(&id, email.as_deref(), cost)
                .await
                .map_err(|e| api_error(format!("Could not update organization {id}"), &e))
        }
        .await;
        let result = result.map(|org| state_from(&planned, &org));
        ApplyResponse::from_result(result, diags, request.prior_state)
    }

    async fn delete(&self, request: ApplyRequest) -> Diagnostics {
        let id = OrganizationModel::from_value(&request.prior_state)
            .id
            .unwrap_or_default();
        let client = match self.client.connect().await {
            Ok(c) => c,
            Err(d) => return d,
        };
        match client.delete_organization(&id).await {
            Ok(()) => Diagnostics::new(),
            Err(e) if e.is_not_found() => Diagnostics::new(),
            Err(e) => api_error(format!("Could not delete organization {id}"), &e),
        }
    }

    async fn import(&self, request: ImportRequest) -> ImportResponse {
        let result = async {
            let client = self.client.connect().await?;
            client.organization(&request.id).await.map_err(|e| {
                api_error(
                    format!("Could not import organization {:?}", request.id),
                    &e,
                )
            })
        }
        .await;
        ImportResponse::from_result(result.map(|org| state_from(&Value::Null, &org)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::client::LazyClient;
    use tfe_client::models::OrganizationAttributes;
    use tfplugin::plan::plan_resource;

    fn plan_rename(from: &str, to: &str) -> Diagnostics {
        let resource = OrganizationResource::new(LazyClient::new(Default::default()));
        let mut prior = state_from(&Value::Null, &org(from));
        prior.set_attr("name", Value::string(from));
        let mut config = prior.clone();
        config.set_attr("name", Value::string(to));
        let mut plan = plan_resource(&schema(), &prior, &config, &config);
        let mut diags = Diagnostics::new();
        let request = PlanRequest {
            prior_state: &prior,
            proposed_new_state: &config,
            config: &config,
            prior_private: &[],
        };
        resource.modify_plan(&request, &mut plan, &mut diags);
        diags
    }

    fn org(name: &str) -> Organization {
        Organization {
            id: name.into(),
            kind: "organizations".into(),
            attributes: OrganizationAttributes {
                name: name.into(),
                email: Some("a@b.c".into()),
                ..Default::default()
            },
            relationships: Default::default(),
            links: None,
        }
    }

    #[test]
    fn a_rename_is_refused_at_plan_but_a_change_of_case_is_not() {
        let diags = plan_rename("acme", "acme-two");
        assert!(diags.has_errors());
        assert!(diags.0[0].detail.contains("\"acme-two\""), "{diags:?}");
        assert!(plan_rename("acme", "ACME").is_empty());
    }

    #[test]
    fn the_model_names_only_what_the_schema_declares() {
        assert!(tfplugin::model::undeclared_attributes::<OrganizationModel>(&schema()).is_empty());
    }

    #[test]
    fn imported_state_has_defaults_and_api_values() {
        let org = Organization {
            id: "acme".into(),
            kind: "organizations".into(),
            attributes: OrganizationAttributes {
                name: "acme".into(),
                email: Some("a@b.c".into()),
                cost_estimation_enabled: true,
                created_at: None,
                ..Default::default()
            },
            relationships: Default::default(),
            links: None,
        };
        let s = state_from(&Value::Null, &org);
        assert_eq!(s.attr("id"), &Value::string("acme"));
        assert_eq!(s.attr("email"), &Value::string("a@b.c"));
        assert_eq!(
            s.attr("collaborator_auth_policy"),
            &Value::string("password")
        );
        assert_eq!(s.attr("cost_estimation_enabled"), &Value::Bool(true));

        let mut configured = s.clone();
        configured.set_attr("name", Value::string("ACME"));
        assert_eq!(
            state_from(&configured, &org).attr("name"),
            &Value::string("ACME")
        );
    }
}
