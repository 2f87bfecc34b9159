//! The TFE API v2 routes, one module per API area (as go-tfe has one file per area); the helpers they share
//! (body and query parsing, includes, pagination) are here.

mod configuration_versions;
mod discovery;
mod entitlements;
mod logs;
mod oauth_clients;
mod oauth_tokens;
mod organization_list;
mod organizations;
mod runs;
mod state_versions;
mod users;
mod variables;
mod workspaces;

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, OriginalUri, Path, Query, State};
use axum::http::{HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Value, json};

use tfe_client::requests::{
    AttributeValue, ConfigurationVersionOptions, CreateOAuthClient, CreateRun, OrganizationOptions,
    RequestDocument, RequestField, RunActionOptions, WorkspaceOptions,
};

use super::http::{ApiError, ApiResult, UserId, jsonapi};
use super::store::{NewRun, OAuthClient, Store, new_secret, new_suffix, now};
use super::{render, run_machine};
use crate::state::Shared;

type Params = Query<HashMap<String, String>>;

/// The API under `/api/v2`, discovery, and the upload endpoint.
pub(crate) fn api_router() -> Router<Shared> {
    Router::new()
        .route("/.well-known/terraform.json", get(discovery::discovery))
        .route("/api/v2/ping", get(discovery::ping))
        .route(
            "/api/v2/organizations",
            post(organizations::create_organization).get(organization_list::list_organizations),
        )
        .route(
            "/api/v2/organizations/{org}/entitlement-set",
            get(entitlements::entitlement_set),
        )
        .route(
            "/api/v2/entitlement-sets/{id}",
            get(entitlements::read_entitlement_set),
        )
        .route("/api/v2/users/{id}", get(users::read_user))
        .route(
            "/api/v2/organizations/{org}",
            get(organizations::read_organization)
                .patch(organizations::update_organization)
                .delete(organizations::delete_organization),
        )
        .route(
            "/api/v2/organizations/{org}/capacity",
            get(organizations::capacity),
        )
        .route(
            "/api/v2/organizations/{org}/runs/queue",
            get(runs::run_queue),
        )
        .route("/api/v2/organizations/{org}/runs", get(runs::org_runs))
        .route(
            "/api/v2/organizations/{org}/oauth-clients",
            post(oauth_clients::create_oauth_client).get(oauth_tokens::list_oauth_clients),
        )
        .route(
            "/api/v2/organizations/{org}/oauth-tokens",
            get(oauth_tokens::list_org_oauth_tokens),
        )
        .route(
            "/api/v2/oauth-clients/{id}/oauth-tokens",
            get(oauth_tokens::list_client_oauth_tokens),
        )
        .route(
            "/api/v2/oauth-clients/{id}",
            get(oauth_clients::read_oauth_client).delete(oauth_clients::delete_oauth_client),
        )
        .route(
            "/api/v2/oauth-tokens/{id}",
            get(oauth_clients::read_oauth_token)
                .patch(oauth_tokens::update_oauth_token)
                .delete(oauth_tokens::delete_oauth_token),
        )
        .route(
            "/api/v2/organizations/{org}/workspaces",
            post(workspaces::create_workspace).get(workspaces::list_workspaces),
        )
        .route(
            "/api/v2/organizations/{org}/workspaces/{name}",
            get(workspaces::read_workspace_by_name)
                .patch(workspaces::update_workspace_by_name)
                .delete(workspaces::delete_workspace_by_name),
        )
        .route(
            "/api/v2/organizations/{org}/workspaces/{name}/actions/safe-delete",
            post(workspaces::safe_delete_by_name),
        )
        .route(
            "/api/v2/workspaces/{id}",
            get(workspaces::read_workspace)
                .patch(workspaces::update_workspace)
                .delete(workspaces::delete_workspace),
        )
        .route(
            "/api/v2/workspaces/{id}/relationships/remote-state-consumers",
            get(workspaces::remote_state_consumers),
        )
        .route(
            "/api/v2/workspaces/{id}/tag-bindings",
            get(workspaces::tag_bindings),
        )
        .route(
            "/api/v2/workspaces/{id}/effective-tag-bindings",
            get(workspaces::tag_bindings),
        )
        .route(
            "/api/v2/workspaces/{id}/actions/{action}",
            post(workspaces::workspace_action),
        )
        .route(
            "/api/v2/workspaces/{id}/configuration-versions",
            get(configuration_versions::list_cvs).post(configuration_versions::create_cv),
        )
        .route(
            "/api/v2/configuration-versions/{id}",
            get(configuration_versions::read_cv),
        )
        .route(
            "/api/v2/configuration-versions/{id}/download",
            get(configuration_versions::download_cv),
        )
        .route(
            "/_archivist/upload/{id}",
            put(configuration_versions::upload_cv),
        )
        .route("/_archivist/v1/object/{secret}", get(logs::read_log))
        .route("/api/v2/runs", post(runs::create_run))
        .route("/api/v2/runs/{id}", get(runs::read_run))
        .route("/api/v2/workspaces/{id}/runs", get(runs::workspace_runs))
        .route("/api/v2/runs/{id}/actions/{action}", post(runs::run_action))
        .route("/api/v2/runs/{id}/plan", get(runs::run_plan))
        .route("/api/v2/runs/{id}/apply", get(runs::run_apply))
        .route("/api/v2/plans/{id}", get(runs::read_plan))
        .route("/api/v2/applies/{id}", get(runs::read_apply))
        .route("/api/v2/cost-estimates/{id}", get(runs::read_cost_estimate))
        .route(
            "/api/v2/runs/{id}/policy-checks",
            get(runs::run_policy_checks),
        )
        .route("/api/v2/policy-checks/{id}", get(runs::read_policy_check))
        .route(
            "/api/v2/policy-checks/{id}/output",
            get(runs::policy_check_output),
        )
        .route(
            "/api/v2/policy-checks/{id}/actions/override",
            post(runs::override_policy_check),
        )
        .route("/api/v2/runs/{id}/task-stages", get(runs::run_task_stages))
        .route("/api/v2/task-stages/{id}", get(runs::read_task_stage))
        .route(
            "/api/v2/workspaces/{id}/current-state-version",
            get(state_versions::current_state_version),
        )
        .route(
            "/api/v2/workspaces/{id}/current-state-version-outputs",
            get(state_versions::current_state_version_outputs),
        )
        .route(
            "/api/v2/state-versions",
            get(state_versions::list_state_versions),
        )
        .route(
            "/api/v2/state-versions/{id}",
            get(state_versions::read_state_version),
        )
        .route(
            "/api/v2/state-versions/{id}/outputs",
            get(state_versions::state_version_outputs),
        )
        .route(
            "/api/v2/state-version-outputs/{id}",
            get(state_versions::read_state_version_output),
        )
        .route(
            "/api/v2/workspaces/{id}/vars",
            get(variables::list_variables).post(variables::create_variable),
        )
        // No variable sets here, so every variable that applies is the workspace's own.
        .route(
            "/api/v2/workspaces/{id}/all-vars",
            get(variables::list_variables),
        )
        .route(
            "/api/v2/workspaces/{id}/vars/{var_id}",
            get(variables::read_variable)
                .patch(variables::update_variable)
                .delete(variables::delete_variable),
        )
}

