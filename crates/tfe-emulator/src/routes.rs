//! The TFE API v2 routes.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use tfe_client::models::VcsRepo;

use super::http::{ApiError, ApiResult, UserId, jsonapi};
use super::store::{OAuthClient, Store, new_suffix, now};
use super::{Shared, render, run_machine};

type Params = Query<HashMap<String, String>>;

/// The API under `/api/v2`, discovery, and the upload endpoint.
pub fn api_router() -> Router<Shared> {
    Router::new()
        .route("/.well-known/terraform.json", get(discovery))
        .route("/api/v2/ping", get(ping))
        .route("/api/v2/organizations", post(create_organization))
        .route(
            "/api/v2/organizations/{org}",
            get(read_organization)
                .patch(update_organization)
                .delete(delete_organization),
        )
        .route("/api/v2/organizations/{org}/capacity", get(capacity))
        .route("/api/v2/organizations/{org}/runs/queue", get(run_queue))
        .route("/api/v2/organizations/{org}/runs", get(org_runs))
        .route(
            "/api/v2/organizations/{org}/oauth-clients",
            post(create_oauth_client),
        )
        .route(
            "/api/v2/oauth-clients/{id}",
            get(read_oauth_client).delete(delete_oauth_client),
        )
        .route("/api/v2/oauth-tokens/{id}", get(read_oauth_token))
        .route(
            "/api/v2/organizations/{org}/workspaces",
            post(create_workspace).get(list_workspaces),
        )
        .route(
            "/api/v2/organizations/{org}/workspaces/{name}",
            get(read_workspace_by_name)
                .patch(update_workspace_by_name)
                .delete(delete_workspace_by_name),
        )
        .route(
            "/api/v2/organizations/{org}/workspaces/{name}/actions/safe-delete",
            post(safe_delete_by_name),
        )
        .route(
            "/api/v2/workspaces/{id}",
            get(read_workspace)
                .patch(update_workspace)
                .delete(delete_workspace),
        )
        .route(
            "/api/v2/workspaces/{id}/actions/{action}",
            post(workspace_action),
        )
        .route(
            "/api/v2/workspaces/{id}/configuration-versions",
            get(list_cvs).post(create_cv),
        )
        .route("/api/v2/configuration-versions/{id}", get(read_cv))
        .route("/_archivist/upload/{id}", put(upload_cv))
        .route("/api/v2/runs", post(create_run))
        .route("/api/v2/runs/{id}", get(read_run))
        .route("/api/v2/workspaces/{id}/runs", get(workspace_runs))
        .route("/api/v2/runs/{id}/actions/{action}", post(run_action))
        .route("/api/v2/runs/{id}/plan", get(run_plan))
        .route("/api/v2/runs/{id}/apply", get(run_apply))
        .route("/api/v2/plans/{id}", get(read_plan))
        .route("/api/v2/applies/{id}", get(read_apply))
        .route("/api/v2/cost-estimates/{id}", get(read_cost_estimate))
        .route("/api/v2/runs/{id}/policy-checks", get(run_policy_checks))
        .route("/api/v2/policy-checks/{id}", get(read_policy_check))
        .route(
            "/api/v2/policy-checks/{id}/actions/override",
            post(override_policy_check),
        )
        .route("/api/v2/runs/{id}/task-stages", get(run_task_stages))
        .route("/api/v2/task-stages/{id}", get(read_task_stage))
}

// ---------- helpers ----------

/// Parses a request body leniently: empty means `{}`.
fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(422, format!("request body is not valid JSON: {e}")))
}

/// `data.attributes` of a JSON:API body, or `{}`.
fn attributes(body: &Value) -> Value {
    body.pointer("/data/attributes")
        .cloned()
        .unwrap_or_else(|| json!({}))
}

/// An attribute by its kebab-case name, also accepting snake_case (pytfe sends some that way).
fn attr<'a>(attrs: &'a Value, name: &str) -> Option<&'a Value> {
    attrs
        .get(name)
        .or_else(|| attrs.get(name.replace('-', "_")))
        .filter(|v| !v.is_null())
}

fn attr_bool(attrs: &Value, name: &str) -> Result<Option<bool>, ApiError> {
    match attr(attrs, name) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(ApiError::unprocessable(format!(
            "attribute {name} must be a boolean, got {other}"
        ))),
    }
}

