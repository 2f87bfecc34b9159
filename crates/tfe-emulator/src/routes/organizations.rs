//! Organizations and their capacity. Besides the name, email, cost estimation and session lengths, create and
//! update take the settings the reference lists for them (the collaborator auth policy, the default execution
//! mode new workspaces get, ...), which every read returns.

use super::*;
use crate::store::OrganizationSettings;

/// Applies the settings a create or update sends; a bad one is a 422 and changes nothing.
fn read_settings(
    body: &Bytes,
    current: &OrganizationSettings,
) -> Result<OrganizationSettings, ApiError> {
    let doc = body_json(body)?;
    let mut settings = current.clone();
    if let Some(policy) = extra_attribute::<String>(&doc, "collaborator-auth-policy")? {
        one_of(
            "collaborator-auth-policy",
            &policy,
            &["password", "two_factor_mandatory"],
        )?;
        settings.collaborator_auth_policy = policy;
    }
    if let Some(mode) = extra_attribute::<String>(&doc, "default-execution-mode")? {
        one_of(
            "default-execution-mode",
            &mode,
            &["remote", "local", "agent"],
        )?;
        settings.default_execution_mode = mode;
    }
    let flags: [(&'static str, &mut bool); 5] = [
        ("assessments-enforced", &mut settings.assessments_enforced),
        (
            "allow-force-delete-workspaces",
            &mut settings.allow_force_delete_workspaces,
        ),
        (
            "send-passing-statuses-for-untriggered-speculative-plans",
            &mut settings.send_passing_statuses_for_untriggered_speculative_plans,
        ),
        (
            "aggregated-commit-status-enabled",
            &mut settings.aggregated_commit_status_enabled,
        ),
        (
            "speculative-plan-management-enabled",
            &mut settings.speculative_plan_management_enabled,
        ),
    ];
    for (name, flag) in flags {
        if let Some(value) = extra_attribute::<bool>(&doc, name)? {
            *flag = value;
        }
    }
    if let Some(role) = extra_attribute::<String>(&doc, "owners-team-saml-role-id")? {
        settings.owners_team_saml_role_id = Some(role).filter(|r| !r.is_empty());
    }
    Ok(settings)
}

/// An organization's document; a new one's includes its entitlement set, as the API's create answer does.
fn organization_doc(store: &Store, name: &str, with_entitlements: bool) -> Value {
    let org = &store.organizations[name];
    let mut doc = json!({"data": render::organization(store, org)});
    if with_entitlements {
        doc["included"] = json!([render::entitlement_set(store, org)]);
    }
    doc
}

pub(super) async fn create_organization(State(emu): State<Shared>, body: Bytes) -> ApiResult {
    let request: OrganizationOptions = document(&body)?;
    let settings = read_settings(&body, &OrganizationSettings::default())?;
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
    org.settings = settings;
    Ok(jsonapi(201, organization_doc(&store, &name, true)))
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
    ok(json!({"data": render::organization(&store, o)}))
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
    let settings = match store.organizations.get(&org) {
        Some(o) => read_settings(&body, &o.settings)?,
        None => return Err(ApiError::not_found("organization")),
    };
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
    // Workspaces that did not choose an execution mode follow the organization's default.
    let default_mode = settings.default_execution_mode.clone();
    for ws in store
        .workspaces
        .values_mut()
        .filter(|w| w.organization == org && !w.execution_mode_overwritten)
    {
        ws.execution_mode = default_mode.clone();
    }
    let o = store
        .organizations
        .get_mut(&org)
        .expect("organization exists");
    o.settings = settings;
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
    ok(organization_doc(&store, &org, false))
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
