//! Turns store records into JSON:API resources built from the shared wire types, with every attribute,
//! relationship and link the public API reference shows for them (crates/tfe-emulator/tests/api/reference_shapes.rs
//! holds the emulator to that).
//!
//! Values come from the emulator's state wherever it has one. Permissions are the token's rights: every token
//! the emulator accepts belongs to an owner of every organization (there are no teams), so a permission is
//! granted unless the organization's entitlement set (the `entitlements` knob) leaves out the feature it is
//! about. Relationships link to the routes that serve them; docs/emulator.md names the few links the emulator
//! does not serve. The keys the reference says only HCP Terraform returns are sent only when the emulator runs
//! as HCP Terraform (`--app-name "HCP Terraform"`).

use serde_json::{Value, json};

use tfe_client::models::{self as m, Relationship, Resource};

use super::knobs::Entitlements;
use super::run_machine;
use super::store::{self, Lock, Store, timestamp};

const API: &str = "/api/v2";

fn to_value<A: serde::Serialize>(r: Resource<A>) -> Value {
    serde_json::to_value(r).expect("wire types serialize")
}

fn resource<A>(
    kind: &str,
    id: &str,
    attributes: A,
    rels: Vec<(&str, Relationship)>,
    self_link: Option<String>,
) -> Resource<A> {
    Resource {
        id: id.to_string(),
        kind: kind.to_string(),
        attributes,
        relationships: rels.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        links: self_link.map(|link| json!({"self": link})),
    }
}

/// `links.related` on a relationship when there is something to link to.
trait RelatedIf {
    fn related_if(self, path: Option<String>) -> Self;
}

impl RelatedIf for Relationship {
    fn related_if(self, path: Option<String>) -> Self {
        match path {
            Some(path) => self.related(path),
            None => self,
        }
    }
}

/// Adds relationships the reference shows by their link alone (no `data`): `(name, path to read them at)`.
fn link_only(v: &mut Value, relationships: &[(&str, String)]) {
    for (name, path) in relationships {
        v["relationships"][*name] = json!({"links": {"related": path}});
    }
}

/// What the organization may use: its `entitlements` knob, everything granted by default.
fn entitlements(s: &Store, org: &str) -> Entitlements {
    s.org_knobs(org).entitlements.unwrap_or_default()
}

/// An entitlement by its API name.
fn entitled(granted: &Entitlements, name: &str) -> bool {
    granted
        .attributes()
        .into_iter()
        .any(|(n, on)| n == name && on)
}

