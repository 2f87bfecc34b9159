//! The admin API under `/_emulator/`: seeding, knobs, faults, the request log and a run summary.
//! Human actions (confirm, discard, override, cancel) go through the normal TFE API.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::faults::FaultRule;
use super::http::{ApiError, ApiResult};
use super::knobs::Knobs;
use super::scenario::{OrganizationSeed, WorkspaceSeed, seed};
use super::state::Shared;

pub(crate) fn admin_router(emu: Shared) -> Router<Shared> {
    Router::new()
        .route(
            "/_emulator/health",
            get(|| async { Json(json!({"ok": true})) }),
        )
        .route("/_emulator/seed", post(seed_handler))
        .route(
            "/_emulator/knobs",
            get(get_default_knobs).put(put_default_knobs),
        )
        .route(
            "/_emulator/knobs/organizations/{org}",
            get(get_org_knobs).put(put_org_knobs),
        )
        .route(
            "/_emulator/knobs/workspaces/{id}",
            get(get_ws_knobs).put(put_ws_knobs),
        )
        .route(
            "/_emulator/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_emulator/faults/{id}", delete(delete_fault))
        .route("/_emulator/requests", get(request_log))
        .route("/_emulator/requests/reset", post(reset_log))
        .route("/_emulator/runs", get(run_summary))
        .route("/_emulator/runs/deleted", get(deleted_run_summary))
        .route("/_emulator/settings", get(get_settings).put(put_settings))
        .route_layer(axum::middleware::from_fn_with_state(emu, admin_auth))
}

struct Json(Value);

impl IntoResponse for Json {
    fn into_response(self) -> Response {
        let mut r = self.0.to_string().into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        r
    }
}

async fn admin_auth(State(emu): State<Shared>, request: Request, next: Next) -> Response {
    if let Some(expected) = &emu.admin_token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(expected.as_str()) {
            return ApiError::new(
                401,
                "the admin API needs Authorization: Bearer <admin token>",
            )
            .into_response();
        }
    }
    next.run(request).await
}

fn parse<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::new(400, format!("invalid JSON body: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedRequest {
    #[serde(default)]
    organizations: Vec<OrganizationSeed>,
    #[serde(default)]
    workspaces: Vec<WorkspaceSeed>,
}

async fn seed_handler(State(emu): State<Shared>, body: Bytes) -> ApiResult {
    let req: SeedRequest = parse(&body)?;
    let seeded =
        seed(&emu, &req.organizations, &req.workspaces).map_err(|e| ApiError::new(422, e))?;
    Ok(Json(json!({"workspaces": seeded})).into_response())
}

async fn get_default_knobs(State(emu): State<Shared>) -> ApiResult {
    Ok(Json(json!(emu.store.lock().unwrap().defaults)).into_response())
}

/// PUT merges the given fields into the server defaults.
async fn put_default_knobs(State(emu): State<Shared>, body: Bytes) -> ApiResult {
    let knobs: Knobs = parse(&body)?;
    let mut store = emu.store.lock().unwrap();
    store.defaults.merge(&knobs);
    store.default_counters = Default::default();
    Ok(Json(json!(store.defaults)).into_response())
}

async fn get_org_knobs(State(emu): State<Shared>, Path(org): Path<String>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let o = store
        .organizations
        .get(&org)
        .ok_or_else(|| ApiError::not_found("organization"))?;
    Ok(
        Json(json!({"knobs": o.knobs, "effective": store.org_knobs(&org), "counters": o.counters}))
            .into_response(),
    )
}

/// PUT replaces the level's knobs (send `{}` to clear) and resets its error_first_n counters.
async fn put_org_knobs(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    body: Bytes,
) -> ApiResult {
    let knobs: Knobs = parse(&body)?;
    let mut store = emu.store.lock().unwrap();
    let o = store
        .organizations
        .get_mut(&org)
        .ok_or_else(|| ApiError::not_found("organization"))?;
    o.knobs = knobs;
    o.counters = Default::default();
    Ok(Json(json!({"knobs": o.knobs})).into_response())
}

async fn get_ws_knobs(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let w = store
        .workspaces
        .get(&id)
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    Ok(Json(
        json!({"knobs": w.knobs, "effective": store.effective_knobs(&id), "counters": w.counters}),
    )
    .into_response())
}

async fn put_ws_knobs(State(emu): State<Shared>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let knobs: Knobs = parse(&body)?;
    let mut store = emu.store.lock().unwrap();
    let w = store
        .workspaces
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    w.knobs = knobs;
    w.counters = Default::default();
    Ok(Json(json!({"knobs": w.knobs})).into_response())
}

async fn list_faults(State(emu): State<Shared>) -> ApiResult {
    Ok(Json(json!({"faults": emu.faults.lock().unwrap().rules})).into_response())
}

async fn add_fault(State(emu): State<Shared>, body: Bytes) -> ApiResult {
    let rule: FaultRule = parse(&body)?;
    let id = emu
        .faults
        .lock()
        .unwrap()
        .add(rule)
        .map_err(|e| ApiError::new(422, e))?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))).into_response())
}

