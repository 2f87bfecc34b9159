//! The outermost layer: every request in the emulator's log, with its final status, its duration and the
//! fault that shaped it. Requests no route serves (404) or whose method their route does not take (405) never
//! reach the layers, so the fallbacks log them through [`record_unserved`]: what a new client asks for that the
//! emulator lacks is exactly what the log should show.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use super::{RequestInfo, is_abandoned, note_of};
use crate::state::Shared;
use crate::store::{LogEntry, now, timestamp};

pub(super) async fn request_log(
    State(emu): State<Shared>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let path = request.uri().path().to_string();
    let info = RequestInfo {
        method: request.method().to_string(),
        route: request
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_string())
            .unwrap_or_else(|| path.clone()),
        path,
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        started,
    };
    request.extensions_mut().insert(info.clone());
    let response = next.run(request).await;
    if is_abandoned(&response) {
        return response;
    }
    record(&emu, info, response.status().as_u16(), note_of(&response));
    response
}

/// Logs a request that no route served, answered `status`; its route is its path, and `unserved` is set.
pub(crate) fn record_unserved(emu: &Shared, request: &Request, status: u16) {
    let path = request.uri().path().to_string();
    let entry = LogEntry {
        method: request.method().to_string(),
        route: path.clone(),
        path,
        status,
        at: timestamp(now()),
        duration_ms: 0,
        user_agent: request
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        fault: None,
        unserved: true,
    };
    emu.store.lock().unwrap().log.record(entry);
}

/// Adds one entry to the log.
pub(super) fn record(emu: &Shared, info: RequestInfo, status: u16, fault: Option<String>) {
    let entry = LogEntry {
        method: info.method,
        route: info.route,
        path: info.path,
        status,
        at: timestamp(now()),
        duration_ms: info.started.elapsed().as_millis() as u64,
        user_agent: info.user_agent,
        fault,
        unserved: false,
    };
    emu.store.lock().unwrap().log.record(entry);
}
