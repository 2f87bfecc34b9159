//! The in-memory store: organizations, workspaces, configuration versions, runs, state versions, variables and
//! OAuth clients. Plans, applies, cost estimates and policy checks live inside their run and share its id suffix
//! (`run-X` has `plan-X`, `apply-X`, `ce-X`, `polchk-X`); a state version's outputs live inside it.

use std::collections::BTreeMap;

use rand::Rng;
use time::OffsetDateTime;

use serde_json::{Value, json};
use tfe_client::models::{
    PhaseStatus, PolicyCheckStatus, RunStatus, RunVariable, VariableCategory, VcsRepo,
};

use super::knobs::{Knobs, OutcomeCounters, PolicyMode, TaskMode};

/// `2024-05-01T12:34:56.789Z`: UTC, milliseconds, a literal `Z` (never `+00:00`), the layout go-tfe parses.
const TIMESTAMP: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
);

/// `t` as the API writes times (see [`TIMESTAMP`]).
pub(crate) fn timestamp(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP)
        .expect("every date-time formats with fixed numeric components")
}

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// `ms` milliseconds from now.
pub(crate) fn after_ms(ms: u64) -> OffsetDateTime {
    now().saturating_add(time::Duration::milliseconds(
        i64::try_from(ms).unwrap_or(i64::MAX),
    ))
}

/// A random id suffix like TFE's 16 base58-ish characters.
pub(crate) fn new_suffix() -> String {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// A random version 4 UUID, as Terraform writes a state's lineage.
pub(crate) fn new_uuid() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    let hex: String = bytes
        .iter()
        .enumerate()
        .map(|(i, b)| match i {
            6 => format!("{:02x}", (b & 0x0f) | 0x40),
            8 => format!("{:02x}", (b & 0x3f) | 0x80),
            _ => format!("{b:02x}"),
        })
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A long random secret for URLs that need no token (archivist-style log URLs): 48 base58 characters.
pub(crate) fn new_secret() -> String {
    (0..3).map(|_| new_suffix()).collect()
}

/// Where log objects are served, under the base URL.
pub(crate) const ARCHIVIST_OBJECTS: &str = "/_archivist/v1/object/";

/// Which half of a run a log belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseKind {
    Plan,
    Apply,
}

#[derive(Debug, Clone)]
pub struct Organization {
    pub name: String,
    pub email: String,
    pub cost_estimation_enabled: bool,
    pub created_at: OffsetDateTime,
    pub knobs: Knobs,
    pub counters: OutcomeCounters,
    /// Minutes; `None` until set (the API then returns null).
    pub session_timeout: Option<u64>,
    pub session_remember: Option<u64>,
    /// `org-…`: its `external-id`, and its entitlement set's id.
    pub external_id: String,
    /// The settings create and update take beside the name, email and session lengths.
    pub settings: OrganizationSettings,
}

/// An organization's settings, as create and update take them and every read returns them (the API's defaults
/// from [`OrganizationSettings::default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OrganizationSettings {
    /// `password` or `two_factor_mandatory`.
    pub collaborator_auth_policy: String,
    /// What new workspaces get: `remote`, `local` or `agent`.
    pub default_execution_mode: String,
    pub assessments_enforced: bool,
    pub allow_force_delete_workspaces: bool,
    pub send_passing_statuses_for_untriggered_speculative_plans: bool,
    pub aggregated_commit_status_enabled: bool,
    pub speculative_plan_management_enabled: bool,
    pub owners_team_saml_role_id: Option<String>,
}

impl Default for OrganizationSettings {
    fn default() -> Self {
        OrganizationSettings {
            collaborator_auth_policy: "password".into(),
            default_execution_mode: "remote".into(),
            assessments_enforced: false,
            allow_force_delete_workspaces: false,
            send_passing_statuses_for_untriggered_speculative_plans: false,
            aggregated_commit_status_enabled: true,
            speculative_plan_management_enabled: true,
            owners_team_saml_role_id: None,
        }
    }
}

/// Who holds a workspace lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lock {
    Run(String),
    User { user_id: String, reason: String },
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub id: String,
    pub organization: String,
    pub name: String,
    pub auto_apply: bool,
    pub execution_mode: String,
    pub queue_all_runs: bool,
    pub allow_destroy_plan: bool,
    pub terraform_version: String,
    pub working_directory: String,
    pub vcs_repo: Option<VcsRepo>,
    pub resource_count: u64,
    pub lock: Option<Lock>,
    pub current_run: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub knobs: Knobs,
    pub counters: OutcomeCounters,
    pub file_triggers_enabled: bool,
    pub speculative_enabled: bool,
    pub trigger_prefixes: Vec<String>,
    pub structured_run_output_enabled: bool,
    /// The lineage every state version of the workspace carries (a UUID, as Terraform makes them).
    pub lineage: String,
    /// Whether the workspace set its execution mode itself (else it follows its organization's default).
    pub execution_mode_overwritten: bool,
    /// The settings create and update take that runs do not depend on.
    pub settings: WorkspaceSettings,
    /// The id in its VCS webhook's URL (a UUID, as TFE's).
    pub webhook_id: String,
}