/// Parses a request body leniently: empty means `{}`.
fn body_json(body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(422, format!("request body is not valid JSON: {e}")))
}

/// Reads a request document (the client's typed documents, read leniently); a malformed one is a 422
/// naming the attribute and what it must be.
fn document<T: RequestDocument>(body: &Bytes) -> Result<T, ApiError> {
    T::from_document(&body_json(body)?).map_err(|e| ApiError::unprocessable(e.to_string()))
}

/// An attribute of a request document the client's request types do not carry (settings only the emulator
/// keeps), read the way those types read theirs: kebab-case or snake_case, `null` absent; another JSON type
/// than `T`'s is a 422 naming the attribute and what it must be.
fn extra_attribute<T: AttributeValue>(
    document: &Value,
    name: &'static str,
) -> Result<Option<T>, ApiError> {
    let empty = json!({});
    let attributes = document.pointer("/data/attributes").unwrap_or(&empty);
    <Option<T> as RequestField>::read_in(name, attributes)
        .map_err(|e| ApiError::unprocessable(e.to_string()).invalid_attribute(name))
}

/// One of `allowed`, or a 422 naming the attribute, the value and what is allowed.
fn one_of(name: &str, value: &str, allowed: &[&str]) -> Result<(), ApiError> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(ApiError::unprocessable(format!(
        "{name} {value:?} is invalid; allowed: {}",
        allowed.join(", ")
    )))
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

