//! JSON:API wire types shared by the client and the emulator.
//!
//! A resource is `Resource<A>`: id, type, typed attributes and raw relationships. Attribute structs use the
//! API's kebab-case names and tolerate missing fields, so a newer server never breaks parsing.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// One relationship: `{"data": null | {type,id} | [{type,id}...]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Relationship {
    #[serde(default)]
    pub data: RelationshipData,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Value>,
}

/// The `data` of a relationship: absent/null, one identifier or a list (to-many relations are always lists).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RelationshipData {
    #[default]
    Null,
    One(ResourceId),
    Many(Vec<ResourceId>),
}

/// A resource identifier `{type, id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceId {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

impl Relationship {
    pub fn one(kind: &str, id: impl Into<String>) -> Self {
        Relationship {
            data: RelationshipData::One(ResourceId {
                kind: kind.into(),
                id: id.into(),
            }),
            links: None,
        }
    }
    pub fn maybe_one(kind: &str, id: Option<impl Into<String>>) -> Self {
        match id {
            Some(id) => Self::one(kind, id),
            None => Relationship::default(),
        }
    }
    pub fn many(kind: &str, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let ids = ids
            .into_iter()
            .map(|id| ResourceId {
                kind: kind.into(),
                id: id.into(),
            })
            .collect();
        Relationship {
            data: RelationshipData::Many(ids),
            links: None,
        }
    }
}

/// A JSON:API resource object with typed attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource<A> {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub attributes: A,
    #[serde(default)]
    pub relationships: BTreeMap<String, Relationship>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Value>,
}

impl<A> Resource<A> {
    /// The id of a to-one relationship, if set.
    pub fn related_id(&self, name: &str) -> Option<&str> {
        match &self.relationships.get(name)?.data {
            RelationshipData::One(r) => Some(&r.id),
            _ => None,
        }
    }
    /// The ids of a to-many relationship (empty when absent).
    pub fn related_ids(&self, name: &str) -> Vec<&str> {
        match self.relationships.get(name).map(|r| &r.data) {
            Some(RelationshipData::Many(v)) => v.iter().map(|r| r.id.as_str()).collect(),
            Some(RelationshipData::One(r)) => vec![r.id.as_str()],
            _ => Vec::new(),
        }
    }
    /// The type of a to-one relationship (e.g. `locked-by` is `runs` or `users`).
    pub fn related_kind(&self, name: &str) -> Option<&str> {
        match &self.relationships.get(name)?.data {
            RelationshipData::One(r) => Some(&r.kind),
            _ => None,
        }
    }
}

/// `meta.pagination` of a list document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Pagination {
    /// 0 when the server sent no usable number.
    #[serde(default, deserialize_with = "lenient_page_number")]
    pub current_page: u32,
    #[serde(default, deserialize_with = "lenient_count")]
    pub prev_page: Option<u32>,
    #[serde(default, deserialize_with = "lenient_count")]
    pub next_page: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_count"
    )]
    pub total_pages: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_count"
    )]
    pub total_count: Option<u32>,
}

/// Page numbers come from the server: anything but a non-negative integer that fits reads as absent, so
/// a broken `meta` never fails the list it describes.
fn lenient_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(value.as_u64().and_then(|n| u32::try_from(n).ok()))
}

fn lenient_page_number<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    lenient_count(d).map(Option::unwrap_or_default)
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub pagination: Pagination,
}

/// `{"errors":[...]}`: accepts objects or bare strings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorDocument {
    #[serde(default)]
    pub errors: Vec<ApiErrorItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ApiErrorItem {
    Object {
        #[serde(default)]
        status: Option<Value>,
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        detail: Option<String>,
    },
    Text(String),
}

impl ApiErrorItem {
    /// The most useful text: detail, else title.
    pub fn message(&self) -> Option<&str> {
        match self {
            ApiErrorItem::Object {
                detail: Some(d), ..
            } if !d.is_empty() => Some(d),
            ApiErrorItem::Object { title, .. } => title.as_deref(),
            ApiErrorItem::Text(t) => Some(t),
        }
    }
}

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value this version does not know; kept verbatim so parsing never fails.
            Unknown(String),
        }
        impl $name {
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &str {
                match self { $($name::$variant => $text,)+ $name::Unknown(s) => s }
            }
            pub fn parse(s: &str) -> Self {
                match s { $($text => $name::$variant,)+ other => $name::Unknown(other.to_string()) }
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> Self { $name::parse(s) }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok($name::parse(&s))
            }
        }
    };
}

