//! Workspaces: CRUD by id and by name, safe delete, lock and unlock.

use super::*;
use crate::store::WorkspaceSettings;

pub(super) const WORKSPACE_INCLUDES: &[&str] = &[
    "current_run",
    "current_run.plan",
    "locked_by",
    "organization",
    "current_configuration_version",
    "current_state_version",
    "outputs",
    "project",
    "readme",
];

pub(super) fn workspace_doc(
    store: &Store,
    ws_id: &str,
    q: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    let ws = store
        .workspaces
        .get(ws_id)
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    let mut doc = json!({"data": render::workspace(store, ws)});
    let wanted = includes(store, q, WORKSPACE_INCLUDES)?;
    let included = workspace_included(store, ws, &wanted);
    if !included.is_empty() {
        doc["included"] = json!(included);
    }
    Ok(doc)
}

/// What `wanted` (the request's `include`) adds for one workspace, as a read of it or a list shows it.
fn workspace_included(
    store: &Store,
    ws: &crate::store::Workspace,
    wanted: &[String],
) -> Vec<Value> {
    let ws_id = ws.id.as_str();
    let mut included = Vec::new();
    for inc in wanted {
        match inc.as_str() {
            "current_run" => included.extend(
                ws.current_run
                    .as_ref()
                    .and_then(|id| store.runs.get(id))
                    .map(|r| render::run(store, r, None)),
            ),
            "current_run.plan" => included.extend(
                ws.current_run
                    .as_ref()
                    .and_then(|id| store.runs.get(id))
                    .map(render::plan),
            ),
            "organization" => included.extend(
                store
                    .organizations
                    .get(&ws.organization)
                    .map(|o| render::organization(store, o)),
            ),
            "locked_by" => match &ws.lock {
                Some(crate::store::Lock::Run(id)) => {
                    included.extend(store.runs.get(id).map(|r| render::run(store, r, None)))
                }
                Some(crate::store::Lock::User { user_id, .. }) => {
                    included.push(render::user(user_id))
                }
                None => {}
            },
            "current_configuration_version" => included.extend(
                store
                    .current_configuration_version(ws_id)
                    .map(|cv| render::configuration_version(cv, None)),
            ),
            "current_state_version" => included.extend(
                store
                    .current_state_version(ws_id)
                    .map(|sv| render::state_version(store, sv)),
            ),
            "outputs" => included.extend(
                store
                    .current_state_version(ws_id)
                    .filter(|sv| sv.processed())
                    .into_iter()
                    .flat_map(|sv| sv.outputs.iter().map(render::workspace_output)),
            ),
            _ => {}
        }
    }
    included
}

pub(super) fn ws_id_by_name(store: &Store, org: &str, name: &str) -> Result<String, ApiError> {
    store
        .workspace_by_name(org, name)
        .map(|w| w.id.clone())
        .ok_or_else(|| ApiError::not_found("workspace"))
}

