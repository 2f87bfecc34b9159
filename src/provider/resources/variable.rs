//! `tfe_variable`: a Terraform or environment variable of a workspace. The schema is HashiCorp's
//! (schema version 1), so configurations and CDKTF bindings written for `hashicorp/tfe` work unchanged.
//!
//! The API never returns a sensitive variable's value, so the state keeps the configured one, as the official
//! resource does; an update sends `value` only when it changed, so that a sensitive value nobody can see is
//! never overwritten by an unrelated change. A create whose answer is lost is settled by looking for the key
//! in the workspace (a key is unique per category), never by creating a second variable.

use async_trait::async_trait;

use super::state::path;
use crate::provider::api_errors::api_error;
use crate::provider::client::SharedClient;
use tfe_client::models::{Variable, VariableCategory};
use tfe_client::{TfeClient, TfeError, VariableOptions};
use tfplugin::model::ValueModel;
use tfplugin::plan::GenericPlan;
use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, Block, Diagnostics, ImportRequest, ImportResponse,
    PlanRequest, ReadRequest, ReadResponse, Resource, Schema, Type, Value,
};

pub(crate) const TYPE_NAME: &str = "tfe_variable";
/// HashiCorp's: version 1 made `workspace_id` a workspace ID instead of `<org>/<workspace name>`.
pub(crate) const SCHEMA_VERSION: i64 = 1;
pub(crate) const CATEGORIES: [&str; 2] = ["terraform", "env"];

/// How often a create whose answer was lost is looked up and tried again before giving up.
const CREATE_ATTEMPTS: usize = 3;

const NO_VARIABLE_SETS: &str = "Variable sets are not served by this provider (the TFE API subset it speaks has \
     none): set `workspace_id` instead, or keep this variable on HashiCorp's provider beside this one \
     (docs/index.md, \"side by side\").";

tfplugin::value_model! {
    /// The values of a `tfe_variable`.
    pub struct VariableModel {
        pub id: Option<String> = "id",
        pub key: Option<String> = "key",
        /// Raw: a value still unknown at plan time must stay unknown.
        pub value: Value = "value",
        pub category: Option<String> = "category",
        pub description: Option<String> = "description",
        pub hcl: Option<bool> = "hcl",
        pub sensitive: Option<bool> = "sensitive",
        pub workspace_id: Option<String> = "workspace_id",
        pub variable_set_id: Option<String> = "variable_set_id",
        pub readable_value: Value = "readable_value",
    }
}

/// Whether `id` has the shape of a workspace ID: `ws-` and 16 letters or digits (as the official schema checks).
fn is_workspace_id(id: &str) -> bool {
    id.strip_prefix("ws-")
        .is_some_and(|rest| rest.len() == 16 && rest.chars().all(|c| c.is_ascii_alphanumeric()))
}

pub(crate) fn schema() -> Schema {
    Schema {
        version: SCHEMA_VERSION,
        block: Block {
            attributes: vec![
                Attribute::computed("id", Type::String).describe("The variable's ID (var-…)."),
                Attribute::required("key", Type::String)
                    .describe("Name of the variable. Changing it replaces a sensitive variable, and renames another in place.")
                    .validate(|v, p, d| {
                        if v.as_str().is_some_and(|s| s.trim().is_empty()) {
                            d.attribute_error(p.clone(), "Invalid variable key", "key must not be empty.");
                        }
                    }),
                Attribute::with_default("value", Type::String, Value::string(""))
                    .sensitive()
                    .describe("Value of the variable (for an `hcl` variable, HCL source). Always sensitive."),
                Attribute::required("category", Type::String)
                    .force_new()
                    .describe("Whether this is a Terraform or an environment variable: \"terraform\" or \"env\".")
                    .validate(|v, p, d| {
                        if let Some(s) = v.as_str()
                            && !CATEGORIES.contains(&s)
                        {
                            d.attribute_error(
                                p.clone(),
                                "Invalid variable category",
                                format!("category {s:?} is not allowed; use \"terraform\" or \"env\"."),
                            );
                        }
                    }),
                Attribute::with_default("description", Type::String, Value::string(""))
                    .describe("Description of the variable."),
                Attribute::with_default("hcl", Type::Bool, Value::Bool(false)).describe(
                    "Evaluate the value as HCL source (a list, a map, a number). No effect on environment variables.",
                ),
                Attribute::with_default("sensitive", Type::Bool, Value::Bool(false)).describe(
                    "Write-only: the API never shows the value again. Turning it off replaces the variable.",
                ),
                Attribute::optional("workspace_id", Type::String)
                    .force_new()
                    .describe("ID of the workspace that owns the variable (ws-…).")
                    .validate(|v, p, d| {
                        if let Some(s) = v.as_str()
                            && !is_workspace_id(s)
                        {
                            d.attribute_error(
                                p.clone(),
                                "Invalid workspace ID",
                                format!("workspace_id {s:?} is not a workspace ID: ws- followed by 16 letters or digits, e.g. tfe_workspace.x.id."),
                            );
                        }
                    }),
                Attribute::optional("variable_set_id", Type::String)
                    .force_new()
                    .describe("Not served by this provider: variable sets are outside its API subset."),
                Attribute::computed("readable_value", Type::String).describe(
                    "The value, not marked sensitive, for references that should show in plans; null for a sensitive variable.",
                ),
            ],
            description: "A Terraform or environment variable of a workspace.".into(),
            ..Block::default()
        },
    }
}

