//! The headers a TFE sends with every answer: its rate limit, API version and application name.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use super::is_abandoned;
use crate::state::Shared;

pub(super) async fn server_headers(
    State(emu): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if is_abandoned(&response) {
        return response;
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
    response
}