fn attr_string(attrs: &Value, name: &str) -> Result<Option<String>, ApiError> {
    match attr(attrs, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ApiError::unprocessable(format!(
            "attribute {name} must be a string, got {other}"
        ))),
    }
}

/// A query parameter, treating empty values as absent (pytfe sends `filter[status]=`).
fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    q.get(name).map(String::as_str).filter(|v| !v.is_empty())
}

/// Include names from `?include=`, normalized to underscores.
/// Unknown names are a 400 (as TFC answers) unless the server runs with lenient includes, which drops them.
fn includes(
    store: &Store,
    q: &HashMap<String, String>,
    allowed: &[&str],
) -> Result<Vec<String>, ApiError> {
    let Some(raw) = param(q, "include") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let norm = name.replace('-', "_");
        if !allowed.contains(&norm.as_str()) {
            if store.lenient_includes {
                continue;
            }
            return Err(ApiError::new(
                400,
                format!(
                    "Invalid include parameter: {name:?}. Allowed: {}",
                    allowed.join(", ")
                ),
            ));
        }
        out.push(norm);
    }
    Ok(out)
}

/// A list document with JSON:API pagination (`totals` false leaves out total-pages/total-count).
fn paginate(
    items: Vec<Value>,
    q: &HashMap<String, String>,
    totals: bool,
) -> Result<Value, ApiError> {
    let number: usize = match param(q, "page[number]") {
        None => 1,
        Some(s) => s.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
            ApiError::new(
                400,
                format!("page[number] must be a positive integer, got {s:?}"),
            )
        })?,
    };
    let size: usize = match param(q, "page[size]") {
        None => 20,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .map(|n| n.min(100))
            .ok_or_else(|| {
                ApiError::new(
                    400,
                    format!("page[size] must be an integer from 1 to 100, got {s:?}"),
                )
            })?,
    };
    let total = items.len();
    let total_pages = total.div_ceil(size).max(1);
    let data: Vec<Value> = items
        .into_iter()
        .skip((number - 1) * size)
        .take(size)
        .collect();
    let prev = (number > 1).then(|| number - 1);
    let next = (number < total_pages).then(|| number + 1);
    let mut pagination = json!({"current-page": number, "prev-page": prev, "next-page": next});
    if totals {
        pagination["total-pages"] = json!(total_pages);
        pagination["total-count"] = json!(total);
    }
    Ok(json!({"data": data, "links": {}, "meta": {"pagination": pagination}}))
}

fn user(ext: &Option<Extension<UserId>>) -> String {
    ext.as_ref()
        .map(|Extension(UserId(u))| u.clone())
        .unwrap_or_else(|| "user-emulator-1".into())
}

fn ok(body: Value) -> ApiResult {
    Ok(jsonapi(200, body))
}

// ---------- discovery and ping ----------

async fn discovery() -> Response {
    let mut response =
        json!({"tfe.v2": "/api/v2/", "tfe.v2.1": "/api/v2/", "tfe.v2.2": "/api/v2/", "modules.v1": "/api/registry/v1/modules/"})
            .to_string()
            .into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

async fn ping() -> Response {
    axum::http::StatusCode::NO_CONTENT.into_response()
}

// ---------- organizations ----------

async fn create_organization(State(emu): State<Shared>, body: Bytes) -> ApiResult {
    let attrs = attributes(&body_json(&body)?);
    let name = attr_string(&attrs, "name")?
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::unprocessable("Name can't be blank"))?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::unprocessable(format!(
            "Name {name:?} is invalid: only letters, numbers, - and _ are allowed"
        )));
    }
    let email = attr_string(&attrs, "email")?
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ApiError::unprocessable("Email can't be blank"))?;
    let cost = attr_bool(&attrs, "cost-estimation-enabled")?.unwrap_or(false);
    let mut store = emu.store.lock().unwrap();
    if store.organizations.contains_key(&name) {
        return Err(ApiError::unprocessable(format!(
            "Name {name} has already been taken"
        )));
    }
    let org = store.new_organization(&name, &email, cost);
    Ok(jsonapi(201, json!({"data": render::organization(org)})))
}

async fn read_organization(State(emu): State<Shared>, Path(org): Path<String>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let o = store
        .organizations
        .get(&org)
        .ok_or_else(|| ApiError::not_found("organization"))?;
    ok(json!({"data": render::organization(o)}))
}