/// A workspace's descriptive settings, as create and update take them and every read returns them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkspaceSettings {
    pub description: Option<String>,
    pub global_remote_state: bool,
    pub auto_apply_run_trigger: bool,
    /// Health assessments; HCP Terraform's only.
    pub assessments_enabled: bool,
    pub source_name: Option<String>,
    pub source_url: Option<String>,
    pub tag_names: Vec<String>,
    pub trigger_patterns: Vec<String>,
    /// RFC 3339, as sent.
    pub auto_destroy_at: Option<String>,
    /// `<n>d` or `<n>h`, as sent.
    pub auto_destroy_activity_duration: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ConfigurationVersion {
    pub id: String,
    pub workspace_id: String,
    /// `pending` (awaiting or processing its upload), `fetching` (from VCS) or `uploaded`; read it through
    /// [`ConfigurationVersion::status`], which also knows when `ready_at` has passed.
    pub recorded_status: String,
    /// When a configuration on its way becomes `uploaded` (the `configuration_upload_ms` knob).
    pub ready_at: Option<OffsetDateTime>,
    pub source: String,
    pub speculative: bool,
    pub auto_queue_runs: bool,
    pub provisional: bool,
    pub seq: u64,
    pub timestamps: BTreeMap<String, String>,
    /// The uploaded archive, as sent; `None` before the upload and for a VCS workspace's (nothing is fetched).
    pub archive: Option<Vec<u8>>,
}

impl ConfigurationVersion {
    /// Its status now.
    pub fn status(&self) -> &str {
        if self.ready_at.is_some_and(|t| now() >= t) {
            "uploaded"
        } else {
            &self.recorded_status
        }
    }

    pub fn is_uploaded(&self) -> bool {
        self.status() == "uploaded"
    }

    /// `<status>-at` times, `uploaded-at` included once `ready_at` has passed.
    pub fn status_timestamps(&self) -> BTreeMap<String, String> {
        let mut timestamps = self.timestamps.clone();
        if let Some(ready) = self.ready_at.filter(|t| now() >= *t) {
            timestamps.insert("uploaded-at".into(), timestamp(ready));
        }
        timestamps
    }
}

/// A plan or an apply.
#[derive(Debug, Clone)]
pub struct Phase {
    pub status: PhaseStatus,
    /// The secret of its log's archivist URL (`/_archivist/v1/object/<log_id>`): long and random, so the
    /// URL needs no token, as TFE's are.
    pub log_id: String,
    /// Its absolute `log-read-url`.
    pub log_read_url: String,
    pub additions: u32,
    pub changes: u32,
    pub destructions: u32,
    pub timestamps: BTreeMap<String, String>,
}

impl Phase {
    fn new(public_url: &str) -> Phase {
        let mut timestamps = BTreeMap::new();
        timestamps.insert("pending-at".to_string(), timestamp(now()));
        let log_id = new_secret();
        Phase {
            status: PhaseStatus::Pending,
            log_read_url: format!("{public_url}{ARCHIVIST_OBJECTS}{log_id}"),
            log_id,
            additions: 0,
            changes: 0,
            destructions: 0,
            timestamps,
        }
    }

    pub fn set_status(&mut self, status: PhaseStatus) {
        let at = timestamp(now());
        // The reference's samples name the start `started-at`; go-tfe and pytfe read `running-at`.
        if status == PhaseStatus::Running {
            self.timestamps.insert("started-at".into(), at.clone());
        }
        self.timestamps
            .insert(format!("{}-at", status.as_str().replace('_', "-")), at);
        self.status = status;
    }

    /// How long it ran, in milliseconds, once it has ended (finished, errored or canceled).
    pub fn duration_ms(&self) -> Option<u64> {
        let at = |key: &str| {
            self.timestamps.get(key).and_then(|t| {
                OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
            })
        };
        let start = at("started-at")?;
        let end = ["finished-at", "errored-at", "canceled-at"]
            .into_iter()
            .find_map(at)?;
        u64::try_from((end - start).whole_milliseconds()).ok()
    }
}

#[derive(Debug, Clone)]
pub struct CostEstimateRec {
    pub status: String,
    pub timestamps: BTreeMap<String, String>,
}

