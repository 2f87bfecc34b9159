//! Turns store records into JSON:API resources built from the shared wire types.

use serde_json::{Value, json};

use tfe_client::models::{self as m, Relationship, Resource};

use super::run_machine;
use super::store::{self, Lock, Store, timestamp};

fn to_value<A: serde::Serialize>(r: Resource<A>) -> Value {
    serde_json::to_value(r).expect("wire types serialize")
}

fn resource<A>(
    kind: &str,
    id: &str,
    attributes: A,
    rels: Vec<(&str, Relationship)>,
) -> Resource<A> {
    Resource {
        id: id.to_string(),
        kind: kind.to_string(),
        attributes,
        relationships: rels.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        links: None,
    }
}

pub(crate) fn organization(o: &store::Organization) -> Value {
    let mut v = to_value(resource(
        "organizations",
        &o.name,
        m::OrganizationAttributes {
            name: o.name.clone(),
            email: Some(o.email.clone()),
            cost_estimation_enabled: o.cost_estimation_enabled,
            created_at: Some(timestamp(o.created_at)),
            session_timeout: o.session_timeout,
            session_remember: o.session_remember,
        },
        vec![],
    ));
    v["attributes"]["permissions"] =
        json!({"can-update": true, "can-destroy": true, "can-create-workspace": true});
    v
}

pub(crate) fn workspace(s: &Store, w: &store::Workspace, base_url: &str) -> Value {
    let locked_by = match &w.lock {
        None => Relationship::default(),
        Some(Lock::Run(id)) => Relationship::one("runs", id),
        Some(Lock::User { user_id, .. }) => Relationship::one("users", user_id),
    };
    let cv = s
        .current_configuration_version(&w.id)
        .map(|cv| cv.id.clone());
    let state_version = s.current_state_version(&w.id);
    let output_ids: Vec<String> = state_version
        .filter(|sv| sv.processed())
        .map(|sv| sv.outputs.iter().map(|o| o.id.clone()).collect())
        .unwrap_or_default();
    let var_ids: Vec<String> = s
        .workspace_variables(&w.id)
        .into_iter()
        .map(|v| v.id.clone())
        .collect();
    let vcs = w.vcs_repo.clone().map(|mut r| {
        r.display_identifier
            .get_or_insert_with(|| r.identifier.clone());
        r.service_provider.get_or_insert_with(|| "github".into());
        r.repository_http_url
            .get_or_insert_with(|| format!("https://github.com/{}", r.identifier));
        r
    });
    let mut v = to_value(resource(
        "workspaces",
        &w.id,
        m::WorkspaceAttributes {
            name: w.name.clone(),
            auto_apply: w.auto_apply,
            locked: w.lock.is_some(),
            execution_mode: Some(w.execution_mode.clone()),
            resource_count: w.resource_count,
            queue_all_runs: w.queue_all_runs,
            allow_destroy_plan: w.allow_destroy_plan,
            terraform_version: Some(w.terraform_version.clone()),
            working_directory: Some(w.working_directory.clone()),
            created_at: Some(timestamp(w.created_at)),
            updated_at: Some(timestamp(w.updated_at)),
            vcs_repo: vcs,
            actions: m::WorkspaceActions {
                is_destroyable: true,
            },
            permissions: m::WorkspacePermissions {
                can_lock: true,
                can_unlock: true,
                can_force_unlock: true,
                can_queue_run: true,
                can_queue_apply: true,
                can_queue_destroy: true,
                can_update: true,
                can_destroy: true,
                can_force_delete: true,
            },
            file_triggers_enabled: Some(w.file_triggers_enabled),
            speculative_enabled: Some(w.speculative_enabled),
            trigger_prefixes: Some(w.trigger_prefixes.clone()),
            operations: Some(w.execution_mode != "local"),
            structured_run_output_enabled: Some(w.structured_run_output_enabled),
        },
        vec![
            (
                "organization",
                Relationship::one("organizations", &w.organization),
            ),
            (
                "current-run",
                Relationship::maybe_one("runs", w.current_run.clone()),
            ),
            ("locked-by", locked_by),
            (
                "current-configuration-version",
                Relationship::maybe_one("configuration-versions", cv),
            ),
            (
                "project",
                Relationship::one("projects", format!("prj-{}", w.organization)),
            ),
            (
                "current-state-version",
                Relationship::maybe_one("state-versions", state_version.map(|sv| sv.id.clone())),
            ),
            // The workspace's outputs are its current state's, once processed, as `workspace-outputs`.
            (
                "outputs",
                Relationship::many("workspace-outputs", output_ids),
            ),
            ("vars", Relationship::many("vars", var_ids)),
        ],
    ));
    v["attributes"]["description"] = Value::Null;
    v["links"] = json!({"self": format!("/api/v2/organizations/{}/workspaces/{}", w.organization, w.name),
        "self-html": format!("{base_url}/app/{}/workspaces/{}", w.organization, w.name)});
    v
}