/// Applies create/update attributes to a workspace.
/// The descriptive settings a create or update sends, over `current`; a bad one is a 422.
fn read_settings(body: &Bytes, current: &WorkspaceSettings) -> Result<WorkspaceSettings, ApiError> {
    let doc = body_json(body)?;
    let mut settings = current.clone();
    if let Some(description) = extra_attribute::<String>(&doc, "description")? {
        settings.description = Some(description);
    }
    let flags: [(&'static str, &mut bool); 3] = [
        ("global-remote-state", &mut settings.global_remote_state),
        (
            "auto-apply-run-trigger",
            &mut settings.auto_apply_run_trigger,
        ),
        ("assessments-enabled", &mut settings.assessments_enabled),
    ];
    for (name, flag) in flags {
        if let Some(value) = extra_attribute::<bool>(&doc, name)? {
            *flag = value;
        }
    }
    if let Some(name) = extra_attribute::<String>(&doc, "source-name")? {
        settings.source_name = Some(name);
    }
    if let Some(url) = extra_attribute::<String>(&doc, "source-url")? {
        settings.source_url = Some(url);
    }
    if let Some(tags) = extra_attribute::<Vec<String>>(&doc, "tag-names")? {
        settings.tag_names = tags;
    }
    if let Some(patterns) = extra_attribute::<Vec<String>>(&doc, "trigger-patterns")? {
        settings.trigger_patterns = patterns;
    }
    if let Some(at) = extra_attribute::<String>(&doc, "auto-destroy-at")? {
        let parsed =
            time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339)
                .map_err(|_| {
                    ApiError::unprocessable(format!(
                "auto-destroy-at {at:?} is not a time: use RFC 3339, e.g. 2030-01-31T12:00:00Z"
            ))
            .invalid_attribute("auto-destroy-at")
                })?;
        settings.auto_destroy_at = Some(crate::store::timestamp(parsed));
    }
    if let Some(duration) = extra_attribute::<String>(&doc, "auto-destroy-activity-duration")? {
        let (count, unit) = duration.split_at(duration.len().saturating_sub(1));
        if !(matches!(unit, "d" | "h") && count.parse::<u32>().is_ok_and(|n| n > 0)) {
            return Err(ApiError::unprocessable(format!(
                "auto-destroy-activity-duration {duration:?} is invalid: a number of days or hours, e.g. 14d or 12h"
            ))
            .invalid_attribute("auto-destroy-activity-duration"));
        }
        settings.auto_destroy_activity_duration = Some(duration);
    }
    Ok(settings)
}

pub(super) fn apply_workspace_attributes(
    store: &mut Store,
    ws_id: &str,
    request: WorkspaceOptions,
    body: &Bytes,
) -> Result<(), ApiError> {
    let settings = read_settings(body, &store.workspaces[ws_id].settings)?;
    // pytfe sends `"vcs-repo": {}` for "no VCS": only a repository identifier links the workspace;
    // `"vcs-repo": null` removes the connection.
    let vcs = request.vcs_repo.filter(|r| !r.identifier.is_empty());
    let unlink = request.clear_vcs_repo.0;
    // The deprecated `operations` mirrors the execution mode; an execution mode sent with it wins.
    let execution_mode = request.execution_mode.or_else(|| {
        request
            .operations
            .map(|remote| if remote { "remote" } else { "local" }.to_string())
    });
    if let Some(mode) = execution_mode
        .as_ref()
        .filter(|m| !["remote", "local", "agent"].contains(&m.as_str()))
    {
        return Err(ApiError::unprocessable(format!(
            "execution-mode {mode:?} is invalid; allowed: remote, local, agent"
        )));
    }
    if let Some(version) = &request.terraform_version {
        crate::terraform_versions::check(version).map_err(ApiError::unprocessable)?;
    }
    let new_name = request.name;
    let ws = &store.workspaces[ws_id];
    if let Some(name) = new_name.as_ref().filter(|name| {
        *name != &ws.name && store.workspace_by_name(&ws.organization, name).is_some()
    }) {
        return Err(ApiError::unprocessable(format!(
            "Name {name} has already been taken"
        )));
    }
    let ws = store.workspaces.get_mut(ws_id).expect("workspace exists");
    ws.settings = settings;
    if let Some(name) = new_name {
        ws.name = name;
    }
    if let Some(b) = request.auto_apply {
        ws.auto_apply = b;
    }
    if let Some(b) = request.queue_all_runs {
        ws.queue_all_runs = b;
    }
    if let Some(b) = request.allow_destroy_plan {
        ws.allow_destroy_plan = b;
    }
    if let Some(s) = execution_mode {
        ws.execution_mode = s;
        ws.execution_mode_overwritten = true;
    }
    if let Some(b) = request.file_triggers_enabled {
        ws.file_triggers_enabled = b;
    }
    if let Some(b) = request.speculative_enabled {
        ws.speculative_enabled = b;
    }
    if let Some(prefixes) = request.trigger_prefixes {
        ws.trigger_prefixes = prefixes;
    }
    if let Some(b) = request.structured_run_output_enabled {
        ws.structured_run_output_enabled = b;
    }
    if let Some(s) = request.terraform_version {
        ws.terraform_version = s;
    }
    if let Some(s) = request.working_directory {
        ws.working_directory = s;
    }
    let linked = vcs.is_some() && ws.vcs_repo.is_none();
    if let Some(v) = vcs {
        ws.vcs_repo = Some(v);
    } else if unlink {
        ws.vcs_repo = None;
    }
    ws.updated_at = now();
    if linked {
        store.new_configuration_version(ws_id, "tfe-api", true, false, true);
    }
    Ok(())
}