pub(crate) fn organization(s: &Store, o: &store::Organization) -> Value {
    let granted = entitlements(s, &o.name);
    let has = |name| entitled(&granted, name);
    let hcp = s.hcp_terraform;
    let settings = &o.settings;
    let path = format!("{API}/organizations/{}", o.name);
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
            external_id: Some(o.external_id.clone()),
            collaborator_auth_policy: Some(settings.collaborator_auth_policy.clone()),
            default_execution_mode: Some(settings.default_execution_mode.clone()),
            allow_force_delete_workspaces: Some(settings.allow_force_delete_workspaces),
            send_passing_statuses_for_untriggered_speculative_plans: Some(
                settings.send_passing_statuses_for_untriggered_speculative_plans,
            ),
            aggregated_commit_status_enabled: Some(settings.aggregated_commit_status_enabled),
            speculative_plan_management_enabled: Some(settings.speculative_plan_management_enabled),
            fair_run_queuing_enabled: Some(true),
            saml_enabled: Some(false),
            owners_team_saml_role_id: settings.owners_team_saml_role_id.clone(),
            plan_expired: Some(false),
            plan_expires_at: None,
            plan_is_trial: Some(false),
            // The subscription fields of the reference's free plan: the emulator has no subscriptions.
            plan_is_enterprise: Some(false),
            plan_identifier: Some("free".into()),
            two_factor_conformant: hcp.then_some(false),
            assessments_enforced: hcp.then_some(settings.assessments_enforced),
            permissions: Some(m::OrganizationPermissions {
                can_update: true,
                can_destroy: true,
                can_access_via_teams: has("teams"),
                can_create_module: has("private-module-registry"),
                can_create_provider: has("private-module-registry"),
                can_create_project: true,
                can_create_team: has("teams"),
                can_create_workspace: true,
                can_manage_custom_providers: has("private-module-registry"),
                can_manage_public_modules: has("private-module-registry"),
                can_manage_public_providers: has("private-module-registry"),
                can_manage_run_tasks: has("run-tasks"),
                can_read_run_tasks: has("run-tasks"),
                can_manage_sso: has("sso"),
                can_manage_subscription: hcp && has("self-serve-billing"),
                can_manage_tags: true,
                can_manage_users: true,
                can_manage_varsets: true,
                can_read_varsets: true,
                can_start_trial: hcp && has("self-serve-billing"),
                can_traverse: true,
                can_update_agent_pools: has("agents"),
                can_update_api_token: true,
                can_update_oauth: has("vcs-integrations"),
                can_update_sentinel: has("sentinel"),
                can_update_ssh_keys: true,
            }),
        },
        vec![
            ("default-agent-pool", Relationship::default()),
            (
                "entitlement-set",
                Relationship::one("entitlement-sets", &o.external_id)
                    .related(format!("{path}/entitlement-set")),
            ),
        ],
        Some(path.clone()),
    ));
    link_only(
        &mut v,
        &[
            ("oauth-tokens", format!("{path}/oauth-tokens")),
            (
                "authentication-token",
                format!("{path}/authentication-token"),
            ),
            ("subscription", format!("{path}/subscription")),
        ],
    );
    v
}

/// An organization's entitlement set (id: its external id); limits are `null`, as the emulator sets none.
pub(crate) fn entitlement_set(s: &Store, o: &store::Organization) -> Value {
    let granted = entitlements(s, &o.name);
    let has = |name| entitled(&granted, name);
    to_value(resource(
        "entitlement-sets",
        &o.external_id,
        m::EntitlementSetAttributes {
            agents: has("agents"),
            audit_logging: has("audit-logging"),
            cost_estimation: has("cost-estimation"),
            operations: has("operations"),
            private_module_registry: has("private-module-registry"),
            sso: has("sso"),
            sentinel: has("sentinel"),
            state_storage: has("state-storage"),
            teams: has("teams"),
            vcs_integrations: has("vcs-integrations"),
            configuration_designer: has("configuration-designer"),
            global_run_tasks: has("global-run-tasks"),
            module_tests_generation: has("module-tests-generation"),
            policy_enforcement: has("policy-enforcement"),
            private_policy_agents: has("private-policy-agents"),
            private_run_tasks: has("private-run-tasks"),
            private_vcs: has("private-vcs"),
            run_tasks: has("run-tasks"),
            self_serve_billing: has("self-serve-billing"),
            usage_reporting: has("usage-reporting"),
            ..Default::default()
        },
        vec![],
        Some(format!("{API}/entitlement-sets/{}", o.external_id)),
    ))
}

/// The performance figures of a workspace: over its newest 30 runs that applied or errored, the average plan
/// and apply durations, the errored runs, those a failed policy check stopped, and how many runs that is;
/// `None` for each before any such run.
struct WorkspaceFigures {
    plan_duration_average: Option<u64>,
    apply_duration_average: Option<u64>,
    policy_check_failures: Option<u32>,
    run_failures: Option<u32>,
    runs_count: Option<u32>,
}