/// A run task stage (only post_plan is emulated).
#[derive(Debug, Clone)]
pub struct TaskStageRec {
    pub mode: TaskMode,
    pub status: String,
    pub created_at: OffsetDateTime,
    pub timestamps: BTreeMap<String, String>,
}

impl TaskStageRec {
    pub fn set_status(&mut self, status: &str) {
        self.timestamps
            .insert(format!("{status}-at"), timestamp(now()));
        self.status = status.to_string();
    }
}

#[derive(Debug, Clone)]
pub struct PolicyCheckRec {
    pub mode: PolicyMode,
    pub status: PolicyCheckStatus,
    pub timestamps: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Run {
    pub id: String,
    pub suffix: String,
    /// Creation order across the whole server.
    pub seq: u64,
    pub workspace_id: String,
    pub organization: String,
    pub configuration_version_id: String,
    pub created_by: String,
    pub status: RunStatus,
    pub timestamps: BTreeMap<String, String>,
    pub is_destroy: bool,
    pub auto_apply: bool,
    pub plan_only: bool,
    pub allow_empty_apply: bool,
    pub refresh: bool,
    pub refresh_only: bool,
    pub target_addrs: Vec<String>,
    pub replace_addrs: Vec<String>,
    /// Run-scoped variable values (HCL literals), as `POST /runs` gave them.
    pub variables: Vec<RunVariable>,
    /// The Terraform version of a plan-only run that asked for one.
    pub terraform_version: Option<String>,
    pub message: String,
    pub source: String,
    pub created_at: OffsetDateTime,
    pub has_changes: bool,
    pub plan: Phase,
    pub apply: Phase,
    pub cost_estimate: Option<CostEstimateRec>,
    pub policy_check: Option<PolicyCheckRec>,
    pub post_plan_task: Option<TaskStageRec>,
    /// Waiting for confirmation (or for an override in `policy_override`).
    pub paused: bool,
    /// Holds one of the organization's workers.
    pub holds_worker: bool,
    pub cancel_requested: bool,
    pub force_cancel_available_at: Option<OffsetDateTime>,
    /// Bumped by every interrupt so that background phase tasks of an older generation stop.
    pub generation: u64,
    /// Why the plan failed, when Terraform itself would have refused (rather than the `plan_outcome` knob):
    /// its log shows Terraform's own error for it.
    pub plan_failure: Option<PlanFailure>,
    /// The workspace's current state version when the run was created: the state it plans from.
    pub input_state_version: Option<String>,
}

/// A plan that fails the way a real one would, for a reason the run's inputs give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanFailure {
    /// Terraform variables the workspace's configuration requires (`required_variables` knob) that neither the
    /// workspace's variables nor the run's set.
    MissingVariables(Vec<String>),
    /// The run's configuration version had not arrived when the plan started.
    ConfigurationNotUploaded {
        /// The configuration version's id.
        id: String,
        /// Its status then (`pending`, `fetching`).
        status: String,
    },
}

impl Run {
    pub fn set_status(&mut self, status: RunStatus) {
        let key = match status {
            RunStatus::Pending => "plan-queueable-at".to_string(),
            ref s => format!("{}-at", s.as_str().replace('_', "-")),
        };
        self.timestamps.insert(key, timestamp(now()));
        self.status = status;
    }
}

/// One root module output of a state version.
#[derive(Debug, Clone, PartialEq)]
pub struct StateOutput {
    /// `wsout-…`, also the id of the workspace output it shows as.
    pub id: String,
    pub name: String,
    pub value: Value,
    pub sensitive: bool,
}

impl StateOutput {
    /// The value's kind as the API's `type` names it.
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::String(_) | Value::Null => "string",
            Value::Number(_) => "number",
            Value::Bool(_) => "boolean",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// The value's Terraform type in Terraform's JSON type syntax, as a literal of that value would have it.
    pub fn detailed_type(&self) -> Value {
        cty_type(&self.value)
    }
}