pub(super) async fn create_workspace(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    user_ext: Option<Extension<UserId>>,
    body: Bytes,
) -> ApiResult {
    let request: WorkspaceOptions = document(&body)?;
    let name = request
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::unprocessable("Name can't be blank"))?;
    let mut store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    if store.workspace_by_name(&org, &name).is_some() {
        return Err(ApiError::unprocessable(format!(
            "Name {name} has already been taken"
        )));
    }
    let id = store.new_workspace(&org, &name);
    if let Err(e) = apply_workspace_attributes(&mut store, &id, request, &body) {
        store.workspaces.remove(&id);
        return Err(e);
    }
    let ws = &store.workspaces[&id];
    let queued_cv = store
        .current_configuration_version(&id)
        .map(|c| c.id.clone())
        .filter(|_| ws.queue_all_runs);
    if let Some(cv) = queued_cv {
        let auto = ws.auto_apply;
        let run = store.new_run(NewRun {
            auto_apply: auto,
            ..NewRun::new(
                &id,
                &cv,
                &user(&user_ext),
                "tfe-configuration-version",
                "Queued automatically",
            )
        });
        run_machine::enqueue(&emu, &mut store, &run);
    }
    let doc = workspace_doc(&store, &id, &HashMap::new())?;
    Ok(jsonapi(201, doc))
}

