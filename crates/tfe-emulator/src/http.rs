//! What wraps every TFE API request: fault injection, bearer-token auth, server headers and the request log.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Shared;
use super::faults::{FaultKind, Malformed, RawHeader, When};
use super::store::{LogEntry, now, timestamp};

pub const JSONAPI: &str = "application/vnd.api+json";

/// The authenticated user of a request.
#[derive(Debug, Clone)]
pub struct UserId(pub String);

/// An API error answer: `{"errors":[{"status":"409","title":"conflict","detail":"..."}]}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: u16, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: detail.into(),
        }
    }
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(404, format!("{what} not found"))
    }
    pub fn unprocessable(detail: impl Into<String>) -> ApiError {
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
        409 => "conflict",
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
        let body = json!({"errors": [{"status": self.status.to_string(), "title": title(self.status), "detail": self.detail}]});
        jsonapi(self.status, body)
    }
}

/// A JSON:API answer.
pub fn jsonapi(status: u16, body: Value) -> Response {
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

pub type ApiResult = Result<Response, ApiError>;

fn rate_limited(reset_seconds: f64) -> Response {
    let value = format!("{reset_seconds:.3}");
    let raw = RawHeader::Text(value);
    rate_limited_raw(Some(&raw), Some(&raw))
}

/// A 429 carrying exactly these header values (validated when the rule was added).
fn rate_limited_raw(retry_after: Option<&RawHeader>, reset: Option<&RawHeader>) -> Response {
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
fn connection_reset() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("injected reset"))
    });
    Response::new(Body::from_stream(stream))
}

/// The same status (and headers) with a body no client can use.
fn malformed(mut response: Response, kind: Malformed) -> Response {
    let body = match kind {
        Malformed::NotJson => "<html><body><h1>502 Bad Gateway</h1><p>upstream sent".to_string(),
        Malformed::WrongShape => {
            json!({"data": 42, "errors": "none", "meta": {"pagination": "all"}, "included": {}})
                .to_string()
        }
    };
    response.headers_mut().remove(header::CONTENT_LENGTH);
    *response.body_mut() = Body::from(body);
    response
}

/// One block of filler for `huge_body`, served again and again.
static FILLER: [u8; 64 * 1024] = [b' '; 64 * 1024];

/// A 200 of `bytes` bytes of JSON whitespace, produced as it is sent.
fn huge_body(bytes: u64, chunked: bool) -> Response {
    let stream = futures::stream::unfold(bytes, |left| async move {
        if left == 0 {
            return None;
        }
        let n = usize::try_from(left.min(FILLER.len() as u64)).unwrap_or(FILLER.len());
        Some((
            Ok::<Bytes, std::io::Error>(Bytes::from_static(&FILLER[..n])),
            left - n as u64,
        ))
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSONAPI));
    if !chunked {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes));
    }
    response
}

/// What replaces a handler's answer once it ran.
enum After {
    Status(u16),
    Reset,
    Malformed(Malformed),
}

/// The outcome of the token and rate checks.
enum Admission {
    /// The request, carrying its user when it had a token.
    Admitted(Request),
    /// The answer to send instead, with its fault note.
    Refused(Response, Option<String>),
}

/// Checks the token (and the enforced rate limit).
fn admit(emu: &Shared, mut request: Request, path: &str) -> Admission {
    // Discovery, ping and the upload URL (which carries its own secret id) need no token.
    let public = path == "/api/v2/ping"
        || path.starts_with("/.well-known")
        || path.starts_with("/_archivist/");
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match token.and_then(|t| emu.user_for_token(t)) {
        Some(user) => match emu.take_rate_token(&user) {
            Ok(()) => {
                request.extensions_mut().insert(UserId(user));
                Admission::Admitted(request)
            }
            Err(wait_seconds) => Admission::Refused(
                rate_limited(wait_seconds.max(0.001)),
                Some("429 rate limit enforced".into()),
            ),
        },
        None if public => Admission::Admitted(request),
        None => Admission::Refused(
            ApiError::new(
                401,
                "A valid API token is required (Authorization: Bearer <token>).",
            )
            .into_response(),
            None,
        ),
    }
}

