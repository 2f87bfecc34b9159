//! Archivist's objects: `GET /_archivist/v1/object/:secret` (no token: the URL's secret is the credential).
//! A run log is `text/plain`, with the `offset` and `limit` query parameters a tailing reader sends (go-tfe asks
//! for `limit=N&offset=M` until it sees the ETX byte; see [`crate::logs`]); a state version's
//! `hosted-state-download-url` gives its state file and `hosted-json-state-download-url` the `show -json` form.

use super::*;
use crate::logs;

/// A byte count from the query (`offset`, `limit`), or a 400 naming it.
fn count(q: &HashMap<String, String>, name: &str) -> Result<Option<usize>, ApiError> {
    match param(q, name) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            ApiError::new(
                400,
                format!("{name} must be a non-negative integer (a byte count), got {v:?}"),
            )
        }),
    }
}

/// A run log or a state file, by the secret in its URL.
pub(super) async fn read_log(
    State(emu): State<Shared>,
    Path(secret): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let offset = count(&q, "offset")?.unwrap_or(0);
    let limit = count(&q, "limit")?;
    let bytes = {
        let store = emu.store.lock().unwrap();
        if let Some((state_version, json_form)) = store.state_version_by_secret(&secret) {
            let body = if json_form {
                state_version.json_state().to_string().into_bytes()
            } else {
                state_version.state_bytes()
            };
            let mut response = body.into_response();
            response.headers_mut().insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Ok(response);
        }
        let (run, kind) = store
            .run_by_log_id(&secret)
            .ok_or_else(|| ApiError::not_found("log"))?;
        logs::log_bytes(&store, run, kind)
    };
    let chunk = Bytes::copy_from_slice(logs::window(&bytes, offset, limit));
    let mut response = chunk.into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}