string_enum!(
    /// A run's status (tfe-api.md section 3).
    RunStatus {
        Pending = "pending",
        Fetching = "fetching",
        FetchingCompleted = "fetching_completed",
        PrePlanRunning = "pre_plan_running",
        PrePlanCompleted = "pre_plan_completed",
        Queuing = "queuing",
        PlanQueued = "plan_queued",
        Planning = "planning",
        Planned = "planned",
        PostPlanRunning = "post_plan_running",
        PostPlanCompleted = "post_plan_completed",
        PostPlanAwaitingDecision = "post_plan_awaiting_decision",
        CostEstimating = "cost_estimating",
        CostEstimated = "cost_estimated",
        PolicyChecking = "policy_checking",
        PolicyChecked = "policy_checked",
        PolicyOverride = "policy_override",
        // The tf_ names: what some TFE releases report for policy_checked and policy_override.
        TfPolicyChecked = "tf_policy_checked",
        TfPolicyOverride = "tf_policy_override",
        PolicySoftFailed = "policy_soft_failed",
        PlannedAndSaved = "planned_and_saved",
        PlannedAndFinished = "planned_and_finished",
        Confirmed = "confirmed",
        PreApplyRunning = "pre_apply_running",
        PreApplyCompleted = "pre_apply_completed",
        QueuingApply = "queuing_apply",
        ApplyQueued = "apply_queued",
        Applying = "applying",
        Applied = "applied",
        PostApplyRunning = "post_apply_running",
        PostApplyCompleted = "post_apply_completed",
        Errored = "errored",
        Discarded = "discarded",
        Canceled = "canceled",
        ForceCanceled = "force_canceled",
    }
);

impl RunStatus {
    /// Final statuses: the run will never change again.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            RunStatus::Applied
                | RunStatus::PlannedAndFinished
                | RunStatus::Errored
                | RunStatus::Discarded
                | RunStatus::Canceled
                | RunStatus::ForceCanceled
                | RunStatus::PolicySoftFailed
        )
    }
}

string_enum!(
    /// Status of a plan or an apply.
    PhaseStatus {
        Pending = "pending",
        Queued = "queued",
        Running = "running",
        Finished = "finished",
        Errored = "errored",
        Canceled = "canceled",
        Unreachable = "unreachable",
        Created = "created",
        MfaWaiting = "mfa_waiting",
    }
);

string_enum!(
    /// Status of a policy check.
    PolicyCheckStatus {
        Pending = "pending",
        Queued = "queued",
        Passed = "passed",
        SoftFailed = "soft_failed",
        HardFailed = "hard_failed",
        Overridden = "overridden",
        Errored = "errored",
        Canceled = "canceled",
        Unreachable = "unreachable",
    }
);

/// `actions` of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct RunActions {
    pub is_cancelable: bool,
    pub is_confirmable: bool,
    pub is_discardable: bool,
    pub is_force_cancelable: bool,
}

/// `permissions` of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct RunPermissions {
    pub can_apply: bool,
    pub can_cancel: bool,
    pub can_discard: bool,
    pub can_force_cancel: bool,
    pub can_force_execute: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunAttributes {
    pub status: RunStatus,
    #[serde(default)]
    pub status_timestamps: BTreeMap<String, String>,
    #[serde(default)]
    pub actions: RunActions,
    #[serde(default)]
    pub permissions: RunPermissions,
    #[serde(default)]
    pub has_changes: bool,
    #[serde(default)]
    pub is_destroy: bool,
    #[serde(default)]
    pub auto_apply: bool,
    #[serde(default)]
    pub plan_only: bool,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_cancel_available_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_in_queue: Option<u32>,
    #[serde(default = "default_true")]
    pub refresh: bool,
    #[serde(default)]
    pub refresh_only: bool,
    #[serde(default)]
    pub allow_empty_apply: bool,
    #[serde(default)]
    pub target_addrs: Option<Vec<String>>,
    #[serde(default)]
    pub replace_addrs: Option<Vec<String>>,
}

