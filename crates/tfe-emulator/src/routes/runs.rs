//! Runs and what hangs off them: plans, applies, cost estimates, policy checks, task stages, the organization's run list and queue.

use super::*;

pub(super) async fn run_queue(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    Query(q): Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    let items = run_machine::waiting_for_worker(&store, &org)
        .iter()
        .enumerate()
        .map(|(i, id)| render::run(&store, &store.runs[id], Some(i as u32)))
        .collect();
    ok(paginate(items, &q, true, ListUrl::of(&emu, &uri))?)
}

/// Runs matching the list filters, newest first.
pub(super) fn filtered_runs<'s>(
    store: &'s Store,
    q: &HashMap<String, String>,
    keep: impl Fn(&crate::store::Run) -> bool,
) -> Vec<&'s crate::store::Run> {
    let list =
        |name: &str| param(q, name).map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>());
    let statuses = list("filter[status]");
    let operations = list("filter[operation]");
    let ws_names = list("filter[workspace_names]");
    let mut runs: Vec<&crate::store::Run> = store
        .runs
        .values()
        .filter(|r| keep(r))
        .filter(|r| {
            statuses
                .as_ref()
                .is_none_or(|s| s.iter().any(|s| s == r.status.as_str()))
        })
        .filter(|r| {
            let op = if r.plan_only {
                "plan_only"
            } else if r.is_destroy {
                "destroy"
            } else {
                "plan_and_apply"
            };
            match &operations {
                Some(ops) => ops.iter().any(|o| o == op),
                None => !r.plan_only,
            }
        })
        .filter(|r| {
            ws_names.as_ref().is_none_or(|names| {
                store
                    .workspaces
                    .get(&r.workspace_id)
                    .is_some_and(|w| names.contains(&w.name))
            })
        })
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.seq));
    runs
}

pub(super) async fn org_runs(
    State(emu): State<Shared>,
    Path(org): Path<String>,
    Query(q): Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.organizations.contains_key(&org) {
        return Err(ApiError::not_found("organization"));
    }
    let items = filtered_runs(&store, &q, |r| r.organization == org);
    let render = |r: &crate::store::Run| render::run(&store, r, None);
    ok(paginate_with(
        items,
        render,
        &q,
        false,
        ListUrl::of(&emu, &uri),
    )?)
}

pub(super) async fn create_run(
    State(emu): State<Shared>,
    user_ext: Option<Extension<UserId>>,
    body: Bytes,
) -> ApiResult {
    let CreateRun {
        is_destroy,
        auto_apply: auto_apply_attr,
        message,
        plan_only: plan_only_attr,
        allow_empty_apply: allow_empty,
        refresh,
        refresh_only,
        target_addrs: targets,
        replace_addrs: replaces,
        variables,
        terraform_version,
        workspace_id: ws_id,
        configuration_version_id: cv_requested,
    } = document(&body)?;
    let refresh = refresh.unwrap_or(true);
    if refresh_only && is_destroy {
        return Err(ApiError::unprocessable(REFRESH_ONLY_DESTROY));
    }
    if let Some(variable) = variables.iter().find(|v| v.key.is_empty()) {
        return Err(ApiError::unprocessable(format!(
            "Run variables need a key: a variable with the value {:?} has none",
            variable.value.chars().take(40).collect::<String>()
        )));
    }

    let mut store = emu.store.lock().unwrap();
    let ws = store
        .workspaces
        .get(&ws_id)
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    let ws_auto_apply = ws.auto_apply;
    // A configuration version that has not arrived yet is taken all the same: the run's plan errors if it
    // has not arrived when the plan starts (see docs/emulator.md).
    let cv = match cv_requested.as_deref() {
        Some(cv_id) => store
            .configuration_versions
            .get(cv_id)
            .filter(|c| c.workspace_id == ws_id)
            .ok_or_else(|| ApiError::not_found("configuration version"))?,
        None => store
            .current_configuration_version(&ws_id)
            .ok_or_else(|| ApiError::unprocessable("Configuration version is missing"))?,
    };
    let cv_id = cv.id.clone();
    let plan_only = plan_only_attr || cv.speculative;
    if let Some(version) = &terraform_version {
        if !plan_only {
            return Err(ApiError::unprocessable(TERRAFORM_VERSION_PLAN_ONLY));
        }
        crate::terraform_versions::check(version).map_err(ApiError::unprocessable)?;
    }
    let message = message.unwrap_or_else(|| "Triggered via API".into());
    let run_id = store.new_run(NewRun {
        is_destroy,
        auto_apply: auto_apply_attr.unwrap_or(ws_auto_apply),
        plan_only,
        refresh,
        refresh_only,
        allow_empty_apply: allow_empty,
        target_addrs: targets,
        replace_addrs: replaces,
        variables,
        terraform_version,
        ..NewRun::new(&ws_id, &cv_id, &user(&user_ext), "tfe-api", message)
    });
    // Render before scheduling so the answer shows the run as created (pending), like TFE.
    let doc = json!({"data": render::run(&store, &store.runs[&run_id], None)});
    run_machine::enqueue(&emu, &mut store, &run_id);
    Ok(jsonapi(201, doc))
}