pub(crate) fn run(r: &store::Run, position_in_queue: Option<u32>) -> Value {
    let at = store::now();
    let actions = run_machine::actions(r, at);
    let live = !r.status.is_final();
    let attributes = m::RunAttributes {
        status: r.status.clone(),
        status_timestamps: r.timestamps.clone(),
        actions,
        permissions: m::RunPermissions {
            can_apply: live,
            can_cancel: live,
            can_discard: live,
            can_force_cancel: live,
            can_force_execute: live,
        },
        has_changes: r.has_changes,
        is_destroy: r.is_destroy,
        auto_apply: r.auto_apply,
        plan_only: r.plan_only,
        message: Some(r.message.clone()),
        source: Some(r.source.clone()),
        created_at: Some(timestamp(r.created_at)),
        force_cancel_available_at: r.force_cancel_available_at.map(timestamp),
        position_in_queue,
        refresh: r.refresh,
        refresh_only: r.refresh_only,
        allow_empty_apply: r.allow_empty_apply,
        target_addrs: (!r.target_addrs.is_empty()).then(|| r.target_addrs.clone()),
        replace_addrs: (!r.replace_addrs.is_empty()).then(|| r.replace_addrs.clone()),
        variables: r.variables.clone(),
        terraform_version: r.terraform_version.clone(),
    };
    let policy_ids: Vec<String> = r
        .policy_check
        .iter()
        .map(|_| format!("polchk-{}", r.suffix))
        .collect();
    let mut v = to_value(resource(
        "runs",
        &r.id,
        attributes,
        vec![
            (
                "workspace",
                Relationship::one("workspaces", &r.workspace_id),
            ),
            (
                "plan",
                Relationship::one("plans", format!("plan-{}", r.suffix)),
            ),
            (
                "apply",
                Relationship::one("applies", format!("apply-{}", r.suffix)),
            ),
            (
                "configuration-version",
                Relationship::one("configuration-versions", &r.configuration_version_id),
            ),
            (
                "cost-estimate",
                Relationship::maybe_one(
                    "cost-estimates",
                    r.cost_estimate.as_ref().map(|_| format!("ce-{}", r.suffix)),
                ),
            ),
            (
                "policy-checks",
                Relationship::many("policy-checks", policy_ids),
            ),
            (
                "task-stages",
                Relationship::many(
                    "task-stages",
                    r.post_plan_task.iter().map(|_| format!("ts-{}", r.suffix)),
                ),
            ),
            (
                "run-events",
                Relationship::many("run-events", Vec::<String>::new()),
            ),
            ("created-by", Relationship::one("users", &r.created_by)),
        ],
    ));
    v["links"] = json!({"self": format!("/api/v2/runs/{}", r.id)});
    v
}

fn phase(kind: &str, id: &str, p: &store::Phase, has_changes: Option<bool>, run_id: &str) -> Value {
    let mut v = to_value(resource(
        kind,
        id,
        m::PhaseAttributes {
            status: p.status.clone(),
            has_changes,
            resource_additions: p.additions,
            resource_changes: p.changes,
            resource_destructions: p.destructions,
            resource_imports: 0,
            log_read_url: Some(p.log_read_url.clone()),
            status_timestamps: p.timestamps.clone(),
        },
        vec![("run", Relationship::one("runs", run_id))],
    ));
    v["attributes"]["execution-details"] = json!({"mode": "remote"});
    v
}

pub(crate) fn plan(r: &store::Run) -> Value {
    let finished = r.plan.status == m::PhaseStatus::Finished;
    phase(
        "plans",
        &format!("plan-{}", r.suffix),
        &r.plan,
        Some(finished && r.has_changes),
        &r.id,
    )
}

pub(crate) fn apply(r: &store::Run) -> Value {
    phase(
        "applies",
        &format!("apply-{}", r.suffix),
        &r.apply,
        None,
        &r.id,
    )
}

