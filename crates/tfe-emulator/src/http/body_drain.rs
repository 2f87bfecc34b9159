//! Reads every request body before anything answers. Over HTTP/2 an answer sent while the client is still
//! sending (a 401 before auth looked at a POST's body, a 404 for an unknown route, a 405) ends the stream with
//! a reset, and clients such as curl then report a framing error instead of the status. With the body read
//! first, every client gets the status. Bodies over [`MAX_BODY_BYTES`] get a 413.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// The largest request body the emulator reads (configuration uploads included).
pub(crate) const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

pub(crate) async fn body_drain(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(e) => ApiError::new(
            413,
            format!(
                "the request body could not be read whole (at most {MAX_BODY_BYTES} bytes): {e}"
            ),
        )
        .into_response(),
    }
}