fn workspace_figures(s: &Store, workspace_id: &str) -> WorkspaceFigures {
    use m::{PolicyCheckStatus, RunStatus};
    let mut runs: Vec<&store::Run> = s
        .runs
        .values()
        .filter(|r| r.workspace_id == workspace_id)
        .filter(|r| matches!(r.status, RunStatus::Applied | RunStatus::Errored))
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse(r.seq));
    runs.truncate(30);
    if runs.is_empty() {
        return WorkspaceFigures {
            plan_duration_average: None,
            apply_duration_average: None,
            policy_check_failures: None,
            run_failures: None,
            runs_count: None,
        };
    }
    let average = |durations: Vec<u64>| {
        (!durations.is_empty()).then(|| durations.iter().sum::<u64>() / durations.len() as u64)
    };
    let errored: Vec<&&store::Run> = runs
        .iter()
        .filter(|r| r.status == RunStatus::Errored)
        .collect();
    let by_policy = errored
        .iter()
        .filter(|r| {
            r.policy_check
                .as_ref()
                .is_some_and(|pc| pc.status == PolicyCheckStatus::HardFailed)
        })
        .count();
    WorkspaceFigures {
        plan_duration_average: average(runs.iter().filter_map(|r| r.plan.duration_ms()).collect()),
        apply_duration_average: average(
            runs.iter().filter_map(|r| r.apply.duration_ms()).collect(),
        ),
        policy_check_failures: Some(by_policy as u32),
        run_failures: Some(errored.len() as u32),
        runs_count: Some(runs.len() as u32),
    }
}