async fn update_organization(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    body: Bytes,
) -> ApiResult {
    let attrs = attributes(&body_json(&body)?);
    let email = attr_string(&attrs, "email")?;
    if email.as_deref() == Some("") {
        return Err(ApiError::unprocessable("Email can't be blank"));
    }
    let cost = attr_bool(&attrs, "cost-estimation-enabled")?;
    let mut store = emu.store.lock().unwrap();
    let o = store
        .organizations
        .get_mut(&org)
        .ok_or_else(|| ApiError::not_found("organization"))?;
    if let Some(email) = email {
        o.email = email;
    }
    if let Some(cost) = cost {
        o.cost_estimation_enabled = cost;
    }
    ok(json!({"data": render::organization(o)}))
}

async fn delete_organization(State(emu): State<Shared>, Path(org): Path<String>) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    store
        .organizations
        .remove(&org)
        .ok_or_else(|| ApiError::not_found("organization"))?;
    let ws_ids: Vec<String> = store
        .workspaces
        .values()
        .filter(|w| w.organization == org)
        .map(|w| w.id.clone())
        .collect();
    for id in ws_ids {
        store.workspaces.remove(&id);
    }
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

async fn capacity(State(emu): State<Shared>, Path(org): Path<String>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    let pending = run_machine::waiting_for_worker(&store, &org).len();
    let running = store
        .runs
        .values()
        .filter(|r| r.organization == org && r.holds_worker)
        .count();
    ok(
        json!({"data": {"id": org, "type": "organization-capacity", "attributes": {"pending": pending, "running": running}}}),
    )
}

async fn run_queue(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    let items = run_machine::waiting_for_worker(&store, &org)
        .iter()
        .enumerate()
        .map(|(i, id)| render::run(&store.runs[id], Some(i as u32)))
        .collect();
    ok(paginate(items, &q, true)?)
}

/// Runs matching the list filters, newest first.
fn filtered_runs(
    store: &Store,
    q: &HashMap<String, String>,
    keep: impl Fn(&super::store::Run) -> bool,
) -> Vec<Value> {
    let list =
        |name: &str| param(q, name).map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>());
    let statuses = list("filter[status]");
    let operations = list("filter[operation]");
    let ws_names = list("filter[workspace_names]");
    let mut runs: Vec<&super::store::Run> = store
        .runs
        .values()
        .filter(|r| keep(r))
        .filter(|r| {
            statuses
                .as_ref()
                .is_none_or(|s| s.iter().any(|s| s == r.status.as_str()))
        })
        .filter(|r| {
            let op = if r.plan_only {
                "plan_only"
            } else if r.is_destroy {
                "destroy"
            } else {
                "plan_and_apply"
            };
            match &operations {
                Some(ops) => ops.iter().any(|o| o == op),
                None => !r.plan_only,
            }
        })
        .filter(|r| {
            ws_names.as_ref().is_none_or(|names| {
                store
                    .workspaces
                    .get(&r.workspace_id)
                    .is_some_and(|w| names.contains(&w.name))
            })
        })
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.seq));
    runs.into_iter().map(|r| render::run(r, None)).collect()
}

async fn org_runs(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    let items = filtered_runs(&store, &q, |r| r.organization == org);
    ok(paginate(items, &q, false)?)
}

// ---------- OAuth clients ----------

async fn create_oauth_client(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    body: Bytes,
) -> ApiResult {
    let attrs = attributes(&body_json(&body)?);
    let required = |name: &str| -> Result<String, ApiError> {
        attr_string(&attrs, name)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::unprocessable(format!("{name} is required")))
    };
    let service_provider = required("service-provider")?;
    let http_url = required("http-url")?;
    let api_url = required("api-url")?;
    let token = attr_string(&attrs, "oauth-token-string")?;
    let mut store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    let client = OAuthClient {
        id: format!("oc-{}", new_suffix()),
        organization: org,
        name: attr_string(&attrs, "name")?,
        service_provider,
        http_url,
        api_url,
        organization_scoped: attr_bool(&attrs, "organization-scoped")?.unwrap_or(true),
        token_id: token
            .filter(|t| !t.is_empty())
            .map(|_| format!("ot-{}", new_suffix())),
        created_at: now(),
    };
    let doc = json!({"data": render::oauth_client(&client)});
    store.oauth_clients.insert(client.id.clone(), client);
    Ok(jsonapi(201, doc))
}

