//! Every error answer is a JSON:API error document: an error that axum produced itself (an extractor's
//! rejection, such as a body over its size limit or a path segment that does not parse) comes as plain text,
//! and becomes `{"errors":[{"status", "title", "detail": <that text>}]}` with the same status. Answers a
//! fault rule shaped are left as the rule made them.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, is_abandoned, note_of};

pub(crate) async fn error_documents(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if status.as_u16() < 400 || is_abandoned(&response) || note_of(&response).is_some() {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    if is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let detail = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    let mut answer = ApiError::new(status.as_u16(), detail).into_response();
    // Keep what else the answer said (Allow, rate-limit headers), with the document's type and length.
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}