pub(crate) fn workspace(s: &Store, w: &store::Workspace) -> Value {
    let base_url = s.public_url.as_str();
    let ws_path = format!("{API}/workspaces/{}", w.id);
    let granted = entitlements(s, &w.organization);
    let has = |name| entitled(&granted, name);
    let (locked_by, locked_reason) = match &w.lock {
        None => (Relationship::default(), None),
        Some(Lock::Run(id)) => (
            Relationship::one("runs", id).related(format!("{API}/runs/{id}")),
            Some(String::new()),
        ),
        Some(Lock::User { user_id, reason }) => (
            Relationship::one("users", user_id).related(format!("{API}/users/{user_id}")),
            Some(reason.clone()),
        ),
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
        r.webhook_url = Some(format!("{base_url}/webhooks/vcs/{}", w.webhook_id));
        r
    });
    let oauth_client_name = w
        .vcs_repo
        .as_ref()
        .and_then(|r| r.oauth_token_id.as_deref())
        .and_then(|token| {
            s.oauth_clients
                .values()
                .find(|c| c.token_id.as_deref() == Some(token))
        })
        .map(|c| c.name.clone().unwrap_or_else(|| c.service_provider.clone()));
    let latest_change_at = state_version.map_or(w.created_at, |sv| sv.created_at);
    let figures = workspace_figures(s, &w.id);
    let settings = &w.settings;
    let current_run = |name| {
        (
            name,
            Relationship::maybe_one("runs", w.current_run.clone())
                .related_if(w.current_run.as_ref().map(|id| format!("{API}/runs/{id}"))),
        )
    };
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
            vcs_repo_identifier: vcs.as_ref().map(|r| r.identifier.clone()),
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
                can_read_run: true,
                can_read_settings: true,
                can_read_variable: true,
                can_update_variable: true,
                can_read_state_versions: has("state-storage"),
                can_read_state_outputs: has("state-storage"),
                can_create_state_versions: has("state-storage"),
                can_manage_tags: true,
                can_manage_run_tasks: has("run-tasks"),
                can_manage_assessments: true,
                can_read_assessment_results: true,
                can_manage_ephemeral_workspaces: true,
            },
            file_triggers_enabled: Some(w.file_triggers_enabled),
            speculative_enabled: Some(w.speculative_enabled),
            trigger_prefixes: Some(w.trigger_prefixes.clone()),
            operations: Some(w.execution_mode != "local"),
            structured_run_output_enabled: Some(w.structured_run_output_enabled),
            description: settings.description.clone(),
            environment: Some("default".into()),
            global_remote_state: Some(settings.global_remote_state),
            auto_apply_run_trigger: Some(settings.auto_apply_run_trigger),
            assessments_enabled: s.hcp_terraform.then_some(settings.assessments_enabled),
            auto_destroy_at: settings.auto_destroy_at.clone(),
            auto_destroy_status: settings
                .auto_destroy_at
                .as_ref()
                .map(|_| "scheduled".to_string()),
            auto_destroy_activity_duration: settings.auto_destroy_activity_duration.clone(),
            inherits_project_auto_destroy: None,
            last_assessment_result_at: None,
            latest_change_at: Some(timestamp(latest_change_at)),
            locked_reason,
            oauth_client_name,
            source: Some("tfe-api".into()),
            source_name: settings.source_name.clone(),
            source_url: settings.source_url.clone(),
            tag_names: Some(settings.tag_names.clone()),
            trigger_patterns: Some(settings.trigger_patterns.clone()),
            setting_overwrites: Some(m::SettingOverwrites {
                execution_mode: w.execution_mode_overwritten,
                agent_pool: w.execution_mode_overwritten,
            }),
            plan_duration_average: figures.plan_duration_average,
            apply_duration_average: figures.apply_duration_average,
            policy_check_failures: figures.policy_check_failures,
            run_failures: figures.run_failures,
            workspace_kpis_runs_count: figures.runs_count,
            unarchived_workspace_change_requests_count: Some(0),
        },
        vec![
            (
                "organization",
                Relationship::one("organizations", &w.organization),
            ),
            current_run("current-run"),
            // Deprecated: the same as current-run.
            current_run("latest-run"),
            ("locked-by", locked_by),
            (
                "current-configuration-version",
                Relationship::maybe_one("configuration-versions", cv.clone())
                    .related_if(cv.map(|id| format!("{API}/configuration-versions/{id}"))),
            ),
            (
                "project",
                Relationship::one("projects", format!("prj-{}", w.organization)),
            ),
            (
                "current-state-version",
                Relationship::maybe_one("state-versions", state_version.map(|sv| sv.id.clone()))
                    .related_if(state_version.map(|_| format!("{ws_path}/current-state-version"))),
            ),
            // The workspace's outputs are its current state's, once processed, as `workspace-outputs`.
            (
                "outputs",
                Relationship::many("workspace-outputs", output_ids).related_if(
                    state_version.map(|_| format!("{ws_path}/current-state-version-outputs")),
                ),
            ),
            ("vars", Relationship::many("vars", var_ids)),
            ("agent-pool", Relationship::default()),
            ("ssh-key", Relationship::default()),
            ("readme", Relationship::default()),
            ("current-assessment-result", Relationship::default()),
        ],
        None,
    ));
    link_only(
        &mut v,
        &[
            (
                "remote-state-consumers",
                format!("{ws_path}/relationships/remote-state-consumers"),
            ),
            ("tag-bindings", format!("{ws_path}/tag-bindings")),
            (
                "effective-tag-bindings",
                format!("{ws_path}/effective-tag-bindings"),
            ),
        ],
    );
    // The request type leaves an unset tags-regex out; the API shows it as null.
    if let Some(repo) = v["attributes"]["vcs-repo"].as_object_mut() {
        repo.entry("tags-regex").or_insert(Value::Null);
    }
    v["links"] = json!({"self": format!("{API}/organizations/{}/workspaces/{}", w.organization, w.name),
        "self-html": format!("{base_url}/app/{}/workspaces/{}", w.organization, w.name)});
    v
}

/// How a run was started: every emulator run was asked for (`POST /runs`, an upload that queues runs, a
/// workspace created with queue-all-runs), which the reference calls `manual`; the emulator has no VCS
/// webhooks or run triggers to start runs for another reason.
const TRIGGER_REASON: &str = "manual";

