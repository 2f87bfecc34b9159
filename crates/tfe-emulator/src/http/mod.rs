//! What wraps every TFE API request, one layer per concern (outermost first): the request log
//! ([`request_log`]), the server's headers ([`server_headers`]), fault injection ([`fault_injection`]),
//! bearer-token auth ([`auth`]), the enforced rate limit ([`rate_limit`]), and late commits
//! ([`late_commit`]) right around the handler; plus the API's error answers, shared by routes and admin.
//!
//! The layers tell each other what they did through extensions: [`RequestInfo`] on the request (for the
//! late commit's own log entry), [`FaultNote`] on the response (what the log records as the fault),
//! [`LateCommit`] on the request (set by fault injection, acted on inside auth), and [`Abandoned`] on a
//! response no outer layer may touch (the late commit's held connection, which is never logged).

mod auth;
pub(crate) mod body_drain;
pub(crate) mod error_documents;
mod fault_injection;
mod late_commit;
mod rate_limit;
pub(crate) mod request_log;
mod server_headers;

use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::faults::RawHeader;
use crate::state::Shared;

pub(crate) const JSONAPI: &str = "application/vnd.api+json";

/// The authenticated user of a request.
#[derive(Debug, Clone)]
pub(crate) struct UserId(pub String);

/// An API error answer: `{"errors":[{"status":"409","title":"conflict","detail":"..."}]}`, with a `source`
/// pointer when it is about one attribute.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: u16,
    pub detail: String,
    /// The title when it is not the status's usual one (validation errors say "invalid attribute").
    pub title: Option<&'static str>,
    /// `source.pointer`: the attribute the error is about, e.g. `/data/attributes/key`.
    pub pointer: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: u16, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: detail.into(),
            title: None,
            pointer: None,
        }
    }
    /// A validation error about `attribute`, titled and pointed as the API's are ("invalid attribute",
    /// `/data/attributes/<attribute>`); go-tfe shows it as `invalid attribute\n\n<detail>`.
    pub(crate) fn invalid_attribute(mut self, attribute: &str) -> ApiError {
        self.title = Some("invalid attribute");
        self.pointer = Some(format!("/data/attributes/{attribute}"));
        self
    }
    pub(crate) fn not_found(what: &str) -> ApiError {
        ApiError::new(404, format!("{what} not found"))
    }
    pub(crate) fn unprocessable(detail: impl Into<String>) -> ApiError {
        ApiError::new(422, detail)
    }
}

impl From<super::run_machine::Refused> for ApiError {
    fn from(r: super::run_machine::Refused) -> Self {
        ApiError::new(r.status, r.detail)
    }
}

fn title(status: u16) -> &'static str {
    match status {
        400 => "bad request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not found",
        405 => "method not allowed",
        409 => "conflict",
        413 => "payload too large",
        422 => "unprocessable entity",
        429 => "too many requests",
        500 => "internal server error",
        502 => "bad gateway",
        503 => "service unavailable",
        504 => "gateway timeout",
        _ => "error",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"status": self.status.to_string(),
            "title": self.title.unwrap_or_else(|| title(self.status)), "detail": self.detail});
        if let Some(pointer) = self.pointer {
            error["source"] = json!({"pointer": pointer});
        }
        let body = json!({"errors": [error]});
        jsonapi(self.status, body)
    }
}

/// A JSON:API answer.
pub(crate) fn jsonapi(status: u16, body: Value) -> Response {
    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        body.to_string(),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSONAPI));
    response
}

pub(crate) type ApiResult = Result<Response, ApiError>;

pub(crate) fn rate_limited(reset_seconds: f64) -> Response {
    let value = format!("{reset_seconds:.3}");
    let raw = RawHeader::Text(value);
    rate_limited_raw(Some(&raw), Some(&raw))
}

/// A 429 carrying exactly these header values (validated when the rule was added).
pub(crate) fn rate_limited_raw(
    retry_after: Option<&RawHeader>,
    reset: Option<&RawHeader>,
) -> Response {
    let mut response =
        ApiError::new(429, "You have exceeded the API's rate limit.").into_response();
    for (name, value) in [("retry-after", retry_after), ("x-ratelimit-reset", reset)] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok()) {
            response.headers_mut().insert(name, v);
        }
    }
    response
}

/// A response whose body fails at once, so the server drops the connection.
pub(crate) fn connection_reset() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("injected reset"))
    });
    Response::new(Body::from_stream(stream))
}

/// What the request log needs to know of a request, taken before any layer runs.
#[derive(Debug, Clone)]
pub(crate) struct RequestInfo {
    pub(crate) method: String,
    pub(crate) route: String,
    pub(crate) path: String,
    pub(crate) user_agent: Option<String>,
    pub(crate) started: Instant,
}

/// The fault (or enforced limit) that produced or altered a response, as the request log records it.
#[derive(Debug, Clone)]
pub(crate) struct FaultNote(pub(crate) String);

/// A late-commit fault fired for this request: the handler runs this many milliseconds later, unanswered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LateCommit(pub(crate) u64);

/// A response the outer layers pass through untouched and the log leaves out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Abandoned;

/// The note a response carries, if any.
pub(crate) fn note_of(response: &Response) -> Option<String> {
    response
        .extensions()
        .get::<FaultNote>()
        .map(|n| n.0.clone())
}

/// `response` carrying `note` (or none).
pub(crate) fn with_note(mut response: Response, note: Option<String>) -> Response {
    match note {
        Some(note) => {
            response.extensions_mut().insert(FaultNote(note));
        }
        None => {
            response.extensions_mut().remove::<FaultNote>();
        }
    }
    response
}

pub(crate) fn is_abandoned(response: &Response) -> bool {
    response.extensions().get::<Abandoned>().is_some()
}

/// The TFE API routes wrapped in the layers, innermost first (axum's last `route_layer` is outermost).
pub(crate) fn with_api_layers(router: Router<Shared>, emu: Shared) -> Router<Shared> {
    router
        .route_layer(from_fn_with_state(emu.clone(), late_commit::late_commit))
        .route_layer(from_fn_with_state(emu.clone(), rate_limit::rate_limit))
        .route_layer(from_fn_with_state(emu.clone(), auth::auth))
        .route_layer(from_fn_with_state(
            emu.clone(),
            fault_injection::fault_injection,
        ))
        .route_layer(from_fn_with_state(
            emu.clone(),
            server_headers::server_headers,
        ))
        .route_layer(from_fn_with_state(emu, request_log::request_log))
}