pub(super) async fn list_workspaces(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    Query(q): Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    let search = param(&q, "search[name]");
    let wanted = includes(&store, &q, WORKSPACE_INCLUDES)?;
    let listed: Vec<&crate::store::Workspace> = store
        .workspaces
        .values()
        .filter(|w| w.organization == org && search.is_none_or(|s| w.name.contains(s)))
        .collect();
    let render = |w: &&crate::store::Workspace| render::workspace(&store, w);
    let mut doc = paginate_with(
        listed.iter().collect(),
        render,
        &q,
        true,
        ListUrl::of(&emu, &uri),
    )?;
    // What the single read includes, for each workspace on this page (the organization once).
    let on_page: std::collections::HashSet<&str> = doc["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["id"].as_str())
        .collect();
    let mut included: Vec<Value> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for ws in listed.iter().filter(|w| on_page.contains(w.id.as_str())) {
        for item in workspace_included(&store, ws, &wanted) {
            let key = (item["type"].to_string(), item["id"].to_string());
            if seen.insert(key) {
                included.push(item);
            }
        }
    }
    if !included.is_empty() {
        doc["included"] = json!(included);
    }
    ok(doc)
}

pub(super) async fn read_workspace(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    ok(workspace_doc(&store, &id, &q)?)
}

pub(super) async fn read_workspace_by_name(
    State(emu): State<Shared>,
    Path((org, name)): Path<(String, String)>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let id = ws_id_by_name(&store, &org, &name)?;
    ok(workspace_doc(&store, &id, &q)?)
}

pub(super) fn update_ws(emu: &Shared, id: &str, body: &Bytes) -> ApiResult {
    let request: WorkspaceOptions = document(body)?;
    let mut store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(id) {
        return Err(ApiError::not_found("workspace"));
    }
    apply_workspace_attributes(&mut store, id, request, body)?;
    ok(workspace_doc(&store, id, &HashMap::new())?)
}

pub(super) async fn update_workspace(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    update_ws(&emu, &id, &body)
}

pub(super) async fn update_workspace_by_name(
    State(emu): State<Shared>,
    Path((org, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let id = ws_id_by_name(&emu.store.lock().unwrap(), &org, &name)?;
    update_ws(&emu, &id, &body)
}

pub(super) fn remove_workspace(store: &mut Store, id: &str, safe: bool) -> ApiResult {
    let ws = store
        .workspaces
        .get(id)
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    if safe {
        if ws.lock.is_some() {
            return Err(ApiError::new(
                409,
                "Workspace is currently locked and cannot be deleted.",
            ));
        }
        if ws.resource_count > 0 {
            return Err(ApiError::new(
                409,
                "Workspace is still managing resources and cannot be safely deleted.",
            ));
        }
    }
    let workspace_name = ws.name.clone();
    store.workspaces.remove(id);
    store.state_versions.retain(|_, sv| sv.workspace_id != id);
    store.variables.retain(|_, v| v.workspace_id != id);
    let runs: Vec<String> = store
        .runs
        .values()
        .filter(|r| r.workspace_id == id)
        .map(|r| r.id.clone())
        .collect();
    for run in runs {
        if let Some(r) = store.runs.get_mut(&run) {
            r.generation += 1;
            r.holds_worker = false;
        }
        if let Some(removed) = store.runs.remove(&run) {
            store.deleted_runs.push((workspace_name.clone(), removed));
        }
    }
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn delete_workspace(
    State(emu): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult {
    remove_workspace(&mut emu.store.lock().unwrap(), &id, false)
}

pub(super) async fn delete_workspace_by_name(
    State(emu): State<Shared>,
    Path((org, name)): Path<(String, String)>,
) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    let id = ws_id_by_name(&store, &org, &name)?;
    remove_workspace(&mut store, &id, false)
}

pub(super) async fn safe_delete_by_name(
    State(emu): State<Shared>,
    Path((org, name)): Path<(String, String)>,
) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    let id = ws_id_by_name(&store, &org, &name)?;
    remove_workspace(&mut store, &id, true)
}

pub(super) async fn workspace_action(
    State(emu): State<Shared>,
    Path((id, action)): Path<(String, String)>,
    user_ext: Option<Extension<UserId>>,
    body: Bytes,
) -> ApiResult {
    let body = body_json(&body)?;
    let mut store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&id) {
        return Err(ApiError::not_found("workspace"));
    }
    let who = user(&user_ext);
    match action.as_str() {
        "lock" => {
            // pytfe and the docs send {"reason"} at the top level; go-tfe puts it under data.attributes.
            let reason = body
                .get("reason")
                .or_else(|| body.pointer("/data/attributes/reason"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            run_machine::lock_workspace(&mut store, &id, &who, &reason)?;
        }
        "unlock" => run_machine::unlock_workspace(&emu, &mut store, &id, &who)?,
        "force-unlock" => run_machine::force_unlock_workspace(&emu, &mut store, &id)?,
        "safe-delete" => return remove_workspace(&mut store, &id, true),
        other => {
            return Err(ApiError::not_found(&format!(
                "workspace action {other:?} (allowed: lock, unlock, force-unlock, safe-delete)"
            )));
        }
    }
    ok(workspace_doc(&store, &id, &HashMap::new())?)
}

/// `GET /workspaces/:id/relationships/remote-state-consumers`: the workspaces allowed to read this one's state
/// besides every workspace of the organization (`global-remote-state`); the emulator keeps none.
pub(super) async fn remote_state_consumers(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&id) {
        return Err(ApiError::not_found("workspace"));
    }
    ok(paginate(Vec::new(), &q, true, ListUrl::of(&emu, &uri))?)
}

/// `GET /workspaces/:id/tag-bindings` and `.../effective-tag-bindings`: key-value tags; the emulator keeps only
/// flat tags (`tag-names`), so there are none.
pub(super) async fn tag_bindings(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&id) {
        return Err(ApiError::not_found("workspace"));
    }
    ok(json!({"data": []}))
}