pub(crate) fn run(s: &Store, r: &store::Run, position_in_queue: Option<u32>) -> Value {
    let at = store::now();
    let actions = run_machine::actions(r, at);
    let sentinel = entitled(&entitlements(s, &r.organization), "sentinel");
    let attributes = m::RunAttributes {
        status: r.status.clone(),
        status_timestamps: r.timestamps.clone(),
        actions,
        permissions: m::RunPermissions {
            can_apply: true,
            can_cancel: true,
            can_discard: true,
            can_force_cancel: true,
            can_force_execute: true,
            can_comment: true,
            can_override_policy_check: sentinel,
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
        canceled_at: r.timestamps.get("canceled-at").cloned(),
        trigger_reason: Some(TRIGGER_REASON.into()),
        save_plan: false,
        allow_config_generation: false,
    };
    let policy_ids: Vec<String> = r
        .policy_check
        .iter()
        .map(|_| format!("polchk-{}", r.suffix))
        .collect();
    let run_path = format!("{API}/runs/{}", r.id);
    to_value(resource(
        "runs",
        &r.id,
        attributes,
        vec![
            (
                "workspace",
                Relationship::one("workspaces", &r.workspace_id)
                    .related(format!("{API}/workspaces/{}", r.workspace_id)),
            ),
            (
                "plan",
                Relationship::one("plans", format!("plan-{}", r.suffix))
                    .related(format!("{run_path}/plan")),
            ),
            (
                "apply",
                Relationship::one("applies", format!("apply-{}", r.suffix))
                    .related(format!("{run_path}/apply")),
            ),
            (
                "configuration-version",
                Relationship::one("configuration-versions", &r.configuration_version_id).related(
                    format!(
                        "{API}/configuration-versions/{}",
                        r.configuration_version_id
                    ),
                ),
            ),
            (
                "cost-estimate",
                Relationship::maybe_one(
                    "cost-estimates",
                    r.cost_estimate.as_ref().map(|_| format!("ce-{}", r.suffix)),
                )
                .related_if(
                    r.cost_estimate
                        .as_ref()
                        .map(|_| format!("{API}/cost-estimates/ce-{}", r.suffix)),
                ),
            ),
            (
                "policy-checks",
                Relationship::many("policy-checks", policy_ids)
                    .related(format!("{run_path}/policy-checks")),
            ),
            (
                "task-stages",
                Relationship::many(
                    "task-stages",
                    r.post_plan_task.iter().map(|_| format!("ts-{}", r.suffix)),
                )
                .related(format!("{run_path}/task-stages")),
            ),
            (
                "run-events",
                Relationship::many("run-events", Vec::<String>::new()),
            ),
            (
                "comments",
                Relationship::many("comments", Vec::<String>::new()),
            ),
            (
                "workspace-run-alerts",
                Relationship::many("workspace-run-alerts", Vec::<String>::new()),
            ),
            (
                "input-state-version",
                Relationship::maybe_one("state-versions", r.input_state_version.clone())
                    .related_if(
                        r.input_state_version
                            .as_ref()
                            .map(|id| format!("{API}/state-versions/{id}")),
                    ),
            ),
            (
                "created-by",
                Relationship::one("users", &r.created_by)
                    .related(format!("{API}/users/{}", r.created_by)),
            ),
        ],
        Some(run_path),
    ))
}

fn phase(
    kind: &str,
    id: &str,
    p: &store::Phase,
    has_changes: Option<bool>,
    run_id: &str,
    state_versions: Vec<String>,
) -> Value {
    let plan = kind == "plans";
    let path = format!("{API}/{kind}/{id}");
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
            execution_details: Some(m::ExecutionDetails {
                mode: "remote".into(),
            }),
            generated_configuration: plan.then_some(false),
        },
        vec![
            ("run", Relationship::one("runs", run_id)),
            (
                "state-versions",
                Relationship::many("state-versions", state_versions),
            ),
        ],
        Some(path.clone()),
    ));
    if plan {
        v["links"]["json-output"] = json!(format!("{path}/json-output"));
    }
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
        Vec::new(),
    )
}

/// An apply, related to the state version it wrote.
pub(crate) fn apply(s: &Store, r: &store::Run) -> Value {
    let written: Vec<String> = s
        .state_versions
        .values()
        .filter(|sv| sv.run_id.as_deref() == Some(r.id.as_str()))
        .map(|sv| sv.id.clone())
        .collect();
    phase(
        "applies",
        &format!("apply-{}", r.suffix),
        &r.apply,
        None,
        &r.id,
        written,
    )
}