/// Exactly one owner, and it must be a workspace: this provider has no variable sets.
pub(crate) fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let workspace = config.attr("workspace_id");
    let variable_set = config.attr("variable_set_id");
    if !variable_set.is_null() {
        diags.attribute_error(
            path("variable_set_id"),
            "Variable sets are not supported",
            NO_VARIABLE_SETS,
        );
    } else if workspace.is_null() {
        diags.attribute_error(
            path("workspace_id"),
            "Missing workspace_id",
            "A tfe_variable needs `workspace_id`, the workspace (ws-…) that owns it, e.g. tfe_workspace.x.id.",
        );
    }
    diags
}

/// What the API has for this variable over `base` (the planned or prior values): everything but a sensitive
/// variable's value, which the API never shows, so `base`'s is kept.
pub(crate) fn state_from(base: &Value, variable: &Variable) -> Value {
    let mut state = base.clone();
    let prior = VariableModel::from_value(base);
    let a = &variable.attributes;
    let value = match (&a.value, a.sensitive) {
        (Some(v), false) => Value::string(v),
        (None, false) => Value::string(""),
        (_, true) => prior.value.clone(),
    };
    let category = match &a.category {
        VariableCategory::Unknown(s) if s.is_empty() => prior.category.clone(),
        other => Some(other.as_str().to_string()),
    };
    VariableModel {
        id: Some(variable.id.clone()),
        key: Some(a.key.clone()),
        readable_value: if a.sensitive {
            Value::Null
        } else {
            value.clone()
        },
        value,
        category,
        description: Some(a.description.clone().unwrap_or_default()),
        hcl: Some(a.hcl),
        sensitive: Some(a.sensitive),
        workspace_id: variable
            .workspace_id()
            .map(str::to_owned)
            .or(prior.workspace_id),
        variable_set_id: None,
    }
    .write_to(&mut state);
    state
}

/// What create sends: every attribute, the value as planned.
fn create_options(model: &VariableModel) -> VariableOptions {
    VariableOptions {
        key: model.key.clone(),
        value: Some(model.value.as_str().unwrap_or_default().to_string()),
        description: model.description.clone(),
        category: model.category.as_deref().map(VariableCategory::parse),
        hcl: model.hcl,
        sensitive: model.sensitive,
    }
}

/// What update sends: the category cannot change in place (a change replaces the variable), and the value
/// is sent only when the plan changes it, so that an unrelated change never resets a sensitive value.
fn update_options(planned: &VariableModel, prior: &VariableModel) -> VariableOptions {
    let value_changed = planned.value != prior.value;
    VariableOptions {
        key: planned.key.clone(),
        value: value_changed.then(|| planned.value.as_str().unwrap_or_default().to_string()),
        description: planned.description.clone(),
        category: None,
        hcl: planned.hcl,
        sensitive: planned.sensitive,
    }
}

/// Whether `variable` is the one `options` asked for: same key, same category.
fn same_variable(variable: &Variable, options: &VariableOptions) -> bool {
    Some(&variable.attributes.key) == options.key.as_ref()
        && Some(&variable.attributes.category) == options.category.as_ref()
}