async fn read_oauth_client(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let c = store
        .oauth_clients
        .get(&id)
        .ok_or_else(|| ApiError::not_found("oauth client"))?;
    let mut doc = json!({"data": render::oauth_client(c)});
    if includes(&store, &q, &["oauth_tokens", "organization"])?
        .contains(&"oauth_tokens".to_string())
    {
        doc["included"] = json!(
            c.token_id
                .iter()
                .map(|t| render::oauth_token(c, t))
                .collect::<Vec<_>>()
        );
    }
    ok(doc)
}

async fn read_oauth_token(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let c = store
        .oauth_clients
        .values()
        .find(|c| c.token_id.as_deref() == Some(id.as_str()))
        .ok_or_else(|| ApiError::not_found("oauth token"))?;
    ok(json!({"data": render::oauth_token(c, &id)}))
}

async fn delete_oauth_client(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    emu.store
        .lock()
        .unwrap()
        .oauth_clients
        .remove(&id)
        .ok_or_else(|| ApiError::not_found("oauth client"))?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

// ---------- workspaces ----------

const WORKSPACE_INCLUDES: &[&str] = &[
    "current_run",
    "locked_by",
    "organization",
    "current_configuration_version",
    "current_state_version",
    "outputs",
    "project",
    "readme",
];

fn workspace_doc(
    store: &Store,
    ws_id: &str,
    q: &HashMap<String, String>,
    base: &str,
) -> Result<Value, ApiError> {
    let ws = store
        .workspaces
        .get(ws_id)
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    let mut doc = json!({"data": render::workspace(store, ws, base)});
    let mut included = Vec::new();
    for inc in includes(store, q, WORKSPACE_INCLUDES)? {
        match inc.as_str() {
            "current_run" => included.extend(
                ws.current_run
                    .as_ref()
                    .and_then(|id| store.runs.get(id))
                    .map(|r| render::run(r, None)),
            ),
            "organization" => included.extend(
                store
                    .organizations
                    .get(&ws.organization)
                    .map(render::organization),
            ),
            "locked_by" => match &ws.lock {
                Some(super::store::Lock::Run(id)) => {
                    included.extend(store.runs.get(id).map(|r| render::run(r, None)))
                }
                Some(super::store::Lock::User { user_id, .. }) => {
                    included.push(render::user(user_id))
                }
                None => {}
            },
            "current_configuration_version" => included.extend(
                store
                    .latest_configuration_version(ws_id)
                    .map(|cv| render::configuration_version(cv, None)),
            ),
            _ => {}
        }
    }
    if !included.is_empty() {
        doc["included"] = json!(included);
    }
    Ok(doc)
}

fn ws_id_by_name(store: &Store, org: &str, name: &str) -> Result<String, ApiError> {
    store
        .workspace_by_name(org, name)
        .map(|w| w.id.clone())
        .ok_or_else(|| ApiError::not_found("workspace"))
}

/// Applies create/update attributes to a workspace.
fn apply_workspace_attributes(
    store: &mut Store,
    ws_id: &str,
    attrs: &Value,
) -> Result<(), ApiError> {
    let vcs = match attr(attrs, "vcs-repo") {
        None => None,
        Some(v) => Some(
            serde_json::from_value::<VcsRepo>(v.clone())
                .map_err(|e| ApiError::unprocessable(format!("vcs-repo: {e}")))?,
        ),
    };
    // pytfe sends `"vcs-repo": {}` for "no VCS": only a repository identifier links the workspace.
    let vcs = vcs.filter(|r: &VcsRepo| !r.identifier.is_empty());
    if let Some(mode) = attr_string(attrs, "execution-mode")?
        .filter(|m| !["remote", "local", "agent"].contains(&m.as_str()))
    {
        return Err(ApiError::unprocessable(format!(
            "execution-mode {mode:?} is invalid; allowed: remote, local, agent"
        )));
    }
    let new_name = attr_string(attrs, "name")?;
    let ws = &store.workspaces[ws_id];
    if let Some(name) = new_name.as_ref().filter(|name| {
        *name != &ws.name && store.workspace_by_name(&ws.organization, name).is_some()
    }) {
        return Err(ApiError::unprocessable(format!(
            "Name {name} has already been taken"
        )));
    }
    let ws = store.workspaces.get_mut(ws_id).expect("workspace exists");
    if let Some(name) = new_name {
        ws.name = name;
    }
    if let Some(b) = attr_bool(attrs, "auto-apply")? {
        ws.auto_apply = b;
    }
    if let Some(b) = attr_bool(attrs, "queue-all-runs")? {
        ws.queue_all_runs = b;
    }
    if let Some(b) = attr_bool(attrs, "allow-destroy-plan")? {
        ws.allow_destroy_plan = b;
    }
    if let Some(s) = attr_string(attrs, "execution-mode")? {
        ws.execution_mode = s;
    }
    if let Some(s) = attr_string(attrs, "terraform-version")? {
        ws.terraform_version = s;
    }
    if let Some(s) = attr_string(attrs, "working-directory")? {
        ws.working_directory = s;
    }
    let linked = vcs.is_some() && ws.vcs_repo.is_none();
    if let Some(v) = vcs {
        ws.vcs_repo = Some(v);
    }
    ws.updated_at = now();
    if linked {
        store.new_configuration_version(ws_id, "tfe-api", true, false, true);
    }
    Ok(())
}

async fn create_workspace(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    user_ext: Option<Extension<UserId>>,
    body: Bytes,
) -> ApiResult {
    let attrs = attributes(&body_json(&body)?);
    let name = attr_string(&attrs, "name")?
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::unprocessable("Name can't be blank"))?;
    let mut store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    if store.workspace_by_name(&org, &name).is_some() {
        return Err(ApiError::unprocessable(format!(
            "Name {name} has already been taken"
        )));
    }
    let id = store.new_workspace(&org, &name);
    if let Err(e) = apply_workspace_attributes(&mut store, &id, &attrs) {
        store.workspaces.remove(&id);
        return Err(e);
    }
    let ws = &store.workspaces[&id];
    let queued_cv = store
        .latest_configuration_version(&id)
        .map(|c| c.id.clone())
        .filter(|_| ws.queue_all_runs);
    if let Some(cv) = queued_cv {
        let auto = ws.auto_apply;
        let run = store.new_run(
            &id,
            &cv,
            &user(&user_ext),
            false,
            auto,
            false,
            "Queued automatically".into(),
            "tfe-configuration-version",
        );
        run_machine::enqueue(&emu, &mut store, &run);
    }
    let doc = workspace_doc(&store, &id, &HashMap::new(), emu.base_url())?;
    Ok(jsonapi(201, doc))
}