/// The Terraform type a literal of this JSON value has: lists are tuples and maps are objects, element by
/// element, as `output "x" { value = [...] }` records them.
pub(crate) fn cty_type(value: &Value) -> Value {
    match value {
        Value::Null => json!("dynamic"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(items) => json!(["tuple", items.iter().map(cty_type).collect::<Vec<_>>()]),
        Value::Object(fields) => {
            let types: serde_json::Map<String, Value> = fields
                .iter()
                .map(|(k, v)| (k.clone(), cty_type(v)))
                .collect();
            json!(["object", types])
        }
    }
}

/// A snapshot of a workspace's state, written when an apply finishes.
#[derive(Debug, Clone)]
pub struct StateVersion {
    /// `sv-…`.
    pub id: String,
    pub workspace_id: String,
    /// The run whose apply wrote it.
    pub run_id: Option<String>,
    pub created_by: String,
    /// Creation order across the server.
    pub seq: u64,
    /// 1 for the workspace's first state, one more for each after it.
    pub serial: u64,
    pub lineage: String,
    /// The concrete Terraform version that wrote it.
    pub terraform_version: String,
    pub created_at: OffsetDateTime,
    /// From this moment its outputs are extracted (`resources-processed`): the `state_processing_ms` knob.
    pub processed_at: OffsetDateTime,
    /// The root module outputs, in name order; null outputs are not kept, as Terraform drops them.
    pub outputs: Vec<StateOutput>,
    /// The secret of `hosted-state-download-url` (`/_archivist/v1/object/<secret>`).
    pub download_secret: String,
    /// The secret of `hosted-json-state-download-url`.
    pub json_download_secret: String,
}

impl StateVersion {
    /// Whether the outputs have been extracted.
    pub fn processed(&self) -> bool {
        now() >= self.processed_at
    }

    /// The state file itself, as Terraform writes it (JSON, format version 4).
    pub fn state_file(&self) -> Value {
        let outputs: serde_json::Map<String, Value> = self
            .outputs
            .iter()
            .map(|o| {
                let mut output = json!({"value": o.value, "type": o.detailed_type()});
                if o.sensitive {
                    output["sensitive"] = json!(true);
                }
                (o.name.clone(), output)
            })
            .collect();
        json!({
            "version": 4,
            "terraform_version": self.terraform_version,
            "serial": self.serial,
            "lineage": self.lineage,
            "outputs": outputs,
            "resources": [],
            "check_results": null,
        })
    }

    /// The state file's bytes, pretty-printed as Terraform writes them.
    pub fn state_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(&self.state_file()).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The state as `terraform show -json` gives it (the JSON download).
    pub fn json_state(&self) -> Value {
        let outputs: serde_json::Map<String, Value> = self
            .outputs
            .iter()
            .map(|o| {
                (
                    o.name.clone(),
                    json!({"sensitive": o.sensitive, "value": o.value, "type": o.detailed_type()}),
                )
            })
            .collect();
        json!({
            "format_version": "1.0",
            "terraform_version": self.terraform_version,
            "values": {"outputs": outputs, "root_module": {}},
        })
    }
}

/// A workspace variable.
#[derive(Debug, Clone)]
pub struct Variable {
    /// `var-…`.
    pub id: String,
    pub workspace_id: String,
    pub key: String,
    pub value: String,
    pub description: Option<String>,
    pub category: VariableCategory,
    pub hcl: bool,
    pub sensitive: bool,
    /// Changes with every update.
    pub version_id: String,
    /// Creation order, the order lists give.
    pub seq: u64,
}

/// One request in the log.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogEntry {
    pub method: String,
    pub route: String,
    pub path: String,
    pub status: u16,
    pub at: String,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Set when a fault rule produced or altered the response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// No route serves the request (its `route` is then its path): the emulator lacks what was asked for.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unserved: bool,
}

/// The request log: the newest `LOG_CAPACITY` entries plus counters over every request since the last reset.
#[derive(Debug, Default)]
pub struct RequestLog {
    pub entries: std::collections::VecDeque<LogEntry>,
    pub total: u64,
    pub by_route: BTreeMap<String, u64>,
    pub by_status: BTreeMap<String, u64>,
    pub served_429: u64,
    pub served_5xx: u64,
}

/// Entries kept in the log; counters are not limited.
pub(crate) const LOG_CAPACITY: usize = 10_000;

