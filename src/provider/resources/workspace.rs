//! `tfe_workspace`: a workspace, optionally linked to a VCS repository. Schema as HashiCorp's
//! (schema version 1); the attributes the TFE API subset has no field for are kept in state as
//! configured, with a warning when set to something else than their default.

use async_trait::async_trait;

use super::state::{known_or, path, refreshed_string, warn_unsupported};
use crate::provider::api_errors::api_error;
use crate::provider::client::SharedClient;
use crate::provider::config::{SharedConfig, organization, plan_organization_fallback};
use tfe_client::WorkspaceOptions;
use tfe_client::models::{VcsRepo, Workspace};
use tfplugin::model::ValueModel;
use tfplugin::plan::GenericPlan;
use tfplugin::{
    ApplyRequest, ApplyResponse, Attribute, AttributePath, Block, Diagnostics, ImportRequest,
    ImportResponse, NestedBlock, NestingMode, PlanRequest, ReadRequest, ReadResponse, Resource,
    Schema, Type, Value,
};

pub(crate) const TYPE_NAME: &str = "tfe_workspace";
pub(crate) const SCHEMA_VERSION: i64 = 1;
pub(crate) const EXECUTION_MODES: [&str; 3] = ["agent", "local", "remote"];

/// Attributes kept in state only: the API subset has no field for them.
const STATE_ONLY: [&str; 9] = [
    "description",
    "project_id",
    "tag_names",
    "tags",
    "file_triggers_enabled",
    "speculative_enabled",
    "structured_run_output_enabled",
    "auto_apply_run_trigger",
    "ssh_key_id",
];

/// The state-only attributes with the value that needs no warning: the schema's default, or null.
fn unsupported_attributes() -> Vec<(&'static str, Value)> {
    let block = schema().block;
    STATE_ONLY
        .iter()
        .map(|name| (*name, block.default_of(name)))
        .collect()
}

tfplugin::value_model! {
    /// The values of a `tfe_workspace` that the API has fields for, plus its computed attributes.
    pub struct WorkspaceModel {
        pub id: Option<String> = "id",
        pub name: Option<String> = "name",
        pub organization: Option<String> = "organization",
        pub queue_all_runs: Option<bool> = "queue_all_runs",
        pub auto_apply: Option<bool> = "auto_apply",
        pub terraform_version: Option<String> = "terraform_version",
        pub execution_mode: Option<String> = "execution_mode",
        pub working_directory: Option<String> = "working_directory",
        pub allow_destroy_plan: Option<bool> = "allow_destroy_plan",
        pub resource_count: Option<i64> = "resource_count",
        pub html_url: Option<String> = "html_url",
        pub force_delete: Option<bool> = "force_delete",
        pub vcs_repo: Vec<VcsRepoModel> = "vcs_repo",
    }
}

tfplugin::value_model! {
    /// One `vcs_repo` block.
    pub struct VcsRepoModel {
        pub identifier: Option<String> = "identifier",
        pub branch: Option<String> = "branch",
        pub oauth_token_id: Option<String> = "oauth_token_id",
        /// Kept as configured (no API field); raw, so an unknown stays unknown.
        pub github_app_installation_id: Value = "github_app_installation_id",
        pub ingress_submodules: Option<bool> = "ingress_submodules",
        pub tags_regex: Option<String> = "tags_regex",
    }
}

impl VcsRepoModel {
    fn to_api(&self) -> VcsRepo {
        VcsRepo {
            identifier: self.identifier.clone().unwrap_or_default(),
            branch: self.branch.clone(),
            oauth_token_id: self.oauth_token_id.clone(),
            ingress_submodules: self.ingress_submodules.unwrap_or(false),
            tags_regex: self.tags_regex.clone(),
            ..VcsRepo::default()
        }
    }
}

impl WorkspaceModel {
    /// What create and update send: every supported attribute with a known value.
    pub(crate) fn options(&self) -> WorkspaceOptions {
        WorkspaceOptions {
            name: self.name.clone(),
            auto_apply: self.auto_apply,
            execution_mode: self.execution_mode.clone(),
            queue_all_runs: self.queue_all_runs,
            allow_destroy_plan: self.allow_destroy_plan,
            terraform_version: self.terraform_version.clone(),
            working_directory: self.working_directory.clone(),
            vcs_repo: self.vcs_repo.first().map(VcsRepoModel::to_api),
            // The resource does not manage the other workspace settings: they are not sent.
            ..Default::default()
        }
    }
}