async fn list_workspaces(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    let search = param(&q, "search[name]");
    let items = store
        .workspaces
        .values()
        .filter(|w| w.organization == org && search.is_none_or(|s| w.name.contains(s)))
        .map(|w| render::workspace(&store, w, emu.base_url()))
        .collect();
    ok(paginate(items, &q, true)?)
}

async fn read_workspace(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    ok(workspace_doc(&store, &id, &q, emu.base_url())?)
}

async fn read_workspace_by_name(
    State(emu): State<Shared>,
    Path((org, name)): Path<(String, String)>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let id = ws_id_by_name(&store, &org, &name)?;
    ok(workspace_doc(&store, &id, &q, emu.base_url())?)
}

fn update_ws(emu: &Shared, id: &str, body: &Bytes) -> ApiResult {
    let attrs = attributes(&body_json(body)?);
    let mut store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(id) {
        return Err(ApiError::not_found("workspace"));
    }
    apply_workspace_attributes(&mut store, id, &attrs)?;
    ok(workspace_doc(&store, id, &HashMap::new(), emu.base_url())?)
}

async fn update_workspace(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    update_ws(&emu, &id, &body)
}

async fn update_workspace_by_name(
    State(emu): State<Shared>,
    Path((org, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let id = ws_id_by_name(&emu.store.lock().unwrap(), &org, &name)?;
    update_ws(&emu, &id, &body)
}

fn remove_workspace(store: &mut Store, id: &str, safe: bool) -> ApiResult {
    let ws = store
        .workspaces
        .get(id)
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    if safe {
        if ws.lock.is_some() {
            return Err(ApiError::new(
                409,
                "Workspace is currently locked and cannot be deleted.",
            ));
        }
        if ws.resource_count > 0 {
            return Err(ApiError::new(
                409,
                "Workspace is still managing resources and cannot be safely deleted.",
            ));
        }
    }
    let workspace_name = ws.name.clone();
    store.workspaces.remove(id);
    let runs: Vec<String> = store
        .runs
        .values()
        .filter(|r| r.workspace_id == id)
        .map(|r| r.id.clone())
        .collect();
    for run in runs {
        if let Some(r) = store.runs.get_mut(&run) {
            r.generation += 1;
            r.holds_worker = false;
        }
        if let Some(removed) = store.runs.remove(&run) {
            store.deleted_runs.push((workspace_name.clone(), removed));
        }
    }
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

async fn delete_workspace(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    remove_workspace(&mut emu.store.lock().unwrap(), &id, false)
}

async fn delete_workspace_by_name(
    State(emu): State<Shared>,
    Path((org, name)): Path<(String, String)>,
) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    let id = ws_id_by_name(&store, &org, &name)?;
    remove_workspace(&mut store, &id, false)
}

async fn safe_delete_by_name(
    State(emu): State<Shared>,
    Path((org, name)): Path<(String, String)>,
) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    let id = ws_id_by_name(&store, &org, &name)?;
    remove_workspace(&mut store, &id, true)
}

async fn workspace_action(
    State(emu): State<Shared>,
    Path((id, action)): Path<(String, String)>,
    user_ext: Option<Extension<UserId>>,
    body: Bytes,
) -> ApiResult {
    let body = body_json(&body)?;
    let mut store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&id) {
        return Err(ApiError::not_found("workspace"));
    }
    let who = user(&user_ext);
    match action.as_str() {
        "lock" => {
            // pytfe and the docs send {"reason"} at the top level; go-tfe puts it under data.attributes.
            let reason = body
                .get("reason")
                .or_else(|| body.pointer("/data/attributes/reason"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            run_machine::lock_workspace(&mut store, &id, &who, &reason)?;
        }
        "unlock" => run_machine::unlock_workspace(&emu, &mut store, &id, &who)?,
        "force-unlock" => run_machine::force_unlock_workspace(&emu, &mut store, &id)?,
        "safe-delete" => return remove_workspace(&mut store, &id, true),
        other => {
            return Err(ApiError::not_found(&format!(
                "workspace action {other:?} (allowed: lock, unlock, force-unlock, safe-delete)"
            )));
        }
    }
    ok(workspace_doc(&store, &id, &HashMap::new(), emu.base_url())?)
}

// ---------- configuration versions ----------

async fn create_cv(State(emu): State<Shared>, Path(ws_id): Path<String>, body: Bytes) -> ApiResult {
    let attrs = attributes(&body_json(&body)?);
    let auto_queue = attr_bool(&attrs, "auto-queue-runs")?.unwrap_or(true);
    let speculative = attr_bool(&attrs, "speculative")?.unwrap_or(false);
    let mut store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&ws_id) {
        return Err(ApiError::not_found("workspace"));
    }
    let id = store.new_configuration_version(&ws_id, "tfe-api", false, speculative, auto_queue);
    if let Some(p) = attr_bool(&attrs, "provisional")? {
        store
            .configuration_versions
            .get_mut(&id)
            .expect("cv exists")
            .provisional = p;
    }
    let url = format!("{}/_archivist/upload/{id}", emu.base_url());
    Ok(jsonapi(
        201,
        json!({"data": render::configuration_version(&store.configuration_versions[&id], Some(url))}),
    ))
}

async fn list_cvs(
    State(emu): State<Shared>,
    Path(ws_id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&ws_id) {
        return Err(ApiError::not_found("workspace"));
    }
    let mut cvs: Vec<_> = store
        .configuration_versions
        .values()
        .filter(|c| c.workspace_id == ws_id)
        .collect();
    cvs.sort_by_key(|c| std::cmp::Reverse(c.seq));
    ok(paginate(
        cvs.into_iter()
            .map(|c| render::configuration_version(c, None))
            .collect(),
        &q,
        true,
    )?)
}

async fn read_cv(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let cv = store
        .configuration_versions
        .get(&id)
        .ok_or_else(|| ApiError::not_found("configuration version"))?;
    ok(json!({"data": render::configuration_version(cv, None)}))
}

/// The upload URL: any bytes are accepted; the configuration becomes `uploaded` and may queue a run.
async fn upload_cv(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    let cv = store
        .configuration_versions
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found("configuration version"))?;
    if cv.status != "pending" {
        return Err(ApiError::new(
            409,
            "Configuration version was already uploaded.",
        ));
    }
    cv.status = "uploaded".into();
    cv.timestamps
        .insert("uploaded-at".into(), super::store::timestamp(now()));
    let (ws_id, auto, speculative) = (cv.workspace_id.clone(), cv.auto_queue_runs, cv.speculative);
    if let Some(ws) = store.workspaces.get(&ws_id).filter(|_| auto) {
        let auto_apply = ws.auto_apply;
        let run = store.new_run(
            &ws_id,
            &id,
            "user-emulator-1",
            false,
            auto_apply,
            speculative,
            "Queued manually via the API".into(),
            "tfe-configuration-version",
        );
        run_machine::enqueue(&emu, &mut store, &run);
    }
    Ok(axum::http::StatusCode::OK.into_response())
}