pub(crate) fn cost_estimate(r: &store::Run) -> Option<Value> {
    let ce = r.cost_estimate.as_ref()?;
    let finished = ce.status == "finished";
    let cost = |s: &str| finished.then(|| s.to_string());
    let count = r.plan.additions + r.plan.changes;
    let id = format!("ce-{}", r.suffix);
    Some(to_value(resource(
        "cost-estimates",
        &id,
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
            // The estimator's per-resource report; the emulator prices resources as a flat 10.0 each.
            resources: Some(json!({})),
        },
        vec![],
        Some(format!("{API}/cost-estimates/{id}")),
    )))
}

pub(crate) fn policy_check(s: &Store, r: &store::Run) -> Option<Value> {
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
        duration_ms: 0,
        // The policy engine's own report, whose structure the reference leaves open: none is emulated.
        sentinel: Some(json!({})),
    });
    let overridable = pc.status == P::SoftFailed;
    let id = format!("polchk-{}", r.suffix);
    let mut v = to_value(resource(
        "policy-checks",
        &id,
        m::PolicyCheckAttributes {
            status: pc.status.clone(),
            scope: Some("organization".into()),
            result,
            actions: m::PolicyCheckActions {
                is_overridable: overridable,
            },
            permissions: m::PolicyCheckPermissions {
                can_override: entitled(&entitlements(s, &r.organization), "sentinel"),
            },
            status_timestamps: pc.timestamps.clone(),
        },
        vec![("run", Relationship::one("runs", &r.id))],
        None,
    ));
    v["links"] = json!({"output": format!("{API}/policy-checks/{id}/output")});
    Some(v)
}

/// A policy check's output (`links.output`): the emulated policies and how each came out, once the check has
/// run; `None` before. One policy always passes; the `policy` knob adds one that fails at its level.
pub(crate) fn policy_check_output(r: &store::Run) -> Option<String> {
    use super::knobs::PolicyMode;
    use m::PolicyCheckStatus as P;
    let pc = r.policy_check.as_ref()?;
    if !matches!(
        pc.status,
        P::Passed | P::SoftFailed | P::HardFailed | P::Overridden
    ) {
        return None;
    }
    let failing = match pc.mode {
        PolicyMode::AdvisoryFail => Some("advisory"),
        PolicyMode::SoftFail => Some("soft-mandatory"),
        PolicyMode::HardFail => Some("hard-mandatory"),
        PolicyMode::None | PolicyMode::Pass => None,
    };
    let passed = !matches!(pc.status, P::SoftFailed | P::HardFailed | P::Overridden);
    let mut text = format!(
        "Sentinel Result: {passed}\n\n{} policies evaluated.\n\n## Policy 1: emulated-passing (hard-mandatory)\n\nResult: true\n",
        1 + usize::from(failing.is_some())
    );
    if let Some(level) = failing {
        text.push_str(&format!(
            "\n## Policy 2: emulated-failing ({level})\n\nResult: false\n"
        ));
    }
    if pc.status == P::Overridden {
        text.push_str("\nThe soft-mandatory failure was overridden.\n");
    }
    Some(text)
}

pub(crate) fn configuration_version(
    cv: &store::ConfigurationVersion,
    upload_url: Option<String>,
) -> Value {
    let path = format!("{API}/configuration-versions/{}", cv.id);
    let mut v = to_value(resource(
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
            error: None,
            error_message: None,
        },
        // The commit a VCS configuration came from: the emulator fetches none, so there is none to show.
        vec![("ingress-attributes", Relationship::default())],
        Some(path.clone()),
    ));
    v["links"]["download"] = json!(format!("{path}/download"));
    v
}