/// Where a list was asked for: the server's base URL and the request's path and query, which its `links`
/// repeat with other page numbers.
struct ListUrl<'a> {
    base: &'a str,
    uri: &'a Uri,
}

impl<'a> ListUrl<'a> {
    /// The list the request `uri` asked the emulator for.
    fn of(emu: &'a Shared, uri: &'a Uri) -> Self {
        ListUrl {
            base: emu.base_url(),
            uri,
        }
    }

    /// The list's URL for page `number` of `size`: the request's own query with its page parameters replaced.
    fn page(&self, number: usize, size: usize) -> String {
        let is_page_param = |pair: &&str| {
            let key = pair.split('=').next().unwrap_or_default();
            let key = key
                .replace("%5B", "[")
                .replace("%5D", "]")
                .replace("%5b", "[")
                .replace("%5d", "]");
            key == "page[number]" || key == "page[size]"
        };
        let mut query: Vec<&str> = self
            .uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty())
            .filter(|pair| !is_page_param(pair))
            .collect();
        let pages = format!("page[number]={number}&page[size]={size}");
        query.push(&pages);
        format!("{}{}?{}", self.base, self.uri.path(), query.join("&"))
    }
}

/// A list document with JSON:API pagination: `meta.pagination` (`totals` false leaves out total-pages and
/// total-count, as the organization-wide run list does) and `links` to this, the first, previous, next and
/// last pages (no first and last without totals).
fn paginate(
    items: Vec<Value>,
    q: &HashMap<String, String>,
    totals: bool,
    list: ListUrl<'_>,
) -> Result<Value, ApiError> {
    paginate_with(items, |v| v, q, totals, list)
}

/// [`paginate`], rendering only the items on the requested page: a list of a large organization's
/// runs or workspaces must not render all of them for each page (the store is locked meanwhile).
fn paginate_with<T>(
    items: Vec<T>,
    render: impl Fn(T) -> Value,
    q: &HashMap<String, String>,
    totals: bool,
    list: ListUrl<'_>,
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
        .map(render)
        .collect();
    let prev = (number > 1).then(|| number - 1);
    let next = (number < total_pages).then(|| number + 1);
    let mut pagination =
        json!({"current-page": number, "prev-page": prev, "next-page": next, "page-size": size});
    let link = |page: Option<usize>| page.map(|n| list.page(n, size));
    let mut links =
        json!({"self": list.page(number, size), "prev": link(prev), "next": link(next)});
    if totals {
        pagination["total-pages"] = json!(total_pages);
        pagination["total-count"] = json!(total);
        links["first"] = json!(list.page(1, size));
        links["last"] = json!(list.page(total_pages, size));
    }
    Ok(json!({"data": data, "links": links, "meta": {"pagination": pagination}}))
}

fn user(ext: &Option<Extension<UserId>>) -> String {
    ext.as_ref()
        .map(|Extension(UserId(u))| u.clone())
        .unwrap_or_else(|| "user-emulator-1".into())
}

fn ok(body: Value) -> ApiResult {
    Ok(jsonapi(200, body))
}