async fn clear_faults(State(emu): State<Shared>) -> ApiResult {
    emu.faults.lock().unwrap().rules.clear();
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_fault(State(emu): State<Shared>, Path(id): Path<u64>) -> ApiResult {
    let mut faults = emu.faults.lock().unwrap();
    let before = faults.rules.len();
    faults.rules.retain(|r| r.id != id);
    if faults.rules.len() == before {
        return Err(ApiError::not_found("fault"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn request_log(State(emu): State<Shared>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    Ok(
        Json(json!({"requests": store.log.entries, "counters": store.log.counters()}))
            .into_response(),
    )
}

async fn reset_log(State(emu): State<Shared>) -> ApiResult {
    emu.store.lock().unwrap().log.reset();
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// What the admin API tells of one run: enough for a test or the demo to judge it without the TFE
/// API, which no longer shows the runs of a deleted workspace.
fn run_summary_item(r: &super::store::Run, workspace: Option<&str>) -> Value {
    json!({"id": r.id, "workspace_id": r.workspace_id, "workspace": workspace,
        "organization": r.organization, "status": r.status.as_str(), "is_destroy": r.is_destroy,
        "plan_only": r.plan_only, "auto_apply": r.auto_apply, "message": r.message, "order": r.seq,
        "plan_id": format!("plan-{}", r.suffix), "apply_id": format!("apply-{}", r.suffix),
        "status_timestamps": r.timestamps, "refresh": r.refresh, "refresh_only": r.refresh_only,
        "allow_empty_apply": r.allow_empty_apply, "target_addrs": r.target_addrs,
        "replace_addrs": r.replace_addrs, "terraform_version": r.terraform_version,
        // Keys only: a run variable's value may be a secret.
        "variable_keys": r.variables.iter().map(|v| v.key.as_str()).collect::<Vec<_>>(),
        "configuration_version_id": r.configuration_version_id,
        "plan_failure": r.plan_failure.as_ref().map(plan_failure_summary)})
}

/// One line on why a plan was refused, for the run summary.
fn plan_failure_summary(failure: &super::store::PlanFailure) -> String {
    match failure {
        super::store::PlanFailure::MissingVariables(names) => {
            format!("No value for required variable: {}", names.join(", "))
        }
        super::store::PlanFailure::ConfigurationNotUploaded { id, status } => {
            format!("configuration version {id} was {status}, not uploaded")
        }
    }
}

/// Every run in creation order.
async fn run_summary(State(emu): State<Shared>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let mut runs: Vec<&super::store::Run> = store.runs.values().collect();
    runs.sort_by_key(|r| r.seq);
    let items: Vec<Value> = runs
        .iter()
        .map(|r| {
            let workspace = store
                .workspaces
                .get(&r.workspace_id)
                .map(|w| w.name.as_str());
            run_summary_item(r, workspace)
        })
        .collect();
    Ok(Json(json!({"runs": items})).into_response())
}

/// The runs of deleted workspaces, in creation order, in the format of `/_emulator/runs`.
async fn deleted_run_summary(State(emu): State<Shared>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let mut runs: Vec<&(String, super::store::Run)> = store.deleted_runs.iter().collect();
    runs.sort_by_key(|(_, r)| r.seq);
    let items: Vec<Value> = runs
        .iter()
        .map(|(workspace, r)| run_summary_item(r, Some(workspace)))
        .collect();
    Ok(Json(json!({"runs": items})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    enforce_rate_limit: Option<bool>,
    lenient_includes: Option<bool>,
}

fn settings(emu: &Shared) -> Value {
    json!({"rate_limit": emu.rate_limit_header,
        "enforce_rate_limit": emu.enforce_rate_limit.load(std::sync::atomic::Ordering::Relaxed),
        "lenient_includes": emu.store.lock().unwrap().lenient_includes,
        "app_name": emu.app_name})
}

async fn get_settings(State(emu): State<Shared>) -> ApiResult {
    Ok(Json(settings(&emu)).into_response())
}

/// Runtime server settings: `{"enforce_rate_limit": bool}`.
async fn put_settings(State(emu): State<Shared>, body: Bytes) -> ApiResult {
    let new: Settings = parse(&body)?;
    if let Some(enforce) = new.enforce_rate_limit {
        if enforce && emu.rate_limit_header.is_none() {
            return Err(ApiError::new(
                422,
                "cannot enforce a rate limit: the server runs with --rate-limit 0",
            ));
        }
        emu.enforce_rate_limit
            .store(enforce, std::sync::atomic::Ordering::Relaxed);
        emu.rate_buckets.lock().unwrap().clear();
    }
    if let Some(lenient) = new.lenient_includes {
        emu.store.lock().unwrap().lenient_includes = lenient;
    }
    Ok(Json(settings(&emu)).into_response())
}