/// Creates the variable; when the answer is lost (the create may have happened), looks for the key in the
/// workspace and takes the variable found, else tries again, at most [`CREATE_ATTEMPTS`] times in all. A 422
/// for a taken key after a lost answer is the lost create's own variable. When the lookup itself fails, the
/// error is the create's: its outcome is unknown.
async fn create_settled(
    client: &TfeClient,
    workspace_id: &str,
    options: &VariableOptions,
) -> Result<Variable, TfeError> {
    let mut attempt = 1;
    loop {
        let lost = match client.create_variable(workspace_id, options).await {
            Ok(created) => return Ok(created),
            Err(e @ TfeError::OutcomeUnknown { .. }) => e,
            Err(e) if attempt > 1 && e.status() == Some(422) => e,
            Err(e) => return Err(e),
        };
        tracing::info!(
            workspace_id,
            key = options.key.as_deref().unwrap_or(""),
            attempt,
            error = %lost,
            "the variable create's answer was lost; looking the key up"
        );
        let listed = match client.variables(workspace_id).await {
            Ok(listed) => listed,
            Err(e) => {
                tracing::warn!(workspace_id, error = %e, "could not list the workspace's variables");
                return Err(lost);
            }
        };
        if let Some(found) = listed.into_iter().find(|v| same_variable(v, options)) {
            tracing::info!(variable_id = %found.id, "the lost create made the variable");
            return Ok(found);
        }
        if attempt == CREATE_ATTEMPTS {
            return Err(lost);
        }
        attempt += 1;
    }
}

/// `<organization>/<workspace name>/<variable id>`.
pub(crate) fn parse_import_id(id: &str) -> Result<(&str, &str, &str), String> {
    let parts: Vec<&str> = id.split('/').collect();
    match parts[..] {
        [org, container, variable]
            if !org.is_empty() && !container.is_empty() && variable.starts_with("var-") =>
        {
            if container.starts_with("varset-") {
                Err(format!("{id:?} names a variable set. {NO_VARIABLE_SETS}"))
            } else {
                Ok((org, container, variable))
            }
        }
        _ => Err(format!(
            "{id:?} is not <organization>/<workspace name>/<variable id>, e.g. my-org/my-workspace/var-5rTwnSaRPogw6apb."
        )),
    }
}

pub(crate) struct VariableResource {
    client: SharedClient,
}

impl VariableResource {
    pub(crate) fn new(client: SharedClient) -> Self {
        VariableResource { client }
    }
}