pub(crate) fn cost_estimate(r: &store::Run) -> Option<Value> {
    let ce = r.cost_estimate.as_ref()?;
    let finished = ce.status == "finished";
    let cost = |s: &str| finished.then(|| s.to_string());
    let count = r.plan.additions + r.plan.changes;
    Some(to_value(resource(
        "cost-estimates",
        &format!("ce-{}", r.suffix),
        m::CostEstimateAttributes {
            status: ce.status.clone(),
            prior_monthly_cost: cost("0.0"),
            proposed_monthly_cost: cost(&format!("{}.0", 10 * count)),
            delta_monthly_cost: cost(&format!("{}.0", 10 * count)),
            resources_count: if finished { count } else { 0 },
            matched_resources_count: if finished { count } else { 0 },
            unmatched_resources_count: 0,
            error_message: None,
            status_timestamps: ce.timestamps.clone(),
        },
        vec![],
    )))
}

pub(crate) fn policy_check(r: &store::Run) -> Option<Value> {
    let pc = r.policy_check.as_ref()?;
    use m::PolicyCheckStatus as P;
    let done = matches!(
        pc.status,
        P::Passed | P::SoftFailed | P::HardFailed | P::Overridden
    );
    let (soft, hard) = match pc.status {
        P::SoftFailed | P::Overridden => (1, 0),
        P::HardFailed => (0, 1),
        _ => (0, 0),
    };
    let advisory = u32::from(done && pc.mode == super::knobs::PolicyMode::AdvisoryFail);
    let result = done.then_some(m::PolicyResult {
        result: soft + hard == 0,
        passed: 1,
        total_failed: soft + hard + advisory,
        hard_failed: hard,
        soft_failed: soft,
        advisory_failed: advisory,
        duration: 0,
    });
    let overridable = pc.status == P::SoftFailed;
    Some(to_value(resource(
        "policy-checks",
        &format!("polchk-{}", r.suffix),
        m::PolicyCheckAttributes {
            status: pc.status.clone(),
            scope: Some("organization".into()),
            result,
            actions: m::PolicyCheckActions {
                is_overridable: overridable,
            },
            permissions: m::PolicyCheckPermissions { can_override: true },
            status_timestamps: pc.timestamps.clone(),
        },
        vec![("run", Relationship::one("runs", &r.id))],
    )))
}

pub(crate) fn configuration_version(
    cv: &store::ConfigurationVersion,
    upload_url: Option<String>,
) -> Value {
    to_value(resource(
        "configuration-versions",
        &cv.id,
        m::ConfigurationVersionAttributes {
            status: cv.status().to_string(),
            source: Some(cv.source.clone()),
            speculative: cv.speculative,
            auto_queue_runs: cv.auto_queue_runs,
            provisional: cv.provisional,
            upload_url,
            status_timestamps: cv.status_timestamps(),
        },
        vec![("ingress-attributes", Relationship::default())],
    ))
}

pub(crate) fn oauth_client(c: &store::OAuthClient) -> Value {
    let tokens: Vec<String> = c.token_id.iter().cloned().collect();
    to_value(resource(
        "oauth-clients",
        &c.id,
        m::OAuthClientAttributes {
            name: c.name.clone(),
            service_provider: Some(c.service_provider.clone()),
            http_url: Some(c.http_url.clone()),
            api_url: Some(c.api_url.clone()),
            organization_scoped: c.organization_scoped,
            created_at: Some(timestamp(c.created_at)),
        },
        vec![
            (
                "organization",
                Relationship::one("organizations", &c.organization),
            ),
            ("oauth-tokens", Relationship::many("oauth-tokens", tokens)),
        ],
    ))
}

pub(crate) fn oauth_token(c: &store::OAuthClient, token_id: &str) -> Value {
    json!({"id": token_id, "type": "oauth-tokens", "attributes": {
        "uid": token_id, "created-at": timestamp(c.created_at), "has-ssh-key": c.token_has_ssh_key,
        "service-provider-user": "emulator"},
        "relationships": {"oauth-client": {"data": {"type": "oauth-clients", "id": c.id}}}})
}

pub(crate) fn user(id: &str) -> Value {
    json!({"id": id, "type": "users", "attributes": {"username": id, "is-service-account": false}})
}

pub(crate) fn task_stage(r: &store::Run) -> Option<Value> {
    let t = r.post_plan_task.as_ref()?;
    let mut v = to_value(resource(
        "task-stages",
        &format!("ts-{}", r.suffix),
        m::TaskStageAttributes {
            stage: "post_plan".into(),
            status: t.status.clone(),
            created_at: Some(timestamp(t.created_at)),
            updated_at: Some(timestamp(store::now())),
            status_timestamps: t.timestamps.clone(),
        },
        vec![
            ("run", Relationship::one("runs", &r.id)),
            (
                "task-results",
                Relationship::many("task-results", Vec::<String>::new()),
            ),
            (
                "policy-evaluations",
                Relationship::many("policy-evaluations", Vec::<String>::new()),
            ),
        ],
    ));
    v["attributes"]["permissions"] =
        json!({"can-override-policy": false, "can-override-tasks": false, "can-override": false});
    v["attributes"]["actions"] = json!({"is-overridable": false});
    Some(v)
}

