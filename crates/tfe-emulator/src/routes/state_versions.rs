//! State versions and their outputs: the workspace's current state version, one by id, a state's outputs, one
//! output, the workspace's current outputs, and the organization-wide list by workspace name. Sensitive output
//! values are `null` everywhere but `GET /state-version-outputs/:id`, which gives them to a token that may read
//! the state (every emulator token may), as `tfe_outputs` needs. The state file itself is served on the
//! archivist path beside the run logs ([`super::logs`]).

use super::*;

/// What `?include=` takes on a state version (go-tfe's and pytfe's names).
const STATE_VERSION_INCLUDES: &[&str] = &[
    "outputs",
    "run",
    "created_by",
    "run.created_by",
    "run.configuration_version",
];

/// A state version document with the includes `q` asks for.
fn state_version_doc(
    store: &Store,
    sv: &crate::store::StateVersion,
    q: &HashMap<String, String>,
) -> Result<Value, ApiError> {
    let mut doc = json!({"data": render::state_version(store, sv)});
    let run = sv.run_id.as_ref().and_then(|id| store.runs.get(id));
    let mut included = Vec::new();
    for inc in includes(store, q, STATE_VERSION_INCLUDES)? {
        match inc.as_str() {
            "outputs" if sv.processed() => included.extend(
                sv.outputs
                    .iter()
                    .map(|o| render::state_version_output(o, false)),
            ),
            "run" => included.extend(run.map(|r| render::run(store, r, None))),
            "created_by" => included.push(render::user(&sv.created_by)),
            "run.created_by" => included.extend(run.map(|r| render::user(&r.created_by))),
            "run.configuration_version" => included.extend(
                run.and_then(|r| {
                    store
                        .configuration_versions
                        .get(&r.configuration_version_id)
                })
                .map(|cv| render::configuration_version(cv, None)),
            ),
            _ => {}
        }
    }
    if !included.is_empty() {
        doc["included"] = json!(included);
    }
    Ok(doc)
}

/// `GET /workspaces/:id/current-state-version`: 404 for a workspace without one, as the API answers.
pub(super) async fn current_state_version(
    State(emu): State<Shared>,
    Path(ws_id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&ws_id) {
        return Err(ApiError::not_found("workspace"));
    }
    let sv = store
        .current_state_version(&ws_id)
        .ok_or_else(|| ApiError::not_found("current state version"))?;
    ok(state_version_doc(&store, sv, &q)?)
}

pub(super) async fn read_state_version(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let sv = store
        .state_versions
        .get(&id)
        .ok_or_else(|| ApiError::not_found("state version"))?;
    ok(state_version_doc(&store, sv, &q)?)
}

/// `GET /state-versions?filter[workspace][name]=&filter[organization][name]=`: a workspace's state versions,
/// newest first.
pub(super) async fn list_state_versions(
    State(emu): State<Shared>,
    Query(q): Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult {
    let (Some(org), Some(name)) = (
        param(&q, "filter[organization][name]"),
        param(&q, "filter[workspace][name]"),
    ) else {
        return Err(ApiError::unprocessable(
            "filter[workspace][name] and filter[organization][name] are required",
        ));
    };
    let store = emu.store.lock().unwrap();
    let ws_id = super::workspaces::ws_id_by_name(&store, org, name)?;
    let mut versions: Vec<&crate::store::StateVersion> = store
        .state_versions
        .values()
        .filter(|sv| sv.workspace_id == ws_id)
        .collect();
    versions.sort_by_key(|sv| std::cmp::Reverse(sv.seq));
    let items = versions
        .into_iter()
        .map(|sv| render::state_version(&store, sv))
        .collect();
    ok(paginate(items, &q, true, ListUrl::of(&emu, &uri))?)
}

/// `GET /state-versions/:id/outputs`: empty until the state version is processed.
pub(super) async fn state_version_outputs(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let sv = store
        .state_versions
        .get(&id)
        .ok_or_else(|| ApiError::not_found("state version"))?;
    let items = if sv.processed() {
        sv.outputs
            .iter()
            .map(|o| render::state_version_output(o, false))
            .collect()
    } else {
        Vec::new()
    };
    ok(paginate(items, &q, true, ListUrl::of(&emu, &uri))?)
}

/// `GET /state-version-outputs/:id`: the output, its value even when sensitive.
pub(super) async fn read_state_version_output(
    State(emu): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let output = store
        .state_output(&id)
        .filter(|(sv, _)| sv.processed())
        .map(|(_, o)| render::state_version_output(o, true))
        .ok_or_else(|| ApiError::not_found("state version output"))?;
    ok(json!({"data": output}))
}

/// `GET /workspaces/:id/current-state-version-outputs`: 503 while the outputs are processed, as the API
/// answers; sensitive values `null`.
pub(super) async fn current_state_version_outputs(
    State(emu): State<Shared>,
    Path(ws_id): Path<String>,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&ws_id) {
        return Err(ApiError::not_found("workspace"));
    }
    let sv = store
        .current_state_version(&ws_id)
        .ok_or_else(|| ApiError::not_found("current state version outputs"))?;
    if !sv.processed() {
        return Err(ApiError::new(
            503,
            "State version outputs are being processed and are not ready. Retry the request.",
        ));
    }
    let data: Vec<Value> = sv
        .outputs
        .iter()
        .map(|o| render::state_version_output(o, false))
        .collect();
    ok(json!({"data": data}))
}