#[async_trait]
impl Resource for VariableResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate_config(&self, config: &Value) -> Diagnostics {
        validate(config)
    }

    fn upgrade_state(&self, version: i64, state: Value) -> Result<Value, Diagnostics> {
        // Before version 1 (hashicorp/tfe 0.15.1) workspace_id was "<org>/<workspace name>"; translating it
        // needs the API, which a state upgrade here cannot call. An ID already in the new form is kept.
        let model = VariableModel::from_value(&state);
        match model.workspace_id.as_deref() {
            Some(old) if version < 1 && !is_workspace_id(old) => Err(Diagnostics::from_error(
                "State too old to upgrade",
                format!(
                    "This tfe_variable ({}) was stored by hashicorp/tfe before 0.15.1, with workspace_id {old:?} \
                     (<organization>/<workspace name>). Import it again: `terraform state rm` it, then \
                     `terraform import <address> {old}/{}`.",
                    model.id.as_deref().unwrap_or("?"),
                    model.id.as_deref().unwrap_or("<variable id>"),
                ),
            )),
            _ => Ok(state),
        }
    }

    fn modify_plan(&self, request: &PlanRequest<'_>, plan: &mut GenericPlan, _: &mut Diagnostics) {
        let planned = &mut plan.planned_state;
        let prior = request.prior_state;
        if !prior.is_null() {
            let prior_sensitive = prior.attr("sensitive").as_bool() == Some(true);
            // A sensitive variable's key cannot be renamed blindly (its value is unknown to everyone): replace.
            if prior_sensitive && planned.attr("key") != prior.attr("key") {
                plan.requires_replace.push(path("key"));
            }
            // Revealing a sensitive value is not possible in place: replace.
            if prior_sensitive && planned.attr("sensitive").as_bool() == Some(false) {
                plan.requires_replace.push(path("sensitive"));
            }
            if !plan.requires_replace.is_empty() {
                planned.set_attr("id", Value::Unknown);
            }
        }
        let readable = match planned.attr("sensitive") {
            Value::Bool(true) => Value::Null,
            Value::Bool(false) => planned.attr("value").clone(),
            _ => Value::Unknown,
        };
        planned.set_attr("readable_value", readable);
    }

    async fn read(&self, request: ReadRequest) -> ReadResponse {
        let prior = request.current_state;
        let model = VariableModel::from_value(&prior);
        let id = model.id.unwrap_or_default();
        let workspace_id = model.workspace_id.unwrap_or_default();
        let result = async {
            let client = self.client.connect().await?;
            match client.variable(&workspace_id, &id).await {
                Ok(variable) => Ok(state_from(&prior, &variable)),
                // The variable, or its workspace, is gone: the next plan creates it again.
                Err(e) if e.is_not_found() => Ok(Value::Null),
                Err(e) => Err(api_error(format!("Could not read variable {id}"), &e)),
            }
        }
        .await;
        ReadResponse::refreshed(prior, request.private, result)
    }

    async fn create(&self, request: ApplyRequest) -> ApplyResponse {
        let planned = request.planned_state;
        let model = VariableModel::from_value(&planned);
        let workspace_id = model.workspace_id.clone().unwrap_or_default();
        let options = create_options(&model);
        let key = model.key.as_deref().unwrap_or_default();
        let category = model.category.as_deref().unwrap_or_default();
        let result = async {
            let client = self.client.connect().await?;
            let created = create_settled(client, &workspace_id, &options)
                .await
                .map_err(|e| {
                    api_error(
                        format!(
                            "Could not create {category} variable {key} in workspace {workspace_id}"
                        ),
                        &e,
                    )
                })?;
            Ok::<_, Diagnostics>(state_from(&planned, &created))
        }
        .await;
        ApplyResponse::from_result(result, Diagnostics::new(), Value::Null)
    }

    async fn update(&self, request: ApplyRequest) -> ApplyResponse {
        let planned = request.planned_state;
        let planned_model = VariableModel::from_value(&planned);
        let prior_model = VariableModel::from_value(&request.prior_state);
        let id = prior_model.id.clone().unwrap_or_default();
        let workspace_id = prior_model.workspace_id.clone().unwrap_or_default();
        let options = update_options(&planned_model, &prior_model);
        let result = async {
            let client = self.client.connect().await?;
            let updated = client
                .update_variable(&workspace_id, &id, &options)
                .await
                .map_err(|e| api_error(format!("Could not update variable {id}"), &e))?;
            Ok::<_, Diagnostics>(state_from(&planned, &updated))
        }
        .await;
        ApplyResponse::from_result(result, Diagnostics::new(), request.prior_state)
    }

    async fn delete(&self, request: ApplyRequest) -> Diagnostics {
        let model = VariableModel::from_value(&request.prior_state);
        let id = model.id.unwrap_or_default();
        let workspace_id = model.workspace_id.unwrap_or_default();
        let client = match self.client.connect().await {
            Ok(c) => c,
            Err(d) => return d,
        };
        match client.delete_variable(&workspace_id, &id).await {
            Ok(()) => Diagnostics::new(),
            Err(e) if e.is_not_found() => Diagnostics::new(),
            Err(e) => api_error(format!("Could not delete variable {id}"), &e),
        }
    }

    async fn import(&self, request: ImportRequest) -> ImportResponse {
        let result = async {
            let (org, workspace, id) = parse_import_id(&request.id)
                .map_err(|msg| Diagnostics::from_error("Invalid import ID", msg))?;
            let client = self.client.connect().await?;
            let ws = client
                .workspace_by_name(org, workspace)
                .await
                .map_err(|e| {
                    api_error(format!("Could not find workspace {org}/{workspace}"), &e)
                })?;
            let variable = client.variable(&ws.id, id).await.map_err(|e| {
                api_error(
                    format!("Could not find variable {id} in workspace {org}/{workspace}"),
                    &e,
                )
            })?;
            // A sensitive variable's value cannot be read: it stays null until the configuration sets it.
            let base = VariableModel {
                workspace_id: Some(ws.id.clone()),
                ..VariableModel::default()
            }
            .to_value();
            Ok(state_from(&base, &variable))
        }
        .await;
        ImportResponse::from_result(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tfplugin::AttributePath;
    use tfplugin::plan::plan_resource;
    use tfplugin::validate::validate_block;

    const WS: &str = "ws-AbCdEfGh12345678";

    fn nulls() -> Value {
        Value::object(
            schema()
                .block
                .attributes
                .iter()
                .map(|a| (a.name.clone(), Value::Null)),
        )
    }

    fn config(sensitive: Option<bool>) -> Value {
        let mut c = nulls();
        c.set_attr("key", Value::string("region"));
        c.set_attr("value", Value::string("eu-west-1"));
        c.set_attr("category", Value::string("terraform"));
        c.set_attr("workspace_id", Value::string(WS));
        if let Some(s) = sensitive {
            c.set_attr("sensitive", Value::Bool(s));
        }
        c
    }

    fn api_variable(value: Option<&str>, sensitive: bool) -> Variable {
        serde_json::from_value(json!({
            "id": "var-1", "type": "vars",
            "attributes": {"key": "region", "value": value, "category": "terraform",
                           "hcl": false, "sensitive": sensitive, "description": null},
            "relationships": {"configurable": {"data": {"id": WS, "type": "workspaces"}}}
        }))
        .unwrap()
    }

    fn plan(prior: &Value, config: &Value) -> GenericPlan {
        let resource = VariableResource::new(crate::provider::client::LazyClient::new(
            std::sync::Arc::new(std::sync::OnceLock::new()),
        ));
        let mut proposed = config.clone();
        if !prior.is_null() {
            for name in ["id", "readable_value"] {
                proposed.set_attr(name, prior.attr(name).clone());
            }
        }
        let mut plan = plan_resource(&schema(), prior, &proposed, config);
        let request = PlanRequest {
            prior_state: prior,
            proposed_new_state: &proposed,
            config,
            prior_private: &[],
        };
        resource.modify_plan(&request, &mut plan, &mut Diagnostics::new());
        plan
    }

    #[test]
    fn the_model_names_only_what_the_schema_declares() {
        assert!(tfplugin::model::undeclared_attributes::<VariableModel>(&schema()).is_empty());
        assert_eq!(
            VariableModel::ATTRIBUTES.len(),
            schema().block.attributes.len()
        );
    }

    #[test]
    fn the_value_is_sensitive_and_the_defaults_are_the_official_ones() {
        let s = schema();
        assert!(s.block.attribute("value").unwrap().sensitive);
        assert!(!s.block.attribute("readable_value").unwrap().sensitive);
        let p = plan(&Value::Null, &config(None)).planned_state;
        assert_eq!(p.attr("hcl"), &Value::Bool(false));
        assert_eq!(p.attr("sensitive"), &Value::Bool(false));
        assert_eq!(p.attr("description"), &Value::string(""));
        assert_eq!(p.attr("id"), &Value::Unknown);
        assert_eq!(p.attr("readable_value"), &Value::string("eu-west-1"));
        let p = plan(&Value::Null, &config(Some(true))).planned_state;
        assert_eq!(p.attr("readable_value"), &Value::Null);
    }

    #[test]
    fn category_and_workspace_id_are_checked_with_what_is_allowed() {
        let mut c = config(None);
        c.set_attr("category", Value::string("policy-set"));
        c.set_attr("workspace_id", Value::string("my-org/my-ws"));
        let mut diags = Diagnostics::new();
        validate_block(&schema().block, &c, &AttributePath::default(), &mut diags);
        let text: Vec<&str> = diags.iter().map(|d| d.detail.as_str()).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(text[0].contains("\"policy-set\"") && text[0].contains("\"env\""));
        assert!(text[1].contains("\"my-org/my-ws\"") && text[1].contains("ws-"));
    }

    #[test]
    fn an_owner_is_required_and_variable_sets_are_refused() {
        let mut c = config(None);
        assert!(validate(&c).is_empty());
        c.set_attr("workspace_id", Value::Null);
        assert!(
            validate(&c)
                .iter()
                .any(|d| d.summary == "Missing workspace_id")
        );
        c.set_attr("variable_set_id", Value::string("varset-1234567890123456"));
        let d = validate(&c);
        assert!(d.iter().any(|d| d.detail.contains("workspace_id")), "{d:?}");
        let err = parse_import_id("org/varset-1234567890123456/var-1").unwrap_err();
        assert!(err.contains("variable set"), "{err}");
    }

    #[test]
    fn import_ids_are_org_workspace_variable() {
        assert_eq!(
            parse_import_id("my-org/my-ws/var-5rTwnSaRPogw6apb").unwrap(),
            ("my-org", "my-ws", "var-5rTwnSaRPogw6apb")
        );
        for bad in [
            "var-1",
            "my-org/var-1",
            "/ws/var-1",
            "org/ws/x",
            "a/b/c/var-1",
        ] {
            let err = parse_import_id(bad).unwrap_err();
            assert!(
                err.contains("<organization>/<workspace name>/<variable id>"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_sensitive_value_is_kept_from_the_configuration_and_never_read_back() {
        let planned = plan(&Value::Null, &config(Some(true))).planned_state;
        let state = state_from(&planned, &api_variable(None, true));
        assert_eq!(state.attr("value"), &Value::string("eu-west-1"));
        assert_eq!(state.attr("readable_value"), &Value::Null);
        assert_eq!(state.attr("id"), &Value::string("var-1"));

        // A plain variable follows the server: drift shows.
        let planned = plan(&Value::Null, &config(None)).planned_state;
        let state = state_from(&planned, &api_variable(Some("us-east-1"), false));
        assert_eq!(state.attr("value"), &Value::string("us-east-1"));
        assert_eq!(state.attr("readable_value"), &Value::string("us-east-1"));
        assert_eq!(state.attr("description"), &Value::string(""));
        assert_eq!(state.attr("workspace_id"), &Value::string(WS));
    }

    #[test]
    fn renaming_or_revealing_a_sensitive_variable_replaces_it() {
        let created = state_from(
            &plan(&Value::Null, &config(Some(true))).planned_state,
            &api_variable(None, true),
        );
        let mut renamed = config(Some(true));
        renamed.set_attr("key", Value::string("zone"));
        assert_eq!(plan(&created, &renamed).requires_replace, [path("key")]);
        assert_eq!(
            plan(&created, &config(None)).requires_replace,
            [path("sensitive")]
        );
        // A plain variable is renamed in place; turning sensitive on is in place too.
        let plain = state_from(
            &plan(&Value::Null, &config(None)).planned_state,
            &api_variable(Some("eu-west-1"), false),
        );
        let mut renamed = config(None);
        renamed.set_attr("key", Value::string("zone"));
        assert!(plan(&plain, &renamed).requires_replace.is_empty());
        let p = plan(&plain, &config(Some(true)));
        assert!(p.requires_replace.is_empty());
        assert_eq!(p.planned_state.attr("readable_value"), &Value::Null);
    }

    #[test]
    fn an_update_sends_the_value_only_when_it_changed() {
        let prior = VariableModel {
            value: Value::string("a"),
            key: Some("k".into()),
            ..Default::default()
        };
        let mut planned = prior.clone();
        planned.description = Some("now described".into());
        assert_eq!(update_options(&planned, &prior).value, None);
        planned.value = Value::string("b");
        assert_eq!(update_options(&planned, &prior).value.as_deref(), Some("b"));
        assert_eq!(update_options(&planned, &prior).category, None);
    }

    #[test]
    fn state_from_the_oldest_schema_with_an_org_slash_name_is_refused_with_the_way_out() {
        let resource = VariableResource::new(crate::provider::client::LazyClient::new(
            std::sync::Arc::new(std::sync::OnceLock::new()),
        ));
        let mut old = config(None);
        old.set_attr("id", Value::string("var-1"));
        old.set_attr("workspace_id", Value::string("my-org/my-ws"));
        let err = resource.upgrade_state(0, old.clone()).unwrap_err();
        assert!(
            err.iter().any(|d| d.detail.contains("terraform import")
                && d.detail.contains("my-org/my-ws/var-1")),
            "{err:?}"
        );
        old.set_attr("workspace_id", Value::string(WS));
        assert!(resource.upgrade_state(0, old).is_ok());
    }
}