/// A state version; `outputs` and the extracted `resources`, `modules` and `providers` only once processed.
pub(crate) fn state_version(sv: &store::StateVersion, base_url: &str) -> Value {
    let processed = sv.processed();
    let output_ids: Vec<String> = if processed {
        sv.outputs.iter().map(|o| o.id.clone()).collect()
    } else {
        Vec::new()
    };
    let mut v = to_value(resource(
        "state-versions",
        &sv.id,
        m::StateVersionAttributes {
            created_at: Some(timestamp(sv.created_at)),
            serial: sv.serial,
            status: Some("finalized".into()),
            resources_processed: processed,
            state_version: Some(4),
            terraform_version: Some(sv.terraform_version.clone()),
            hosted_state_download_url: Some(format!(
                "{base_url}{}{}",
                store::ARCHIVIST_OBJECTS,
                sv.download_secret
            )),
            hosted_json_state_download_url: Some(format!(
                "{base_url}{}{}",
                store::ARCHIVIST_OBJECTS,
                sv.json_download_secret
            )),
            size: Some(sv.state_bytes().len() as u64),
            resources: processed.then(Vec::new),
            vcs_commit_sha: None,
            vcs_commit_url: None,
        },
        vec![
            ("run", Relationship::maybe_one("runs", sv.run_id.clone())),
            ("created-by", Relationship::one("users", &sv.created_by)),
            (
                "workspace",
                Relationship::one("workspaces", &sv.workspace_id),
            ),
            (
                "outputs",
                Relationship::many("state-version-outputs", output_ids),
            ),
        ],
    ));
    let extracted = if processed { json!({}) } else { Value::Null };
    v["attributes"]["modules"] = extracted.clone();
    v["attributes"]["providers"] = extracted;
    v["links"] = json!({"self": format!("/api/v2/state-versions/{}", sv.id)});
    v
}

/// A state version output; a sensitive one's value only when `reveal` (`GET /state-version-outputs/:id`).
pub(crate) fn state_version_output(o: &store::StateOutput, reveal: bool) -> Value {
    let mut v = to_value(resource(
        "state-version-outputs",
        &o.id,
        m::StateVersionOutputAttributes {
            name: o.name.clone(),
            sensitive: o.sensitive,
            output_type: o.kind().to_string(),
            value: if o.sensitive && !reveal {
                Value::Null
            } else {
                o.value.clone()
            },
            detailed_type: Some(o.detailed_type()),
        },
        vec![],
    ));
    v["links"] = json!({"self": format!("/api/v2/state-version-outputs/{}", o.id)});
    v
}

/// A workspace output (`?include=outputs` on a workspace): go-tfe's and pytfe's `workspace-outputs`, whose
/// type is `output-type`; a sensitive value is `null`.
pub(crate) fn workspace_output(o: &store::StateOutput) -> Value {
    json!({"id": o.id, "type": "workspace-outputs", "attributes": {
        "name": o.name, "sensitive": o.sensitive, "output-type": o.kind(),
        "value": if o.sensitive { Value::Null } else { o.value.clone() }}})
}

/// A workspace variable; a sensitive one's value is never shown (`null`).
pub(crate) fn variable(s: &Store, var: &store::Variable) -> Value {
    let ws_link = s.workspaces.get(&var.workspace_id).map(|w| {
        json!({"related": format!("/api/v2/organizations/{}/workspaces/{}", w.organization, w.name)})
    });
    let mut configurable = Relationship::one("workspaces", &var.workspace_id);
    configurable.links = ws_link;
    let mut v = to_value(resource(
        "vars",
        &var.id,
        m::VariableAttributes {
            key: var.key.clone(),
            value: (!var.sensitive).then(|| var.value.clone()),
            description: var.description.clone(),
            category: var.category.clone(),
            hcl: var.hcl,
            sensitive: var.sensitive,
            version_id: Some(var.version_id.clone()),
        },
        vec![("configurable", configurable)],
    ));
    v["links"] =
        json!({"self": format!("/api/v2/workspaces/{}/vars/{}", var.workspace_id, var.id)});
    v
}
