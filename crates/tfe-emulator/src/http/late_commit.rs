//! A late commit, right around the handler (so only an admitted request commits): the handler runs after
//! the fault's delay, on its own task, and no answer is ever sent.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::request_log::record;
use super::{Abandoned, LateCommit, RequestInfo, connection_reset};
use crate::state::Shared;

pub(super) async fn late_commit(
    State(emu): State<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let Some(LateCommit(ms)) = request.extensions().get::<LateCommit>().copied() else {
        return next.run(request).await;
    };
    let info = request.extensions().get::<RequestInfo>().cloned();
    // Spawned, not awaited: hyper drops this future when the client hangs up, and the change must still
    // happen after that.
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        let response = next.run(request).await;
        if let Some(info) = info {
            record(
                &emu,
                info,
                response.status().as_u16(),
                Some(format!("late_commit {ms}ms (no answer sent)")),
            );
        }
    });
    // No answer: hold the connection until the client gives up (or an hour passes).
    tokio::time::sleep(Duration::from_secs(3600)).await;
    let mut response = connection_reset();
    response.extensions_mut().insert(Abandoned);
    response
}
