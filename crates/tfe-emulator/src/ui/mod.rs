//! The web page: organizations, workspaces and runs as HCP Terraform's run page shows them (each run's status
//! timeline, its plan and apply logs, and the actions a person has), served at the base URL.
//!
//! - `GET /`, `/app/…`: the page (`page.html`, `app.js`, `style.css`, embedded in the binary: no build step,
//!   nothing fetched at run time). The same paths as HCP Terraform's, so a workspace's `html-url` and the
//!   provider's run links open it.
//! - `GET /_ui/api/overview`, `GET /_ui/api/runs/:id`: what the page shows, as JSON; the page polls them.
//! - `POST /_ui/api/runs/:id/actions/{apply,discard,cancel,force-cancel,override-policy}` and
//!   `POST /_ui/api/workspaces/:id/actions/{lock,unlock,force-unlock}`: the person's actions, through the same
//!   run-machine functions as the API's actions (same rules, same refusals).
//!
//! Access: a client on a loopback address needs nothing; any other needs the admin token (`--admin-token`),
//! as `Authorization: Bearer`, or once as `?admin_token=` on the page, which keeps it in a cookie. Without an
//! admin token configured, only loopback clients get the page. Actions also need the `X-TFE-Emulator-UI`
//! header, which a page of another site cannot send without CORS, so no other site can act through a browser.

mod views;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::http::{ApiError, ApiResult};
use crate::run_machine::{self, RunAction};
use crate::state::Shared;

/// The page's user: who locks a workspace from the page.
pub(crate) const UI_USER: &str = "user-emulator-ui";
/// The header every action request carries.
pub(crate) const ACTION_HEADER: &str = "x-tfe-emulator-ui";
const COOKIE: &str = "tfe_emulator_admin";

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("app.js");
const STYLE: &str = include_str!("style.css");

pub(crate) fn ui_router(emu: Shared) -> Router<Shared> {
    Router::new()
        .route("/", get(page))
        .route("/app", get(page))
        .route("/app/{*rest}", get(page))
        .route(
            "/_ui/app.js",
            get(|| async { asset(SCRIPT, "text/javascript") }),
        )
        .route("/_ui/style.css", get(|| async { asset(STYLE, "text/css") }))
        .route("/_ui/api/overview", get(overview))
        .route("/_ui/api/runs/{id}", get(run_detail))
        .route("/_ui/api/runs/{id}/actions/{action}", post(run_action))
        .route(
            "/_ui/api/workspaces/{id}/actions/{action}",
            post(workspace_action),
        )
        .route_layer(from_fn_with_state(emu, ui_access))
}

fn asset(text: &'static str, content_type: &'static str) -> Response {
    let mut response = text.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The admin token the request carries: bearer header, cookie, or `admin_token` query parameter.
fn given_token(request: &Request) -> Option<String> {
    let headers = request.headers();
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_string());
    }
    if let Some(cookie) = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(&format!("{COOKIE}=")))
    {
        return Some(cookie.to_string());
    }
    query_token(request)
}

fn query_token(request: &Request) -> Option<String> {
    request.uri().query().and_then(|q| {
        url_pairs(q)
            .into_iter()
            .find(|(k, _)| k == "admin_token")
            .map(|(_, v)| v)
    })
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    Query::<Vec<(String, String)>>::try_from_uri(&format!("/?{query}").parse().unwrap_or_default())
        .map(|Query(pairs)| pairs)
        .unwrap_or_default()
}

async fn ui_access(State(emu): State<Shared>, request: Request, next: Next) -> Response {
    let loopback = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().is_loopback());
    let token_ok = match (&emu.admin_token, given_token(&request)) {
        (Some(expected), Some(given)) => &given == expected,
        _ => false,
    };
    if !loopback && !token_ok {
        let detail = if emu.admin_token.is_some() {
            "the web page needs the admin token from a non-loopback address: open it once as /?admin_token=TOKEN"
        } else {
            "the web page answers loopback clients only; start tfe-emulator with --admin-token to open it to others"
        };
        return ApiError::new(401, detail).into_response();
    }
    if request.method() == axum::http::Method::POST
        && !request.headers().contains_key(ACTION_HEADER)
    {
        return ApiError::new(
            403,
            format!("page actions need the {ACTION_HEADER} header (the page sends it)"),
        )
        .into_response();
    }
    // A token given in the address goes into a cookie, and the address loses it.
    if token_ok && query_token(&request).is_some() {
        let mut response = (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, request.uri().path().to_string())],
        )
            .into_response();
        let cookie = format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
            emu.admin_token.as_deref().unwrap_or_default()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        return response;
    }
    next.run(request).await
}

async fn page() -> Response {
    asset(PAGE, "text/html; charset=utf-8")
}

fn json_ok(value: Value) -> ApiResult {
    let mut response = value.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

async fn overview(State(emu): State<Shared>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    json_ok(views::overview(&store, emu.base_url()))
}

async fn run_detail(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let run = store
        .runs
        .get(&id)
        .ok_or_else(|| ApiError::not_found("run"))?;
    json_ok(views::run_detail(&store, run))
}

async fn run_action(
    State(emu): State<Shared>,
    Path((id, action)): Path<(String, String)>,
) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    if !store.runs.contains_key(&id) {
        return Err(ApiError::not_found("run"));
    }
    RunAction::parse(&action, RunAction::PAGE)?.perform(&emu, &mut store, &id)?;
    json_ok(views::run_detail(&store, &store.runs[&id]))
}

async fn workspace_action(
    State(emu): State<Shared>,
    Path((id, action)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&id) {
        return Err(ApiError::not_found("workspace"));
    }
    match action.as_str() {
        "lock" => {
            let reason = q
                .get("reason")
                .cloned()
                .unwrap_or_else(|| "Locked from the tfe-emulator page".into());
            run_machine::lock_workspace(&mut store, &id, UI_USER, &reason)?
        }
        "unlock" => run_machine::unlock_workspace(&emu, &mut store, &id, UI_USER)?,
        "force-unlock" => run_machine::force_unlock_workspace(&emu, &mut store, &id)?,
        other => {
            return Err(ApiError::not_found(&format!(
                "page action {other:?} (allowed: lock, unlock, force-unlock)"
            )));
        }
    }
    json_ok(json!({"workspace": views::workspace_lock(&store.workspaces[&id])}))
}
