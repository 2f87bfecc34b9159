//! Bearer-token auth: the request's user, or 401. Discovery, ping and the upload URL (which carries its own
//! secret id) need no token.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, UserId};
use crate::state::Shared;

pub(super) async fn auth(State(emu): State<Shared>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
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
        Some(user) => {
            request.extensions_mut().insert(UserId(user));
            next.run(request).await
        }
        None if public => next.run(request).await,
        None => ApiError::new(
            401,
            "A valid API token is required (Authorization: Bearer <token>).",
        )
        .into_response(),
    }
}