/// The VCS kind as people read it.
fn service_provider_display_name(kind: &str) -> String {
    match kind {
        "github" => "GitHub",
        "github_enterprise" => "GitHub Enterprise",
        "gitlab_hosted" => "GitLab",
        "gitlab_community_edition" => "GitLab Community Edition",
        "gitlab_enterprise_edition" => "GitLab Enterprise Edition",
        "bitbucket_hosted" => "Bitbucket Cloud",
        "bitbucket_server" | "bitbucket_data_center" => "Bitbucket Data Center",
        "ado_services" => "Azure DevOps Services",
        "ado_server" => "Azure DevOps Server",
        other => other,
    }
    .to_string()
}

pub(crate) fn oauth_client(s: &Store, c: &store::OAuthClient) -> Value {
    let tokens: Vec<String> = c.token_id.iter().cloned().collect();
    let external_id = s
        .organizations
        .get(&c.organization)
        .map_or_else(String::new, |o| o.external_id.clone());
    let connect_path = format!("/auth/{}?organization_id={external_id}", c.callback_id);
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
            callback_url: Some(format!("{}/auth/{}/callback", s.public_url, c.callback_id)),
            connect_path: Some(connect_path),
            service_provider_display_name: Some(service_provider_display_name(&c.service_provider)),
            key: None,
            rsa_public_key: None,
        },
        vec![
            (
                "organization",
                Relationship::one("organizations", &c.organization)
                    .related(format!("{API}/organizations/{}", c.organization)),
            ),
            (
                "oauth-tokens",
                Relationship::many("oauth-tokens", tokens)
                    .related(format!("{API}/oauth-clients/{}/oauth-tokens", c.id)),
            ),
            // The projects the client is attached to: the emulator has no project API to attach it with.
            (
                "projects",
                Relationship::many("projects", Vec::<String>::new()),
            ),
            ("agent-pool", Relationship::default()),
        ],
        None,
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
        None,
    ));
    v["attributes"]["permissions"] =
        json!({"can-override-policy": false, "can-override-tasks": false, "can-override": false});
    v["attributes"]["actions"] = json!({"is-overridable": false});
    Some(v)
}

/// A state version; `outputs` and the extracted `resources`, `modules` and `providers` only once processed.
pub(crate) fn state_version(s: &Store, sv: &store::StateVersion) -> Value {
    let base_url = s.public_url.as_str();
    let processed = sv.processed();
    let output_ids: Vec<String> = if processed {
        sv.outputs.iter().map(|o| o.id.clone()).collect()
    } else {
        Vec::new()
    };
    let extracted = processed.then(|| json!({}));
    let user_path = format!("{API}/users/{}", sv.created_by);
    let mut created_by = Relationship::one("users", &sv.created_by);
    created_by.links = Some(json!({"self": user_path, "related": user_path}));
    to_value(resource(
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
            intermediate: false,
            hosted_state_upload_url: None,
            hosted_json_state_upload_url: None,
            modules: extracted.clone(),
            providers: extracted,
            // The state manages no resources, so none are billable.
            billable_rum_count: s.hcp_terraform.then_some(0),
        },
        vec![
            ("run", Relationship::maybe_one("runs", sv.run_id.clone())),
            ("created-by", created_by),
            (
                "workspace",
                Relationship::one("workspaces", &sv.workspace_id),
            ),
            (
                "outputs",
                Relationship::many("state-version-outputs", output_ids),
            ),
        ],
        Some(format!("{API}/state-versions/{}", sv.id)),
    ))
}

/// A state version output; a sensitive one's value only when `reveal` (`GET /state-version-outputs/:id`).
pub(crate) fn state_version_output(o: &store::StateOutput, reveal: bool) -> Value {
    to_value(resource(
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
        Some(format!("{API}/state-version-outputs/{}", o.id)),
    ))
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
        json!({"related": format!("{API}/organizations/{}/workspaces/{}", w.organization, w.name)})
    });
    let mut configurable = Relationship::one("workspaces", &var.workspace_id);
    configurable.links = ws_link;
    to_value(resource(
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
        Some(format!(
            "{API}/workspaces/{}/vars/{}",
            var.workspace_id, var.id
        )),
    ))
}