fn optional_computed(name: &str, ty: Type) -> Attribute {
    Attribute {
        computed: true,
        ..Attribute::optional(name, ty)
    }
}

fn vcs_repo_block() -> Block {
    Block {
        attributes: vec![
            Attribute::required("identifier", Type::String)
                .describe("Repository as <owner>/<name>, e.g. \"my-org/infra\"."),
            Attribute::optional("branch", Type::String)
                .describe("Branch to track. Empty means the repository's default branch."),
            Attribute::optional("oauth_token_id", Type::String)
                .describe("OAuth token (ot-…) of the VCS connection, e.g. tfe_oauth_client.x.oauth_token_id."),
            Attribute::optional("github_app_installation_id", Type::String).describe(
                "GitHub App installation (ghain-…). Not supported by the TFE API subset; kept in state.",
            ),
            Attribute::with_default("ingress_submodules", Type::Bool, Value::Bool(false))
                .describe("Fetch submodules with the repository."),
            Attribute::optional("tags_regex", Type::String)
                .describe("Regular expression of tags that trigger runs."),
        ],
        description: "The VCS repository the workspace follows.".into(),
        conflicts: vec![vec![
            "oauth_token_id".into(),
            "github_app_installation_id".into(),
        ]],
        at_least_one_of: vec![vec![
            "oauth_token_id".into(),
            "github_app_installation_id".into(),
        ]],
        ..Block::default()
    }
}

pub(crate) fn schema() -> Schema {
    let bool_default = |name: &str, v: bool, d: &str| {
        Attribute::with_default(name, Type::Bool, Value::Bool(v)).describe(d)
    };
    Schema {
        version: SCHEMA_VERSION,
        block: Block {
            attributes: vec![
                Attribute::computed("id", Type::String).describe("Workspace ID (ws-…)."),
                Attribute::required("name", Type::String).describe("Workspace name.").validate(
                    |v, p, d| {
                        if v.as_str().is_some_and(|s| s.trim().is_empty()) {
                            d.attribute_error(p.clone(), "Invalid workspace name", "name must not be empty.");
                        }
                    },
                ),
                optional_computed("organization", Type::String)
                    .force_new()
                    .describe("Organization. Defaults to the provider's organization. Changing it replaces the workspace."),
                bool_default("queue_all_runs", true, "Queue a run as soon as the workspace is created (needs a configuration, e.g. a VCS repository)."),
                optional_computed("auto_apply", Type::Bool).describe("Apply plans without confirmation."),
                optional_computed("terraform_version", Type::String).describe("Terraform version used by runs."),
                optional_computed("execution_mode", Type::String)
                    .describe("Deprecated upstream: where runs execute, \"agent\", \"local\" or \"remote\".")
                    .validate(|v, p, d| {
                        if let Some(s) = v.as_str()
                            && !EXECUTION_MODES.contains(&s)
                        {
                            d.attribute_error(p.clone(), "Invalid execution mode", format!(
                                "execution_mode {s:?} is not allowed; use one of \"agent\", \"local\", \"remote\"."));
                        }
                    }),
                optional_computed("project_id", Type::String).describe("Project (prj-…). Kept in state only."),
                optional_computed("description", Type::String).describe("Description. Kept in state only."),
                optional_computed("tag_names", Type::set(Type::String)).describe("Tag names. Kept in state only."),
                optional_computed("tags", Type::map(Type::String)).describe("Key/value tags. Kept in state only."),
                Attribute::with_default("working_directory", Type::String, Value::string(""))
                    .describe("Directory of the configuration, relative to the repository root."),
                bool_default("allow_destroy_plan", true, "Allow destroy plans."),
                bool_default("file_triggers_enabled", true, "Kept in state only."),
                bool_default("speculative_enabled", true, "Kept in state only."),
                bool_default("structured_run_output_enabled", true, "Kept in state only."),
                bool_default("auto_apply_run_trigger", false, "Kept in state only."),
                bool_default("force_delete", false, "Delete even while the workspace manages resources. Default false: deletion is refused while resource_count > 0."),
                Attribute::with_default("ssh_key_id", Type::String, Value::string("")).describe("Kept in state only."),
                Attribute::computed("resource_count", Type::Number).describe("Resources the workspace manages."),
                Attribute::computed("html_url", Type::String).describe("The workspace's page in the UI."),
                Attribute::computed("effective_tags", Type::map(Type::String)).describe("Tags in effect (the configured `tags`)."),
                Attribute::computed("hyok_enabled", Type::Bool).describe("Always false here."),
            ],
            blocks: vec![NestedBlock {
                type_name: "vcs_repo".into(),
                nesting: NestingMode::List,
                block: vcs_repo_block(),
                min_items: 0,
                max_items: 1,
            }],
            description: "A workspace in HCP Terraform / Terraform Enterprise.".into(),
            ..Block::default()
        },
    }
}

