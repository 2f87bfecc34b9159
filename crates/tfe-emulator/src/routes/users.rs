//! `GET /users/:id`: the users the emulator knows, which runs' `created-by`, locks' `locked-by` and state versions'
//! `created-by` name: the user of each accepted token (`user-emulator-N`) and the web page's
//! (`user-emulator-ui`).

use super::*;

pub(super) async fn read_user(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let known = id == crate::ui::UI_USER
        || id
            .strip_prefix("user-emulator-")
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| (1..=emu.tokens.len()).contains(&n));
    if !known {
        return Err(ApiError::not_found("user"));
    }
    ok(json!({"data": render::user(&id)}))
}
