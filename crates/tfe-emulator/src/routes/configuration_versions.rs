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
    OriginalUri(uri): OriginalUri,
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
        ListUrl::of(&emu, &uri),
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

/// `GET /configuration-versions/:id/download`: the archive as it was uploaded (the API redirects to it; the
/// emulator answers with it). A configuration not uploaded (pending, or a VCS workspace's, which the emulator
/// does not fetch) has none: 404.
pub(super) async fn download_cv(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let cv = store
        .configuration_versions
        .get(&id)
        .ok_or_else(|| ApiError::not_found("configuration version"))?;
    let archive = cv.archive.clone().ok_or_else(|| {
        ApiError::new(
            404,
            format!(
                "configuration version {id} has no archive: nothing was uploaded to it (the emulator fetches nothing from VCS)"
            ),
        )
    })?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )],
        archive,
    )
        .into_response())
}

/// The upload URL: any bytes are accepted. The configuration becomes `uploaded` (and may queue a run) at once,
/// or after the `configuration_upload_ms` knob, staying `pending` until then.
pub(super) async fn upload_cv(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    let ws_id = store
        .configuration_versions
        .get(&id)
        .map(|cv| cv.workspace_id.clone())
        .ok_or_else(|| ApiError::not_found("configuration version"))?;
    let delay = store
        .effective_knobs(&ws_id)
        .configuration_upload_ms
        .unwrap_or(0);
    let cv = store
        .configuration_versions
        .get_mut(&id)
        .expect("configuration version exists");
    if cv.recorded_status != "pending" || cv.ready_at.is_some() {
        return Err(ApiError::new(
            409,
            "Configuration version was already uploaded.",
        ));
    }
    cv.archive = Some(body.to_vec());
    if delay == 0 {
        cv.recorded_status = "uploaded".into();
        cv.timestamps
            .insert("uploaded-at".into(), crate::store::timestamp(now()));
        queue_upload_run(&emu, &mut store, &id);
    } else {
        cv.ready_at = Some(crate::store::after_ms(delay));
        let emu = emu.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            let mut store = emu.store.lock().unwrap();
            queue_upload_run(&emu, &mut store, &id);
        });
    }
    Ok(axum::http::StatusCode::OK.into_response())
}

/// The run an upload queues once it is processed, when its configuration version auto-queues runs (and it and
/// its workspace still exist).
fn queue_upload_run(emu: &Shared, store: &mut Store, cv_id: &str) {
    let Some(cv) = store.configuration_versions.get(cv_id) else {
        return;
    };
    let (ws_id, auto, speculative) = (cv.workspace_id.clone(), cv.auto_queue_runs, cv.speculative);
    if let Some(ws) = store.workspaces.get(&ws_id).filter(|_| auto) {
        let auto_apply = ws.auto_apply;
        let run = store.new_run(NewRun {
            auto_apply,
            plan_only: speculative,
            ..NewRun::new(
                &ws_id,
                cv_id,
                "user-emulator-1",
                "tfe-configuration-version",
                "Queued manually via the API",
            )
        });
        run_machine::enqueue(emu, store, &run);
    }
}
