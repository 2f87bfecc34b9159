//! The enforced rate limit: each user's token bucket (`--enforce-rate-limit`), a 429 when it is empty.
//! Requests without a user (the public paths) are not counted.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::{UserId, rate_limited, with_note};
use crate::state::Shared;

pub(super) async fn rate_limit(
    State(emu): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let Some(UserId(user)) = request.extensions().get::<UserId>().cloned() else {
        return next.run(request).await;
    };
    match emu.take_rate_token(&user) {
        Ok(()) => next.run(request).await,
        Err(wait_seconds) => with_note(
            rate_limited(wait_seconds.max(0.001)),
            Some("429 rate limit enforced".into()),
        ),
    }
}