/// The 422 for a run that is both refresh-only and a destroy (the Runs API reference calls the two mutually
/// exclusive; this wording is the emulator's).
pub(super) const REFRESH_ONLY_DESTROY: &str =
    "Refresh-only runs cannot destroy: refresh-only and is-destroy are mutually exclusive.";

/// The 422 for a `terraform-version` on a run that is not plan-only (the reference allows it on plan-only runs
/// only; the wording is go-tfe's for the same check).
pub(super) const TERRAFORM_VERSION_PLAN_ONLY: &str =
    "setting terraform-version is only valid when plan-only is set to true";

pub(super) const RUN_INCLUDES: &[&str] = &[
    "plan",
    "apply",
    "workspace",
    "cost_estimate",
    "task_stages",
    "created_by",
    "configuration_version",
    "policy_checks",
    "workspace.organization",
];

pub(super) async fn read_run(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let run = store
        .runs
        .get(&id)
        .ok_or_else(|| ApiError::not_found("run"))?;
    let mut doc = json!({"data": render::run(&store, run, None)});
    let mut included = Vec::new();
    for inc in includes(&store, &q, RUN_INCLUDES)? {
        match inc.as_str() {
            "plan" => included.push(render::plan(run)),
            "apply" => included.push(render::apply(&store, run)),
            "workspace" => included.extend(
                store
                    .workspaces
                    .get(&run.workspace_id)
                    .map(|w| render::workspace(&store, w)),
            ),
            "workspace.organization" => included.extend(
                store
                    .organizations
                    .get(&run.organization)
                    .map(|o| render::organization(&store, o)),
            ),
            "cost_estimate" => included.extend(render::cost_estimate(run)),
            "policy_checks" => included.extend(render::policy_check(&store, run)),
            "created_by" => included.push(render::user(&run.created_by)),
            "configuration_version" => included.extend(
                store
                    .configuration_versions
                    .get(&run.configuration_version_id)
                    .map(|c| render::configuration_version(c, None)),
            ),
            "task_stages" => included.extend(render::task_stage(run)),
            _ => {}
        }
    }
    if !included.is_empty() {
        doc["included"] = json!(included);
    }
    ok(doc)
}

pub(super) async fn workspace_runs(
    State(emu): State<Shared>,
    Path(ws_id): Path<String>,
    Query(q): Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&ws_id) {
        return Err(ApiError::not_found("workspace"));
    }
    let items = filtered_runs(&store, &q, |r| r.workspace_id == ws_id);
    let render = |r: &crate::store::Run| render::run(&store, r, None);
    ok(paginate_with(
        items,
        render,
        &q,
        true,
        ListUrl::of(&emu, &uri),
    )?)
}

pub(super) async fn run_action(
    State(emu): State<Shared>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    // Only a comment can come with an action; this emulator does not keep it.
    RunActionOptions::from_body(&body_json(&body)?)
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let mut store = emu.store.lock().unwrap();
    if !store.runs.contains_key(&id) {
        return Err(ApiError::not_found("run"));
    }
    run_machine::RunAction::parse(&action, run_machine::RunAction::API)?
        .perform(&emu, &mut store, &id)?;
    Ok(jsonapi(202, json!({})))
}

