//! The rate limit: each user's token bucket, its state in `X-RateLimit-Remaining` and `X-RateLimit-Reset`
//! on every answer, and a 429 when the bucket is empty and the limit is enforced (`--enforce-rate-limit`).
//! Requests without a user (the public paths) are not counted.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

use super::{UserId, is_abandoned, rate_limited, with_note};
use crate::state::{RateBudget, Shared};

pub(super) async fn rate_limit(
    State(emu): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let Some(UserId(user)) = request.extensions().get::<UserId>().cloned() else {
        return next.run(request).await;
    };
    let Some(budget) = emu.take_rate_token(&user) else {
        return next.run(request).await;
    };
    let mut response = if budget.allowed {
        next.run(request).await
    } else {
        with_note(
            rate_limited(budget.reset_seconds.max(0.001)),
            Some("429 rate limit enforced".into()),
        )
    };
    if !is_abandoned(&response) {
        state_budget(&mut response, budget);
    }
    response
}

/// The budget left, in the headers a TFE sends; a header already set (a fault's own values) is kept.
fn state_budget(response: &mut Response, budget: RateBudget) {
    let headers = response.headers_mut();
    if !headers.contains_key("x-ratelimit-remaining") {
        headers.insert("x-ratelimit-remaining", HeaderValue::from(budget.remaining));
    }
    if !headers.contains_key("x-ratelimit-reset")
        && let Ok(value) = HeaderValue::from_str(&format!("{:.3}", budget.reset_seconds))
    {
        headers.insert("x-ratelimit-reset", value);
    }
}