// ---------- runs ----------

async fn create_run(
    State(emu): State<Shared>,
    user_ext: Option<Extension<UserId>>,
    body: Bytes,
) -> ApiResult {
    let body = body_json(&body)?;
    let attrs = attributes(&body);
    let ws_id = body
        .pointer("/data/relationships/workspace/data/id")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::unprocessable("relationships.workspace.data.id is required"))?
        .to_string();
    let cv_requested = body
        .pointer("/data/relationships/configuration-version/data/id")
        .and_then(Value::as_str);
    let is_destroy = attr_bool(&attrs, "is-destroy")?.unwrap_or(false);
    let plan_only_attr = attr_bool(&attrs, "plan-only")?.unwrap_or(false);
    let auto_apply_attr = attr_bool(&attrs, "auto-apply")?;
    let message = attr_string(&attrs, "message")?;
    let allow_empty = attr_bool(&attrs, "allow-empty-apply")?.unwrap_or(false);
    let refresh = attr_bool(&attrs, "refresh")?.unwrap_or(true);
    let refresh_only = attr_bool(&attrs, "refresh-only")?.unwrap_or(false);
    let addrs = |name: &str| -> Result<Vec<String>, ApiError> {
        match attr(&attrs, name) {
            None => Ok(Vec::new()),
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|_| ApiError::unprocessable(format!("{name} must be a list of strings"))),
        }
    };
    let (targets, replaces) = (addrs("target-addrs")?, addrs("replace-addrs")?);

    let mut store = emu.store.lock().unwrap();
    let ws = store
        .workspaces
        .get(&ws_id)
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    let ws_auto_apply = ws.auto_apply;
    let cv = match cv_requested {
        Some(cv_id) => store
            .configuration_versions
            .get(cv_id)
            .filter(|c| c.workspace_id == ws_id)
            .ok_or_else(|| ApiError::not_found("configuration version"))?,
        None => store
            .latest_configuration_version(&ws_id)
            .ok_or_else(|| ApiError::unprocessable("Configuration version is missing"))?,
    };
    if cv.status != "uploaded" {
        return Err(ApiError::unprocessable(
            "Configuration version is not uploaded yet",
        ));
    }
    let cv_id = cv.id.clone();
    let plan_only = plan_only_attr || cv.speculative;
    let message = message.unwrap_or_else(|| "Triggered via API".into());
    let run_id = store.new_run(
        &ws_id,
        &cv_id,
        &user(&user_ext),
        is_destroy,
        auto_apply_attr.unwrap_or(ws_auto_apply),
        plan_only,
        message,
        "tfe-api",
    );
    {
        let run = store.runs.get_mut(&run_id).expect("run exists");
        run.allow_empty_apply = allow_empty;
        run.refresh = refresh;
        run.refresh_only = refresh_only;
        run.target_addrs = targets;
        run.replace_addrs = replaces;
    }
    // Render before scheduling so the answer shows the run as created (pending), like TFE.
    let doc = json!({"data": render::run(&store.runs[&run_id], None)});
    run_machine::enqueue(&emu, &mut store, &run_id);
    Ok(jsonapi(201, doc))
}

