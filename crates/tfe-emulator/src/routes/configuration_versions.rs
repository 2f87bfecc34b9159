//! Configuration versions and the upload URL.

use super::*;

pub(super) async fn create_cv(
    State(emu): State<Shared>,
    Path(ws_id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let request: ConfigurationVersionOptions = document(&body)?;
    let auto_queue = request.auto_queue_runs.unwrap_or(true);
    let speculative = request.speculative.unwrap_or(false);
    let mut store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&ws_id) {
        return Err(ApiError::not_found("workspace"));
    }
    let id = store.new_configuration_version(&ws_id, "tfe-api", false, speculative, auto_queue);
    if let Some(p) = request.provisional {
        store
            .configuration_versions
            .get_mut(&id)
            .expect("cv exists")
            .provisional = p;
    }
    let url = format!("{}/_archivist/upload/{id}", emu.base_url());
    Ok(jsonapi(
        201,
        json!({"data": render::configuration_version(&store.configuration_versions[&id], Some(url))}),
    ))
}

pub(super) async fn list_cvs(
    State(emu): State<Shared>,
    Path(ws_id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&ws_id) {
        return Err(ApiError::not_found("workspace"));
    }
    let mut cvs: Vec<_> = store
        .configuration_versions
        .values()
        .filter(|c| c.workspace_id == ws_id)
        .collect();
    cvs.sort_by_key(|c| std::cmp::Reverse(c.seq));
    ok(paginate(
        cvs.into_iter()
            .map(|c| render::configuration_version(c, None))
            .collect(),
        &q,
        true,
    )?)
}

pub(super) async fn read_cv(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let cv = store
        .configuration_versions
        .get(&id)
        .ok_or_else(|| ApiError::not_found("configuration version"))?;
    ok(json!({"data": render::configuration_version(cv, None)}))
}

/// The upload URL: any bytes are accepted; the configuration becomes `uploaded` and may queue a run.
pub(super) async fn upload_cv(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    let cv = store
        .configuration_versions
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found("configuration version"))?;
    if cv.status != "pending" {
        return Err(ApiError::new(
            409,
            "Configuration version was already uploaded.",
        ));
    }
    cv.status = "uploaded".into();
    cv.timestamps
        .insert("uploaded-at".into(), crate::store::timestamp(now()));
    let (ws_id, auto, speculative) = (cv.workspace_id.clone(), cv.auto_queue_runs, cv.speculative);
    if let Some(ws) = store.workspaces.get(&ws_id).filter(|_| auto) {
        let auto_apply = ws.auto_apply;
        let run = store.new_run(NewRun {
            auto_apply,
            plan_only: speculative,
            ..NewRun::new(
                &ws_id,
                &id,
                "user-emulator-1",
                "tfe-configuration-version",
                "Queued manually via the API",
            )
        });
        run_machine::enqueue(&emu, &mut store, &run);
    }
    Ok(axum::http::StatusCode::OK.into_response())
}