impl RequestLog {
    pub fn record(&mut self, entry: LogEntry) {
        self.total += 1;
        *self
            .by_route
            .entry(format!("{} {}", entry.method, entry.route))
            .or_default() += 1;
        *self.by_status.entry(entry.status.to_string()).or_default() += 1;
        self.served_429 += u64::from(entry.status == 429);
        self.served_5xx += u64::from(entry.status >= 500);
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    pub fn reset(&mut self) {
        *self = RequestLog::default();
    }

    /// `{"total", "by_route": {"METHOD /route": n}, "by_status", "served_429", "served_5xx"}`.
    pub fn counters(&self) -> serde_json::Value {
        serde_json::json!({"total": self.total, "by_route": self.by_route, "by_status": self.by_status,
            "served_429": self.served_429, "served_5xx": self.served_5xx})
    }
}

#[derive(Debug, Clone)]
pub struct OAuthClient {
    pub id: String,
    pub organization: String,
    pub name: Option<String>,
    pub service_provider: String,
    pub http_url: String,
    pub api_url: String,
    pub organization_scoped: bool,
    pub token_id: Option<String>,
    /// The token's private SSH key is set (`PATCH /oauth-tokens/:id`).
    pub token_has_ssh_key: bool,
    pub created_at: OffsetDateTime,
    /// The id in its callback URL and connect path (a UUID, as TFE's).
    pub callback_id: String,
}

/// What a new run is made of: what `POST /runs` (or an upload, or a workspace created with queue-all-runs)
/// decides. [`NewRun::new`] gives the API's defaults for the rest.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub workspace_id: String,
    pub configuration_version_id: String,
    /// The user the run's `created-by` names.
    pub created_by: String,
    /// `tfe-api`, or `tfe-configuration-version` for a run an upload or a new workspace queued.
    pub source: &'static str,
    pub message: String,
    pub is_destroy: bool,
    pub auto_apply: bool,
    pub plan_only: bool,
    pub refresh: bool,
    pub refresh_only: bool,
    pub allow_empty_apply: bool,
    pub target_addrs: Vec<String>,
    pub replace_addrs: Vec<String>,
    pub variables: Vec<RunVariable>,
    pub terraform_version: Option<String>,
}