// ------------------------------------------------------------------ values <-> API

/// `vcs_repo.github_app_installation_id` has no field in the API subset: say so.
fn warn_github_app(config: &Value, diags: &mut Diagnostics) {
    if let Some(block) = config.attr("vcs_repo").elements().first()
        && !block.attr("github_app_installation_id").is_null()
    {
        diags.attribute_warning(
            AttributePath::root("vcs_repo").index(0).attr("github_app_installation_id"),
            "Attribute not applied remotely",
            "`vcs_repo.github_app_installation_id` is kept in state as configured, but the TFE API subset this \
             provider speaks has no field for it; link the repository through an OAuth client's oauth_token_id.",
        );
    }
}

/// What create and update send: every supported attribute with a known value.
pub(crate) fn options_from(planned: &Value) -> WorkspaceOptions {
    WorkspaceModel::from_value(planned).options()
}

/// The `vcs_repo` blocks from the API's repository, keeping what the API does not return as it was.
fn vcs_repo_state(prior: &[VcsRepoModel], api: Option<&VcsRepo>) -> Vec<VcsRepoModel> {
    let Some(repo) = api else {
        return Vec::new();
    };
    let prior = prior.first().cloned().unwrap_or_default();
    vec![VcsRepoModel {
        identifier: Some(repo.identifier.clone()),
        branch: refreshed_string(prior.branch.as_deref(), repo.branch.as_deref()),
        oauth_token_id: refreshed_string(
            prior.oauth_token_id.as_deref(),
            repo.oauth_token_id.as_deref(),
        ),
        github_app_installation_id: prior.github_app_installation_id,
        ingress_submodules: Some(repo.ingress_submodules),
        tags_regex: refreshed_string(prior.tags_regex.as_deref(), repo.tags_regex.as_deref()),
    }]
}

/// State from the API's view of the workspace, keeping `base`'s state-only attributes (filled
/// with their defaults when missing, as after import).
pub(crate) fn state_from(base: &Value, ws: &Workspace, html_url: String) -> Value {
    let a = &ws.attributes;
    let mut state = if base.is_null() {
        schema_nulls()
    } else {
        base.clone()
    };
    let prior = WorkspaceModel::from_value(&state);
    let model = WorkspaceModel {
        id: Some(ws.id.clone()),
        name: Some(a.name.clone()),
        organization: ws
            .organization_name()
            .map(str::to_owned)
            .or(prior.organization),
        queue_all_runs: Some(a.queue_all_runs),
        auto_apply: Some(a.auto_apply),
        terraform_version: Some(a.terraform_version.clone().unwrap_or_default()),
        execution_mode: Some(a.execution_mode.clone().unwrap_or_else(|| "remote".into())),
        working_directory: Some(a.working_directory.clone().unwrap_or_default()),
        allow_destroy_plan: Some(a.allow_destroy_plan),
        resource_count: Some(a.resource_count as i64),
        html_url: Some(html_url),
        // Not the API's: kept as configured.
        force_delete: prior.force_delete,
        vcs_repo: vcs_repo_state(&prior.vcs_repo, a.vcs_repo.as_ref()),
    };
    model.write_to(&mut state);
    // What an import stores for the attributes the API does not return: the schema's default, else
    // the official provider's empty value.
    let block = schema().block;
    for (name, empty) in [
        ("file_triggers_enabled", Value::Null),
        ("speculative_enabled", Value::Null),
        ("structured_run_output_enabled", Value::Null),
        ("auto_apply_run_trigger", Value::Null),
        ("force_delete", Value::Null),
        ("ssh_key_id", Value::Null),
        ("description", Value::string("")),
        ("tag_names", Value::Set(Vec::new())),
        ("tags", Value::Map(Default::default())),
        ("hyok_enabled", Value::Bool(false)),
    ] {
        let fallback = match block.default_of(name) {
            Value::Null => empty,
            default => default,
        };
        let v = known_or(state.attr(name), fallback);
        state.set_attr(name, v);
    }
    let effective = state.attr("tags").clone();
    state.set_attr("effective_tags", effective);
    if state.attr("project_id").is_unknown() {
        state.set_attr("project_id", Value::Null);
    }
    state
}