const RUN_INCLUDES: &[&str] = &[
    "plan",
    "apply",
    "workspace",
    "cost_estimate",
    "task_stages",
    "created_by",
    "configuration_version",
    "policy_checks",
    "workspace.organization",
];

async fn read_run(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let run = store
        .runs
        .get(&id)
        .ok_or_else(|| ApiError::not_found("run"))?;
    let mut doc = json!({"data": render::run(run, None)});
    let mut included = Vec::new();
    for inc in includes(&store, &q, RUN_INCLUDES)? {
        match inc.as_str() {
            "plan" => included.push(render::plan(run)),
            "apply" => included.push(render::apply(run)),
            "workspace" => included.extend(
                store
                    .workspaces
                    .get(&run.workspace_id)
                    .map(|w| render::workspace(&store, w, emu.base_url())),
            ),
            "workspace.organization" => included.extend(
                store
                    .organizations
                    .get(&run.organization)
                    .map(render::organization),
            ),
            "cost_estimate" => included.extend(render::cost_estimate(run)),
            "policy_checks" => included.extend(render::policy_check(run)),
            "created_by" => included.push(render::user(&run.created_by)),
            "configuration_version" => included.extend(
                store
                    .configuration_versions
                    .get(&run.configuration_version_id)
                    .map(|c| render::configuration_version(c, None)),
            ),
            "task_stages" => included.extend(render::task_stage(run)),
            _ => {}
        }
    }
    if !included.is_empty() {
        doc["included"] = json!(included);
    }
    ok(doc)
}