impl NewRun {
    /// A plan-and-apply run of the workspace's configuration version `configuration_version_id`, with the API's
    /// defaults: refresh, no auto-apply, no targets.
    pub fn new(
        workspace_id: &str,
        configuration_version_id: &str,
        created_by: &str,
        source: &'static str,
        message: impl Into<String>,
    ) -> NewRun {
        NewRun {
            workspace_id: workspace_id.to_string(),
            configuration_version_id: configuration_version_id.to_string(),
            created_by: created_by.to_string(),
            source,
            message: message.into(),
            is_destroy: false,
            auto_apply: false,
            plan_only: false,
            refresh: true,
            refresh_only: false,
            allow_empty_apply: false,
            target_addrs: Vec::new(),
            replace_addrs: Vec::new(),
            variables: Vec::new(),
            terraform_version: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Store {
    pub organizations: BTreeMap<String, Organization>,
    pub workspaces: BTreeMap<String, Workspace>,
    pub configuration_versions: BTreeMap<String, ConfigurationVersion>,
    pub runs: BTreeMap<String, Run>,
    pub state_versions: BTreeMap<String, StateVersion>,
    pub variables: BTreeMap<String, Variable>,
    pub oauth_clients: BTreeMap<String, OAuthClient>,
    /// Runs of deleted workspaces with the workspace's name, kept for the admin API only, so tests
    /// can check what happened in a workspace a configuration destroyed.
    pub deleted_runs: Vec<(String, Run)>,
    pub defaults: Knobs,
    pub default_counters: OutcomeCounters,
    pub seq: u64,
    pub log: RequestLog,
    /// Drop unknown `include` names instead of answering 400.
    pub lenient_includes: bool,
    /// The server's base URL once bound (the absolute `log-read-url`s start with it).
    pub public_url: String,
    /// Answers as HCP Terraform (`--app-name "HCP Terraform"`): with the keys only HCP Terraform returns.
    pub hcp_terraform: bool,
}

impl Store {
    pub fn new(defaults: Knobs) -> Store {
        Store {
            defaults,
            ..Default::default()
        }
    }

    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub fn workspace_by_name(&self, org: &str, name: &str) -> Option<&Workspace> {
        self.workspaces
            .values()
            .find(|w| w.organization == org && w.name == name)
    }

    /// Knobs in effect for a workspace: server defaults, then organization, then workspace.
    pub fn effective_knobs(&self, workspace_id: &str) -> Knobs {
        let mut knobs = self.defaults.clone();
        if let Some(ws) = self.workspaces.get(workspace_id) {
            if let Some(org) = self.organizations.get(&ws.organization) {
                knobs.merge(&org.knobs);
            }
            knobs.merge(&ws.knobs);
        }
        knobs
    }

    pub fn org_knobs(&self, org: &str) -> Knobs {
        let mut knobs = self.defaults.clone();
        if let Some(o) = self.organizations.get(org) {
            knobs.merge(&o.knobs);
        }
        knobs
    }

    /// The error counters of the level that set a knob, so `error_first_n` counts per setting.
    pub fn counters_for(
        &mut self,
        workspace_id: &str,
        pick: fn(&Knobs) -> bool,
    ) -> Option<&mut OutcomeCounters> {
        let org = self.workspaces.get(workspace_id)?.organization.clone();
        if pick(&self.workspaces[workspace_id].knobs) {
            return self
                .workspaces
                .get_mut(workspace_id)
                .map(|w| &mut w.counters);
        }
        if self.organizations.get(&org).is_some_and(|o| pick(&o.knobs)) {
            return self.organizations.get_mut(&org).map(|o| &mut o.counters);
        }
        Some(&mut self.default_counters)
    }

    /// The workspace's current configuration version: the one created last, uploaded or not, which a run
    /// uses unless it names another.
    pub fn current_configuration_version(
        &self,
        workspace_id: &str,
    ) -> Option<&ConfigurationVersion> {
        self.configuration_versions
            .values()
            .filter(|cv| cv.workspace_id == workspace_id)
            .max_by_key(|cv| cv.seq)
    }

    /// The workspace's current state version: the newest.
    pub fn current_state_version(&self, workspace_id: &str) -> Option<&StateVersion> {
        self.state_versions
            .values()
            .filter(|sv| sv.workspace_id == workspace_id)
            .max_by_key(|sv| sv.seq)
    }

    /// The workspace's variables in creation order.
    pub fn workspace_variables(&self, workspace_id: &str) -> Vec<&Variable> {
        let mut vars: Vec<&Variable> = self
            .variables
            .values()
            .filter(|v| v.workspace_id == workspace_id)
            .collect();
        vars.sort_by_key(|v| v.seq);
        vars
    }

    /// The required Terraform variables (`required_variables` knob) that neither a Terraform variable of the
    /// workspace, nor an environment variable `TF_VAR_<name>`, nor the run's own variables set.
    pub fn missing_variables(&self, run: &Run) -> Vec<String> {
        let required = self
            .effective_knobs(&run.workspace_id)
            .required_variables
            .unwrap_or_default();
        let vars = self.workspace_variables(&run.workspace_id);
        required
            .into_iter()
            .filter(|name| {
                let env_name = format!("TF_VAR_{name}");
                let in_workspace = vars.iter().any(|v| match v.category {
                    VariableCategory::Terraform => &v.key == name,
                    VariableCategory::Env => v.key == env_name,
                    _ => false,
                });
                !in_workspace && !run.variables.iter().any(|v| &v.key == name)
            })
            .collect()
    }

    /// Records the state an apply of `run_id` left: the workspace's next serial, the outputs of the `outputs`
    /// knob (marked by `sensitive_outputs`; none after a destroy), processed `state_processing_ms` later.
    pub fn new_state_version(&mut self, run_id: &str) -> Option<String> {
        let run = self.runs.get(run_id)?;
        let ws = self.workspaces.get(&run.workspace_id)?;
        let knobs = self.effective_knobs(&run.workspace_id);
        let sensitive = knobs.sensitive_outputs.clone().unwrap_or_default();
        let outputs = if run.is_destroy {
            Vec::new()
        } else {
            knobs
                .outputs
                .iter()
                .flatten()
                .filter(|(_, value)| !value.is_null())
                .map(|(name, value)| StateOutput {
                    id: format!("wsout-{}", new_suffix()),
                    name: name.clone(),
                    value: value.clone(),
                    sensitive: sensitive.contains(name),
                })
                .collect()
        };
        let serial = self.current_state_version(&ws.id).map_or(0, |sv| sv.serial) + 1;
        let created_at = now();
        let processing = time::Duration::milliseconds(
            i64::try_from(knobs.state_processing_ms.unwrap_or(0)).unwrap_or(i64::MAX),
        );
        let id = format!("sv-{}", new_suffix());
        let state_version = StateVersion {
            id: id.clone(),
            workspace_id: ws.id.clone(),
            run_id: Some(run.id.clone()),
            created_by: run.created_by.clone(),
            seq: 0,
            serial,
            lineage: ws.lineage.clone(),
            terraform_version: crate::terraform_versions::concrete(&ws.terraform_version),
            created_at,
            processed_at: created_at.saturating_add(processing),
            outputs,
            download_secret: new_secret(),
            json_download_secret: new_secret(),
        };
        let seq = self.next_seq();
        self.state_versions.insert(
            id.clone(),
            StateVersion {
                seq,
                ..state_version
            },
        );
        Some(id)
    }

    /// The state version a download secret belongs to, and whether it is the JSON (`show -json`) download.
    pub fn state_version_by_secret(&self, secret: &str) -> Option<(&StateVersion, bool)> {
        self.state_versions.values().find_map(|sv| {
            if sv.download_secret == secret {
                Some((sv, false))
            } else if sv.json_download_secret == secret {
                Some((sv, true))
            } else {
                None
            }
        })
    }

    /// The state version and output an output id (`wsout-…`) belongs to.
    pub fn state_output(&self, output_id: &str) -> Option<(&StateVersion, &StateOutput)> {
        self.state_versions.values().find_map(|sv| {
            sv.outputs
                .iter()
                .find(|o| o.id == output_id)
                .map(|o| (sv, o))
        })
    }

    pub fn new_organization(
        &mut self,
        name: &str,
        email: &str,
        cost_estimation_enabled: bool,
    ) -> &Organization {
        let org = Organization {
            name: name.to_string(),
            email: email.to_string(),
            cost_estimation_enabled,
            created_at: now(),
            knobs: Knobs::default(),
            counters: OutcomeCounters::default(),
            session_timeout: None,
            session_remember: None,
            external_id: format!("org-{}", new_suffix()),
            settings: OrganizationSettings::default(),
        };
        self.organizations.insert(name.to_string(), org);
        &self.organizations[name]
    }

    /// Adds a workspace, in its organization's default execution mode.
    pub fn new_workspace(&mut self, org: &str, name: &str) -> String {
        let id = format!("ws-{}", new_suffix());
        let t = now();
        let execution_mode = self.organizations.get(org).map_or_else(
            || "remote".to_string(),
            |o| o.settings.default_execution_mode.clone(),
        );
        let ws = Workspace {
            id: id.clone(),
            organization: org.to_string(),
            name: name.to_string(),
            auto_apply: false,
            execution_mode,
            queue_all_runs: false,
            allow_destroy_plan: true,
            terraform_version: "1.9.8".into(),
            working_directory: String::new(),
            vcs_repo: None,
            resource_count: 0,
            lock: None,
            current_run: None,
            created_at: t,
            updated_at: t,
            knobs: Knobs::default(),
            counters: OutcomeCounters::default(),
            file_triggers_enabled: true,
            speculative_enabled: true,
            trigger_prefixes: Vec::new(),
            structured_run_output_enabled: true,
            lineage: new_uuid(),
            execution_mode_overwritten: false,
            settings: WorkspaceSettings::default(),
            webhook_id: new_uuid(),
        };
        self.workspaces.insert(id.clone(), ws);
        id
    }

    pub fn new_configuration_version(
        &mut self,
        workspace_id: &str,
        source: &str,
        uploaded: bool,
        speculative: bool,
        auto_queue_runs: bool,
    ) -> String {
        let id = format!("cv-{}", new_suffix());
        let seq = self.next_seq();
        let mut timestamps = BTreeMap::new();
        let t = timestamp(now());
        timestamps.insert("pending-at".into(), t.clone());
        if uploaded {
            timestamps.insert("uploaded-at".into(), t);
        }
        // A VCS workspace's configuration is fetched; the `configuration_upload_ms` knob makes that take a while.
        let fetch_ms = self
            .effective_knobs(workspace_id)
            .configuration_upload_ms
            .unwrap_or(0);
        let fetching = uploaded && fetch_ms > 0;
        if fetching {
            timestamps.remove("uploaded-at");
            timestamps.insert("fetching-at".into(), timestamp(now()));
        }
        let cv = ConfigurationVersion {
            id: id.clone(),
            workspace_id: workspace_id.to_string(),
            recorded_status: match (uploaded, fetching) {
                (true, false) => "uploaded",
                (true, true) => "fetching",
                (false, _) => "pending",
            }
            .into(),
            ready_at: fetching.then(|| after_ms(fetch_ms)),
            source: source.into(),
            speculative,
            auto_queue_runs,
            provisional: false,
            seq,
            timestamps,
            archive: None,
        };
        self.configuration_versions.insert(id.clone(), cv);
        id
    }

    /// Finds the run that owns a sub-resource id like `plan-X` or `polchk-X`.
    pub fn run_by_child(&self, prefix: &str, id: &str) -> Option<&Run> {
        let suffix = id.strip_prefix(prefix)?.strip_prefix('-')?;
        self.runs.get(&format!("run-{suffix}"))
    }

    /// Renames an organization: its record, and every workspace, run and OAuth client that names it.
    pub fn rename_organization(&mut self, from: &str, to: &str) {
        let Some(mut org) = self.organizations.remove(from) else {
            return;
        };
        org.name = to.to_string();
        self.organizations.insert(to.to_string(), org);
        for ws in self
            .workspaces
            .values_mut()
            .filter(|w| w.organization == from)
        {
            ws.organization = to.to_string();
        }
        for run in self.runs.values_mut().filter(|r| r.organization == from) {
            run.organization = to.to_string();
        }
        for client in self
            .oauth_clients
            .values_mut()
            .filter(|c| c.organization == from)
        {
            client.organization = to.to_string();
        }
    }

    /// The run and phase a log secret belongs to.
    pub fn run_by_log_id(&self, log_id: &str) -> Option<(&Run, PhaseKind)> {
        self.runs.values().find_map(|r| {
            if r.plan.log_id == log_id {
                Some((r, PhaseKind::Plan))
            } else if r.apply.log_id == log_id {
                Some((r, PhaseKind::Apply))
            } else {
                None
            }
        })
    }

    /// A fresh run record in `pending`, as `spec` describes it; its plan, apply and checks follow from the
    /// workspace's knobs.
    pub fn new_run(&mut self, spec: NewRun) -> String {
        let NewRun {
            workspace_id,
            configuration_version_id,
            created_by,
            source,
            message,
            is_destroy,
            auto_apply,
            plan_only,
            refresh,
            refresh_only,
            allow_empty_apply,
            target_addrs,
            replace_addrs,
            variables,
            terraform_version,
        } = spec;
        let workspace_id = workspace_id.as_str();
        let suffix = new_suffix();
        let id = format!("run-{suffix}");
        let seq = self.next_seq();
        let knobs = self.effective_knobs(workspace_id);
        let input_state_version = self
            .current_state_version(workspace_id)
            .map(|sv| sv.id.clone());
        let ws = &self.workspaces[workspace_id];
        let org = &self.organizations[&ws.organization];
        let cost_estimation = knobs.cost_estimation.unwrap_or(org.cost_estimation_enabled);
        let policy = knobs.policy.unwrap_or(PolicyMode::None);
        let task = knobs.post_plan_task.unwrap_or(TaskMode::None);
        let stamp = || {
            let mut m = BTreeMap::new();
            m.insert("queued-at".to_string(), timestamp(now()));
            m
        };
        let mut run = Run {
            id: id.clone(),
            suffix,
            seq,
            workspace_id: workspace_id.to_string(),
            organization: ws.organization.clone(),
            configuration_version_id,
            created_by,
            status: RunStatus::Pending,
            timestamps: BTreeMap::new(),
            is_destroy,
            auto_apply,
            plan_only,
            allow_empty_apply,
            refresh,
            refresh_only,
            target_addrs,
            replace_addrs,
            variables,
            terraform_version,
            message,
            source: source.into(),
            created_at: now(),
            has_changes: false,
            plan: Phase::new(&self.public_url),
            apply: Phase::new(&self.public_url),
            cost_estimate: cost_estimation.then(|| CostEstimateRec {
                status: "pending".into(),
                timestamps: stamp(),
            }),
            policy_check: (policy != PolicyMode::None).then(|| PolicyCheckRec {
                mode: policy,
                status: PolicyCheckStatus::Pending,
                timestamps: stamp(),
            }),
            post_plan_task: (task != TaskMode::None).then(|| TaskStageRec {
                mode: task,
                status: "pending".into(),
                created_at: now(),
                timestamps: BTreeMap::new(),
            }),
            paused: false,
            holds_worker: false,
            cancel_requested: false,
            force_cancel_available_at: None,
            generation: 0,
            plan_failure: None,
            input_state_version,
        };
        run.set_status(RunStatus::Pending);
        self.runs.insert(id.clone(), run);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lineages_are_version_4_uuids() {
        let lineage = new_uuid();
        let groups: Vec<&str> = lineage.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12],
            "{lineage}"
        );
        assert!(groups[2].starts_with('4'), "{lineage}");
        assert!("89ab".contains(&groups[3][..1]), "{lineage}");
        assert_ne!(new_uuid(), lineage);
    }

    #[test]
    fn output_types_are_what_a_literal_of_the_value_has() {
        assert_eq!(cty_type(&json!("x")), json!("string"));
        assert_eq!(cty_type(&json!(1.5)), json!("number"));
        assert_eq!(cty_type(&json!(true)), json!("bool"));
        assert_eq!(
            cty_type(&json!([1, "a"])),
            json!(["tuple", ["number", "string"]])
        );
        assert_eq!(
            cty_type(&json!({"a": [], "b": {"c": null}})),
            json!(["object", {"a": ["tuple", []], "b": ["object", {"c": "dynamic"}]}])
        );
        let output = StateOutput {
            id: "wsout-1".into(),
            name: "n".into(),
            value: json!({"k": 1}),
            sensitive: false,
        };
        assert_eq!(output.kind(), "object");
    }

    #[test]
    fn timestamps_are_utc_with_milliseconds_and_a_literal_z() {
        let t = time::macros::datetime!(2024-05-01 14:34:56.789_123 +02:00);
        assert_eq!(timestamp(t), "2024-05-01T12:34:56.789Z");
        let round = time::macros::datetime!(2024-12-31 23:59:59 UTC);
        assert_eq!(timestamp(round), "2024-12-31T23:59:59.000Z");
    }
}