fn schema_nulls() -> Value {
    let block = schema().block;
    let mut v = Value::object(
        block
            .attributes
            .iter()
            .map(|a| (a.name.clone(), Value::Null)),
    );
    v.set_attr("vcs_repo", Value::List(Vec::new()));
    v
}

// ------------------------------------------------------------------ resource

pub(crate) struct WorkspaceResource {
    client: SharedClient,
    config: SharedConfig,
}

impl WorkspaceResource {
    pub(crate) fn new(client: SharedClient, config: SharedConfig) -> Self {
        WorkspaceResource { client, config }
    }

    async fn fetch(&self, id: &str) -> Result<(Workspace, String), Diagnostics> {
        let client = self.client.connect().await?;
        let ws = client
            .workspace(id)
            .await
            .map_err(|e| api_error(format!("Could not read workspace {id}"), &e))?;
        let org = ws.organization_name().unwrap_or_default().to_string();
        let url = client.workspace_url(&org, &ws);
        Ok((ws, url))
    }
}

/// `org/name` or a workspace ID.
pub(crate) fn parse_import_id(id: &str) -> Result<(Option<&str>, &str), String> {
    match id.split_once('/') {
        Some((org, name)) if !org.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((Some(org), name))
        }
        None if id.starts_with("ws-") && id.len() > 3 => Ok((None, id)),
        _ => Err(format!(
            "{id:?} is not a workspace ID (ws-…) or <organization>/<workspace name>."
        )),
    }
}