async fn workspace_runs(
    State(emu): State<Shared>,
    Path(ws_id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&ws_id) {
        return Err(ApiError::not_found("workspace"));
    }
    let items = filtered_runs(&store, &q, |r| r.workspace_id == ws_id);
    ok(paginate(items, &q, true)?)
}

async fn run_action(
    State(emu): State<Shared>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    body_json(&body)?;
    let mut store = emu.store.lock().unwrap();
    if !store.runs.contains_key(&id) {
        return Err(ApiError::not_found("run"));
    }
    match action.as_str() {
        "apply" => run_machine::apply(&emu, &mut store, &id)?,
        "discard" => run_machine::discard(&emu, &mut store, &id)?,
        "cancel" => run_machine::cancel(&emu, &mut store, &id)?,
        "force-cancel" => run_machine::force_cancel(&emu, &mut store, &id)?,
        "force-execute" => run_machine::force_execute(&emu, &mut store, &id)?,
        other => {
            return Err(ApiError::not_found(&format!(
                "run action {other:?} (allowed: apply, discard, cancel, force-cancel)"
            )));
        }
    }
    Ok(jsonapi(202, json!({})))
}

fn with_run(
    emu: &Shared,
    run_id: &str,
    f: impl Fn(&super::store::Run) -> Option<Value>,
    what: &str,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let run = store
        .runs
        .get(run_id)
        .ok_or_else(|| ApiError::not_found(what))?;
    let data = f(run).ok_or_else(|| ApiError::not_found(what))?;
    ok(json!({"data": data}))
}

fn with_child(
    emu: &Shared,
    prefix: &str,
    id: &str,
    f: impl Fn(&super::store::Run) -> Option<Value>,
    what: &str,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let run = store
        .run_by_child(prefix, id)
        .ok_or_else(|| ApiError::not_found(what))?;
    let data = f(run).ok_or_else(|| ApiError::not_found(what))?;
    ok(json!({"data": data}))
}

async fn run_plan(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    with_run(&emu, &id, |r| Some(render::plan(r)), "run")
}

async fn run_apply(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    with_run(&emu, &id, |r| Some(render::apply(r)), "run")
}

async fn read_plan(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    with_child(&emu, "plan", &id, |r| Some(render::plan(r)), "plan")
}

async fn read_apply(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    with_child(&emu, "apply", &id, |r| Some(render::apply(r)), "apply")
}

async fn read_cost_estimate(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    with_child(&emu, "ce", &id, render::cost_estimate, "cost estimate")
}

async fn read_policy_check(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    with_child(&emu, "polchk", &id, render::policy_check, "policy check")
}

async fn run_policy_checks(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    list_run_child(&emu, &id, &q, render::policy_check)
}

async fn override_policy_check(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    let run_id = store
        .run_by_child("polchk", &id)
        .map(|r| r.id.clone())
        .ok_or_else(|| ApiError::not_found("policy check"))?;
    run_machine::override_policy(&emu, &mut store, &run_id)?;
    let data = render::policy_check(&store.runs[&run_id])
        .ok_or_else(|| ApiError::not_found("policy check"))?;
    ok(json!({"data": data}))
}

async fn run_task_stages(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    list_run_child(&emu, &id, &q, render::task_stage)
}

/// A run's to-many child (policy checks, task stages) as a paginated list; the emulator keeps at
/// most one of each per run.
fn list_run_child(
    emu: &Shared,
    run_id: &str,
    q: &HashMap<String, String>,
    render_child: impl Fn(&super::store::Run) -> Option<Value>,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let run = store
        .runs
        .get(run_id)
        .ok_or_else(|| ApiError::not_found("run"))?;
    ok(paginate(render_child(run).into_iter().collect(), q, true)?)
}

async fn read_task_stage(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    with_child(&emu, "ts", &id, render::task_stage, "task stage")
}