fn default_true() -> bool {
    true
}

pub type Run = Resource<RunAttributes>;

impl Run {
    pub fn status(&self) -> &RunStatus {
        &self.attributes.status
    }
    pub fn workspace_id(&self) -> Option<&str> {
        self.related_id("workspace")
    }
    pub fn plan_id(&self) -> Option<&str> {
        self.related_id("plan")
    }
    pub fn apply_id(&self) -> Option<&str> {
        self.related_id("apply")
    }
    pub fn cost_estimate_id(&self) -> Option<&str> {
        self.related_id("cost-estimate")
    }
    pub fn policy_check_ids(&self) -> Vec<&str> {
        self.related_ids("policy-checks")
    }
}

/// Workspace `vcs-repo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct VcsRepo {
    pub identifier: String,
    pub branch: Option<String>,
    pub oauth_token_id: Option<String>,
    pub ingress_submodules: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags_regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_http_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct WorkspaceActions {
    pub is_destroyable: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct WorkspacePermissions {
    pub can_lock: bool,
    pub can_unlock: bool,
    pub can_force_unlock: bool,
    pub can_queue_run: bool,
    pub can_queue_apply: bool,
    pub can_queue_destroy: bool,
    pub can_update: bool,
    pub can_destroy: bool,
    pub can_force_delete: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct WorkspaceAttributes {
    pub name: String,
    pub auto_apply: bool,
    pub locked: bool,
    pub execution_mode: Option<String>,
    pub resource_count: u64,
    pub queue_all_runs: bool,
    pub allow_destroy_plan: bool,
    pub terraform_version: Option<String>,
    pub working_directory: Option<String>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub vcs_repo: Option<VcsRepo>,
    pub actions: WorkspaceActions,
    pub permissions: WorkspacePermissions,
    pub file_triggers_enabled: Option<bool>,
    pub speculative_enabled: Option<bool>,
    pub trigger_prefixes: Option<Vec<String>>,
    /// Deprecated: mirrors `execution-mode` (true unless it is `local`).
    pub operations: Option<bool>,
    pub structured_run_output_enabled: Option<bool>,
}

pub type Workspace = Resource<WorkspaceAttributes>;

impl Workspace {
    pub fn organization_name(&self) -> Option<&str> {
        self.related_id("organization")
    }
    pub fn current_run_id(&self) -> Option<&str> {
        self.related_id("current-run")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct OrganizationAttributes {
    pub name: String,
    pub email: Option<String>,
    pub cost_estimation_enabled: bool,
    pub created_at: Option<String>,
    /// Minutes of inactivity after which a session ends (`null`: the default).
    pub session_timeout: Option<u64>,
    /// Minutes a session lasts at most (`null`: the default).
    pub session_remember: Option<u64>,
}

pub type Organization = Resource<OrganizationAttributes>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct OAuthClientAttributes {
    pub name: Option<String>,
    pub service_provider: Option<String>,
    pub http_url: Option<String>,
    pub api_url: Option<String>,
    pub organization_scoped: bool,
    pub created_at: Option<String>,
}

pub type OAuthClient = Resource<OAuthClientAttributes>;

impl OAuthClient {
    /// The first OAuth token's id, which workspaces' `vcs-repo.oauth-token-id` refers to.
    pub fn oauth_token_id(&self) -> Option<&str> {
        self.related_ids("oauth-tokens").first().copied()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct ConfigurationVersionAttributes {
    pub status: String,
    pub source: Option<String>,
    pub speculative: bool,
    pub auto_queue_runs: bool,
    pub provisional: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_url: Option<String>,
    pub status_timestamps: BTreeMap<String, String>,
}

pub type ConfigurationVersion = Resource<ConfigurationVersionAttributes>;

/// Attributes shared by plans and applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PhaseAttributes {
    pub status: PhaseStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_changes: Option<bool>,
    #[serde(default)]
    pub resource_additions: u32,
    #[serde(default)]
    pub resource_changes: u32,
    #[serde(default)]
    pub resource_destructions: u32,
    #[serde(default)]
    pub resource_imports: u32,
    #[serde(default)]
    pub log_read_url: Option<String>,
    #[serde(default)]
    pub status_timestamps: BTreeMap<String, String>,
}

pub type Plan = Resource<PhaseAttributes>;
pub type Apply = Resource<PhaseAttributes>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct CostEstimateAttributes {
    pub status: String,
    pub prior_monthly_cost: Option<String>,
    pub proposed_monthly_cost: Option<String>,
    pub delta_monthly_cost: Option<String>,
    pub resources_count: u32,
    pub matched_resources_count: u32,
    pub unmatched_resources_count: u32,
    pub error_message: Option<String>,
    pub status_timestamps: BTreeMap<String, String>,
}

pub type CostEstimate = Resource<CostEstimateAttributes>;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct PolicyResult {
    pub result: bool,
    pub passed: u32,
    pub total_failed: u32,
    pub hard_failed: u32,
    pub soft_failed: u32,
    pub advisory_failed: u32,
    pub duration: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct PolicyCheckActions {
    pub is_overridable: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct PolicyCheckPermissions {
    pub can_override: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PolicyCheckAttributes {
    pub status: PolicyCheckStatus,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub result: Option<PolicyResult>,
    #[serde(default)]
    pub actions: PolicyCheckActions,
    #[serde(default)]
    pub permissions: PolicyCheckPermissions,
    #[serde(default)]
    pub status_timestamps: BTreeMap<String, String>,
}

pub type PolicyCheck = Resource<PolicyCheckAttributes>;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct TaskStageAttributes {
    pub stage: String,
    pub status: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub status_timestamps: BTreeMap<String, String>,
}

pub type TaskStage = Resource<TaskStageAttributes>;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct CapacityAttributes {
    pub pending: u32,
    pub running: u32,
}

pub type OrganizationCapacity = Resource<CapacityAttributes>;

/// What an organization may use (`GET /organizations/:org/entitlement-set`); entitlements the server does
/// not send are false.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct EntitlementSetAttributes {
    pub agents: bool,
    pub audit_logging: bool,
    pub cost_estimation: bool,
    pub operations: bool,
    pub private_module_registry: bool,
    pub sso: bool,
    pub sentinel: bool,
    pub state_storage: bool,
    pub teams: bool,
    pub vcs_integrations: bool,
}

pub type EntitlementSet = Resource<EntitlementSetAttributes>;

/// An OAuth client's token (`/oauth-tokens/:id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct OAuthTokenAttributes {
    pub uid: Option<String>,
    pub created_at: Option<String>,
    /// A private SSH key is set for cloning.
    pub has_ssh_key: bool,
    pub service_provider_user: Option<String>,
}

pub type OAuthToken = Resource<OAuthTokenAttributes>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_run_status_parses_and_round_trips() {
        let s: RunStatus = serde_json::from_str("\"brand_new_status\"").unwrap();
        assert_eq!(s, RunStatus::Unknown("brand_new_status".into()));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"brand_new_status\"");
        for known in RunStatus::KNOWN {
            assert_eq!(&RunStatus::parse(known.as_str()), known);
        }
    }

    #[test]
    fn relationships_accept_null_one_and_many() {
        let json = r#"{"id":"run-1","type":"runs","attributes":{"status":"planned"},
            "relationships":{"workspace":{"data":{"type":"workspaces","id":"ws-1"}},
            "cost-estimate":{"data":null},"policy-checks":{"data":[{"type":"policy-checks","id":"polchk-1"}]}}}"#;
        let run: Run = serde_json::from_str(json).unwrap();
        assert_eq!(run.workspace_id(), Some("ws-1"));
        assert_eq!(run.cost_estimate_id(), None);
        assert_eq!(run.policy_check_ids(), vec!["polchk-1"]);
        assert_eq!(run.status(), &RunStatus::Planned);
    }
}
