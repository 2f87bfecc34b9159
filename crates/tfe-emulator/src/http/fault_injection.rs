//! The fault rules of docs/emulator.md, fired once per request: a delay, or an answer instead of the handler's
//! (429, a status, a reset, a huge body), or a change to the answer once it is made (a status, a reset, a
//! malformed body); a late commit is handed to the layer around the handler. Faults come before auth, so they
//! hit unauthenticated requests too.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{
    ApiError, JSONAPI, LateCommit, connection_reset, is_abandoned, note_of, rate_limited,
    rate_limited_raw, with_note,
};
use crate::faults::{FaultKind, Malformed, When};
use crate::state::Shared;

/// What replaces a handler's answer once it ran.
enum After {
    Status(u16),
    Reset,
    Malformed(Malformed),
}

pub(super) async fn fault_injection(
    State(emu): State<Shared>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
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
        None => {
            if let Some(ms) = late_commit {
                request.extensions_mut().insert(LateCommit(ms));
            }
            let response = next.run(request).await;
            if is_abandoned(&response) {
                return response;
            }
            // An inner refusal's note (the enforced rate limit) wins over a delay's.
            fault_note = note_of(&response).or(fault_note);
            response
        }
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
    with_note(response, fault_note)
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