pub(super) fn with_run(
    emu: &Shared,
    run_id: &str,
    f: impl Fn(&Store, &crate::store::Run) -> Option<Value>,
    what: &str,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let run = store
        .runs
        .get(run_id)
        .ok_or_else(|| ApiError::not_found(what))?;
    let data = f(&store, run).ok_or_else(|| ApiError::not_found(what))?;
    ok(json!({"data": data}))
}

pub(super) fn with_child(
    emu: &Shared,
    prefix: &str,
    id: &str,
    f: impl Fn(&Store, &crate::store::Run) -> Option<Value>,
    what: &str,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let run = store
        .run_by_child(prefix, id)
        .ok_or_else(|| ApiError::not_found(what))?;
    let data = f(&store, run).ok_or_else(|| ApiError::not_found(what))?;
    ok(json!({"data": data}))
}

pub(super) async fn run_plan(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    with_run(&emu, &id, |_, r| Some(render::plan(r)), "run")
}

pub(super) async fn run_apply(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    with_run(&emu, &id, |s, r| Some(render::apply(s, r)), "run")
}

pub(super) async fn read_plan(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    with_child(&emu, "plan", &id, |_, r| Some(render::plan(r)), "plan")
}

pub(super) async fn read_apply(State(emu): State<Shared>, Path(id): Path<String>) -> ApiResult {
    with_child(
        &emu,
        "apply",
        &id,
        |s, r| Some(render::apply(s, r)),
        "apply",
    )
}

pub(super) async fn read_cost_estimate(
    State(emu): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult {
    with_child(
        &emu,
        "ce",
        &id,
        |_, r| render::cost_estimate(r),
        "cost estimate",
    )
}

/// `GET /policy-checks/:id/output`: the check's text output; 404 until the check has run.
pub(super) async fn policy_check_output(
    State(emu): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let run = store
        .run_by_child("polchk", &id)
        .filter(|r| r.policy_check.is_some())
        .ok_or_else(|| ApiError::not_found("policy check"))?;
    let text = render::policy_check_output(run)
        .ok_or_else(|| ApiError::not_found("policy check output (the check has not run yet)"))?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        text,
    )
        .into_response())
}

pub(super) async fn read_policy_check(
    State(emu): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult {
    with_child(&emu, "polchk", &id, render::policy_check, "policy check")
}

pub(super) async fn run_policy_checks(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult {
    list_run_child(&emu, &id, &q, &uri, render::policy_check)
}

pub(super) async fn override_policy_check(
    State(emu): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    let run_id = store
        .run_by_child("polchk", &id)
        .map(|r| r.id.clone())
        .ok_or_else(|| ApiError::not_found("policy check"))?;
    run_machine::override_policy(&emu, &mut store, &run_id)?;
    let data = render::policy_check(&store, &store.runs[&run_id])
        .ok_or_else(|| ApiError::not_found("policy check"))?;
    ok(json!({"data": data}))
}

pub(super) async fn run_task_stages(
    State(emu): State<Shared>,
    Path(id): Path<String>,
    Query(q): Params,
    OriginalUri(uri): OriginalUri,
) -> ApiResult {
    list_run_child(&emu, &id, &q, &uri, |_, r| render::task_stage(r))
}

/// A run's to-many child (policy checks, task stages) as a paginated list; the emulator keeps at
/// most one of each per run.
pub(super) fn list_run_child(
    emu: &Shared,
    run_id: &str,
    q: &HashMap<String, String>,
    uri: &Uri,
    render_child: impl Fn(&Store, &crate::store::Run) -> Option<Value>,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let run = store
        .runs
        .get(run_id)
        .ok_or_else(|| ApiError::not_found("run"))?;
    ok(paginate(
        render_child(&store, run).into_iter().collect(),
        q,
        true,
        ListUrl::of(emu, uri),
    )?)
}

pub(super) async fn read_task_stage(
    State(emu): State<Shared>,
    Path(id): Path<String>,
) -> ApiResult {
    with_child(&emu, "ts", &id, |_, r| render::task_stage(r), "task stage")
}