/// The middleware around every TFE API route.
pub async fn api_middleware(State(emu): State<Shared>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let fired = emu.faults.lock().unwrap().fire(&method, &path);

    let mut fault_note = None;
    let mut after = None;
    let mut late_commit = None;
    let mut early = None;
    for fault in fired {
        match fault {
            FaultKind::Delay { ms } => {
                fault_note = Some(format!("delay {ms}ms"));
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            FaultKind::RateLimit {
                reset_seconds,
                retry_after,
                reset,
            } => {
                fault_note = Some("429".into());
                early = Some(if retry_after.is_none() && reset.is_none() {
                    rate_limited(reset_seconds)
                } else {
                    rate_limited_raw(retry_after.as_ref(), reset.as_ref())
                });
                break;
            }
            FaultKind::Status {
                status,
                when: When::Before,
            } => {
                fault_note = Some(format!("{status} before"));
                early = Some(ApiError::new(status, "injected fault").into_response());
                break;
            }
            FaultKind::Status {
                status,
                when: When::After,
            } => after = Some(After::Status(status)),
            FaultKind::Reset { when: When::Before } => {
                fault_note = Some("reset".into());
                early = Some(connection_reset());
                break;
            }
            FaultKind::Reset { when: When::After } => after = Some(After::Reset),
            FaultKind::LateCommit { ms } => late_commit = Some(ms),
            FaultKind::MalformedBody { body } => after = Some(After::Malformed(body)),
            FaultKind::HugeBody { bytes, chunked } => {
                fault_note = Some(format!("huge_body {bytes} bytes"));
                early = Some(huge_body(bytes, chunked));
                break;
            }
        }
    }

    let mut response = match early {
        Some(r) => r,
        None => match admit(&emu, request, &path) {
            Admission::Refused(refusal, note) => {
                fault_note = note.or(fault_note);
                refusal
            }
            Admission::Admitted(request) => match late_commit {
                Some(ms) => {
                    // Spawned, not awaited: hyper drops this future when the client hangs up, and the
                    // change must still happen after that.
                    let emu = emu.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        let response = next.run(request).await;
                        let entry = LogEntry {
                            method,
                            route,
                            path,
                            status: response.status().as_u16(),
                            at: timestamp(now()),
                            duration_ms: started.elapsed().as_millis() as u64,
                            user_agent,
                            fault: Some(format!("late_commit {ms}ms (no answer sent)")),
                        };
                        emu.store.lock().unwrap().log.record(entry);
                    });
                    // No answer: hold the connection until the client gives up (or an hour passes).
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return connection_reset();
                }
                None => next.run(request).await,
            },
        },
    };
    match after {
        Some(After::Status(status)) => {
            fault_note = Some(format!("{status} after {}", response.status().as_u16()));
            response = ApiError::new(status, "injected fault after the request was processed")
                .into_response();
        }
        Some(After::Reset) => {
            fault_note = Some(format!("reset after {}", response.status().as_u16()));
            response = connection_reset();
        }
        Some(After::Malformed(kind)) => {
            let name = match kind {
                Malformed::NotJson => "not_json",
                Malformed::WrongShape => "wrong_shape",
            };
            fault_note = Some(format!("malformed_body {name}"));
            response = malformed(response, kind);
        }
        None => {}
    }
    let headers = response.headers_mut();
    if let Some(limit) = emu.rate_limit_header {
        headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    }
    headers.insert("tfp-api-version", HeaderValue::from_static("2.5"));
    if let Ok(app) = HeaderValue::from_str(&emu.app_name) {
        headers.insert("tfp-appname", app);
    }
    headers.insert("x-tfe-version", HeaderValue::from_static("tfe-emulator"));

    let entry = LogEntry {
        method,
        route,
        path,
        status: response.status().as_u16(),
        at: timestamp(now()),
        duration_ms: started.elapsed().as_millis() as u64,
        user_agent,
        fault: fault_note,
    };
    emu.store.lock().unwrap().log.record(entry);
    response
}