#[async_trait]
impl Resource for WorkspaceResource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn modify_plan(&self, request: &PlanRequest<'_>, plan: &mut GenericPlan, _: &mut Diagnostics) {
        plan_organization_fallback(&mut plan.planned_state, request.config, &self.config);
        // resource_count and html_url follow the name and the runs; keep the prior on update.
        if !request.prior_state.is_null()
            && !plan.planned_state.is_null()
            && request.prior_state.attr("name") != plan.planned_state.attr("name")
        {
            plan.planned_state.set_attr("html_url", Value::Unknown);
        }
        if plan.planned_state.attr("tags").is_wholly_known() && !plan.planned_state.is_null() {
            let tags = plan.planned_state.attr("tags").clone();
            if !tags.is_null() {
                plan.planned_state.set_attr("effective_tags", tags);
            }
        }
    }

    async fn read(&self, request: ReadRequest) -> ReadResponse {
        let prior = request.current_state;
        let id = WorkspaceModel::from_value(&prior).id.unwrap_or_default();
        let result = async {
            let client = self.client.connect().await?;
            match client.workspace(&id).await {
                Ok(ws) => {
                    let org = ws.organization_name().unwrap_or_default().to_string();
                    let url = client.workspace_url(&org, &ws);
                    Ok(state_from(&prior, &ws, url))
                }
                Err(e) if e.is_not_found() => Ok(Value::Null),
                Err(e) => Err(api_error(format!("Could not read workspace {id}"), &e)),
            }
        }
        .await;
        ReadResponse::refreshed(prior, request.private, result)
    }

    async fn create(&self, request: ApplyRequest) -> ApplyResponse {
        let planned = request.planned_state;
        let mut diags = Diagnostics::new();
        warn_unsupported(&request.config, &unsupported_attributes(), &mut diags);
        warn_github_app(&request.config, &mut diags);
        let result = async {
            let org = organization(&planned, &self.config)?;
            let client = self.client.connect().await?;
            let ws = client
                .create_workspace(&org, &options_from(&planned))
                .await
                .map_err(|e| api_error(format!("Could not create workspace in {org}"), &e))?;
            let url = client.workspace_url(&org, &ws);
            Ok::<_, Diagnostics>(state_from(&planned, &ws, url))
        }
        .await;
        ApplyResponse::from_result(result, diags, Value::Null)
    }

    async fn update(&self, request: ApplyRequest) -> ApplyResponse {
        let planned = request.planned_state;
        let id = WorkspaceModel::from_value(&request.prior_state)
            .id
            .unwrap_or_default();
        let mut diags = Diagnostics::new();
        warn_unsupported(&request.config, &unsupported_attributes(), &mut diags);
        warn_github_app(&request.config, &mut diags);
        let mut options = options_from(&planned);
        if options.vcs_repo.is_none() && !request.prior_state.attr("vcs_repo").elements().is_empty()
        {
            diags.attribute_warning(
                path("vcs_repo"),
                "VCS repository not unlinked",
                "The TFE API subset has no way to unlink a repository; the workspace stays linked until it is replaced.",
            );
        }
        // Unknown computed values are not sent.
        if planned.attr("auto_apply").is_unknown() {
            options.auto_apply = None;
        }
        let result = async {
            let client = self.client.connect().await?;
            let ws = client
                .update_workspace(&id, &options)
                .await
                .map_err(|e| api_error(format!("Could not update workspace {id}"), &e))?;
            let org = ws.organization_name().unwrap_or_default().to_string();
            let url = client.workspace_url(&org, &ws);
            let mut state = state_from(&planned, &ws, url);
            // Terraform requires known planned values to be kept; the next refresh updates them.
            for name in ["resource_count", "html_url"] {
                if !planned.attr(name).is_unknown() {
                    state.set_attr(name, planned.attr(name).clone());
                }
            }
            Ok::<_, Diagnostics>(state)
        }
        .await;
        ApplyResponse::from_result(result, diags, request.prior_state)
    }

    async fn delete(&self, request: ApplyRequest) -> Diagnostics {
        let prior = WorkspaceModel::from_value(&request.prior_state);
        let id = prior.id.as_deref().unwrap_or_default();
        let force = prior.force_delete.unwrap_or(false);
        let client = match self.client.connect().await {
            Ok(c) => c,
            Err(d) => return d,
        };
        let result = if force {
            client.delete_workspace(id).await
        } else {
            client.safe_delete_workspace(id).await
        };
        match result {
            Ok(()) => Diagnostics::new(),
            Err(e) if e.is_not_found() => Diagnostics::new(),
            Err(e) if e.status() == Some(409) => Diagnostics::from_error(
                "Workspace not deleted",
                format!(
                    "Workspace {id} was not deleted because it is not safe to: {}. Destroy its resources \
                     first (e.g. a tfe_workspace_run with a destroy block), or set force_delete = true \
                     to delete it anyway.",
                    e.detail()
                        .unwrap_or("the server refused")
                        .trim_end_matches('.')
                ),
            ),
            Err(e) => api_error(format!("Could not delete workspace {id}"), &e),
        }
    }

    async fn import(&self, request: ImportRequest) -> ImportResponse {
        let result = async {
            let (org, name_or_id) = parse_import_id(&request.id)
                .map_err(|msg| Diagnostics::from_error("Invalid import ID", msg))?;
            let (ws, url) = match org {
                None => self.fetch(name_or_id).await?,
                Some(org) => {
                    let client = self.client.connect().await?;
                    let ws = client
                        .workspace_by_name(org, name_or_id)
                        .await
                        .map_err(|e| {
                            api_error(format!("Could not find workspace {}", request.id), &e)
                        })?;
                    let url = client.workspace_url(org, &ws);
                    (ws, url)
                }
            };
            Ok(state_from(&Value::Null, &ws, url))
        }
        .await;
        ImportResponse::from_result(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::plan::plan_resource;

    #[test]
    fn the_models_name_only_what_the_schema_declares() {
        let schema = schema();
        assert!(tfplugin::model::undeclared_attributes::<WorkspaceModel>(&schema).is_empty());
        let vcs = Schema {
            version: 0,
            block: vcs_repo_block(),
        };
        assert!(tfplugin::model::undeclared_attributes::<VcsRepoModel>(&vcs).is_empty());
    }

    #[test]
    fn state_only_attributes_accept_the_schema_default_without_a_warning() {
        let accepted: std::collections::HashMap<_, _> =
            unsupported_attributes().into_iter().collect();
        assert_eq!(accepted["speculative_enabled"], Value::Bool(true));
        assert_eq!(accepted["auto_apply_run_trigger"], Value::Bool(false));
        assert_eq!(accepted["ssh_key_id"], Value::string(""));
        assert_eq!(accepted["description"], Value::Null);
    }

    #[test]
    fn import_ids_are_a_workspace_id_or_org_slash_name() {
        assert_eq!(parse_import_id("ws-abc").unwrap(), (None, "ws-abc"));
        assert_eq!(
            parse_import_id("acme/prod").unwrap(),
            (Some("acme"), "prod")
        );
        for bad in ["prod", "acme/", "/prod", "a/b/c", "ws-"] {
            let err = parse_import_id(bad).unwrap_err();
            assert!(
                err.contains("<organization>/<workspace name>"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn plan_fills_the_official_defaults() {
        let mut config = schema_nulls();
        config.set_attr("name", Value::string("ws"));
        let plan = plan_resource(&schema(), &Value::Null, &config, &config);
        let p = &plan.planned_state;
        assert_eq!(p.attr("queue_all_runs"), &Value::Bool(true));
        assert_eq!(p.attr("allow_destroy_plan"), &Value::Bool(true));
        assert_eq!(p.attr("force_delete"), &Value::Bool(false));
        assert_eq!(p.attr("working_directory"), &Value::string(""));
        assert_eq!(p.attr("id"), &Value::Unknown);
        assert_eq!(p.attr("organization"), &Value::Unknown);
    }

    #[test]
    fn options_carry_the_vcs_repo_and_skip_unset_values() {
        let mut planned = schema_nulls();
        planned.set_attr("name", Value::string("ws"));
        planned.set_attr("queue_all_runs", Value::Bool(false));
        planned.set_attr(
            "vcs_repo",
            Value::List(vec![Value::object([
                ("identifier", Value::string("org/repo")),
                ("branch", Value::string("main")),
                ("oauth_token_id", Value::string("ot-1")),
                ("github_app_installation_id", Value::Null),
                ("ingress_submodules", Value::Bool(false)),
                ("tags_regex", Value::Null),
            ])]),
        );
        let o = options_from(&planned);
        assert_eq!(o.queue_all_runs, Some(false));
        assert_eq!(o.auto_apply, None);
        let repo = o.vcs_repo.unwrap();
        assert_eq!(repo.identifier, "org/repo");
        assert_eq!(repo.oauth_token_id.as_deref(), Some("ot-1"));
        assert_eq!(repo.tags_regex, None);
    }

    #[test]
    fn a_github_app_installation_warns_with_its_path() {
        let mut config = schema_nulls();
        config.set_attr(
            "vcs_repo",
            Value::List(vec![Value::object([
                ("identifier", Value::string("org/repo")),
                ("github_app_installation_id", Value::string("ghain-1")),
            ])]),
        );
        let mut diags = Diagnostics::new();
        warn_github_app(&config, &mut diags);
        assert_eq!(diags.0.len(), 1);
        assert_eq!(
            diags.0[0].attribute.as_ref().unwrap().to_string(),
            "vcs_repo[0].github_app_installation_id"
        );
    }

    #[test]
    fn unsupported_values_warn_but_defaults_do_not() {
        let mut config = schema_nulls();
        config.set_attr("description", Value::string("x"));
        config.set_attr("speculative_enabled", Value::Bool(true));
        let mut diags = Diagnostics::new();
        warn_unsupported(&config, &unsupported_attributes(), &mut diags);
        assert_eq!(diags.0.len(), 1);
        assert_eq!(
            diags.0[0].attribute,
            Some(AttributePath::root("description"))
        );
        assert!(!diags.has_errors());
    }
}
