//! Organizations and their capacity.

use super::*;

pub(super) async fn create_organization(State(emu): State<Shared>, body: Bytes) -> ApiResult {
    let request: OrganizationOptions = document(&body)?;
    let name = request
        .name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::unprocessable("Name can't be blank"))?;
    check_name(&name)?;
    let email = request
        .email
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ApiError::unprocessable("Email can't be blank"))?;
    let cost = request.cost_estimation_enabled.unwrap_or(false);
    let mut store = emu.store.lock().unwrap();
    if store.organizations.contains_key(&name) {
        return Err(ApiError::unprocessable(format!(
            "Name {name} has already been taken"
        )));
    }
    store.new_organization(&name, &email, cost);
    let org = store.organizations.get_mut(&name).expect("just created");
    org.session_timeout = request.session_timeout;
    org.session_remember = request.session_remember;
    Ok(jsonapi(201, json!({"data": render::organization(org)})))
}

/// An organization name: letters, numbers, `-` and `_`.
fn check_name(name: &str) -> Result<(), ApiError> {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err(ApiError::unprocessable(format!(
            "Name {name:?} is invalid: only letters, numbers, - and _ are allowed"
        )))
    }
}

pub(super) async fn read_organization(
    State(emu): State<Shared>,
    Path(org): Path<String>,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let o = store
        .organizations
        .get(&org)
        .ok_or_else(|| ApiError::not_found("organization"))?;
    ok(json!({"data": render::organization(o)}))
}

pub(super) async fn update_organization(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    body: Bytes,
) -> ApiResult {
    let OrganizationOptions {
        name,
        email,
        cost_estimation_enabled: cost,
        session_timeout,
        session_remember,
    } = document(&body)?;
    if email.as_deref() == Some("") {
        return Err(ApiError::unprocessable("Email can't be blank"));
    }
    let rename = name.filter(|n| *n != org);
    if let Some(name) = &rename {
        check_name(name)?;
    }
    let mut store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    // A rename: the organization is then reachable under its new name only (its id is its name).
    let org = match rename {
        Some(name) if store.organizations.contains_key(&name) => {
            return Err(ApiError::unprocessable(format!(
                "Name {name} has already been taken"
            )));
        }
        Some(name) => {
            store.rename_organization(&org, &name);
            name
        }
        None => org,
    };
    let o = store
        .organizations
        .get_mut(&org)
        .expect("organization exists");
    if let Some(email) = email {
        o.email = email;
    }
    if let Some(cost) = cost {
        o.cost_estimation_enabled = cost;
    }
    if let Some(minutes) = session_timeout {
        o.session_timeout = Some(minutes);
    }
    if let Some(minutes) = session_remember {
        o.session_remember = Some(minutes);
    }
    ok(json!({"data": render::organization(o)}))
}

pub(super) async fn delete_organization(
    State(emu): State<Shared>,
    Path(org): Path<String>,
) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    store
        .organizations
        .remove(&org)
        .ok_or_else(|| ApiError::not_found("organization"))?;
    let ws_ids: Vec<String> = store
        .workspaces
        .values()
        .filter(|w| w.organization == org)
        .map(|w| w.id.clone())
        .collect();
    for id in ws_ids {
        store.workspaces.remove(&id);
    }
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn capacity(State(emu): State<Shared>, Path(org): Path<String>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    let pending = run_machine::waiting_for_worker(&store, &org).len();
    let running = store
        .runs
        .values()
        .filter(|r| r.organization == org && r.holds_worker)
        .count();
    ok(
        json!({"data": {"id": org, "type": "organization-capacity", "attributes": {"pending": pending, "running": running}}}),
    )
}
