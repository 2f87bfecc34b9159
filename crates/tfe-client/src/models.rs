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
    /// The related resource(s).
    #[serde(default)]
    pub data: RelationshipData,
    /// The relationship's `links` as the server sent them; the client does not read them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Value>,
}

/// The `data` of a relationship: absent/null, one identifier or a list (to-many relations are always lists).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RelationshipData {
    /// `null` or absent: no related resource.
    #[default]
    Null,
    /// A to-one relationship that is set.
    One(ResourceId),
    /// A to-many relationship (possibly empty).
    Many(Vec<ResourceId>),
}

/// A resource identifier `{type, id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceId {
    /// The resource's JSON:API `type`, e.g. `workspaces`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The resource's id, e.g. `ws-…`.
    pub id: String,
}

impl Relationship {
    /// A to-one relationship to the `kind` resource `id`.
    pub fn one(kind: &str, id: impl Into<String>) -> Self {
        Relationship {
            data: RelationshipData::One(ResourceId {
                kind: kind.into(),
                id: id.into(),
            }),
            links: None,
        }
    }
    /// A to-one relationship to `id` when there is one, else `data: null`.
    pub fn maybe_one(kind: &str, id: Option<impl Into<String>>) -> Self {
        match id {
            Some(id) => Self::one(kind, id),
            None => Relationship::default(),
        }
    }
    /// The relationship with `links.related`: where the related resource(s) are read.
    pub fn related(mut self, path: impl Into<String>) -> Self {
        self.links = Some(serde_json::json!({"related": path.into()}));
        self
    }
    /// A to-many relationship to the `kind` resources `ids`, in that order.
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
    /// The resource's id (an organization's is its name).
    pub id: String,
    /// The JSON:API `type`, e.g. `runs`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The `attributes` object.
    pub attributes: A,
    /// The relationships by name, e.g. `workspace`, `current-run`.
    #[serde(default)]
    pub relationships: BTreeMap<String, Relationship>,
    /// The resource's `links` as the server sent them; the client does not read them.
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
    /// The previous page's number; `None` on the first page.
    #[serde(default, deserialize_with = "lenient_count")]
    pub prev_page: Option<u32>,
    /// The next page's number; `None` on the last page.
    #[serde(default, deserialize_with = "lenient_count")]
    pub next_page: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_count"
    )]
    /// `None` when the server leaves it out, as the organization-wide run list does.
    pub total_pages: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_count"
    )]
    /// The number of items over all pages; `None` when the server leaves it out.
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
    /// This page's items, decoded.
    pub items: Vec<T>,
    /// Where this page sits in the list.
    pub pagination: Pagination,
}

/// `{"errors":[...]}`: accepts objects or bare strings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ErrorDocument {
    /// The errors, in the server's order.
    #[serde(default)]
    pub errors: Vec<ApiErrorItem>,
}

/// One entry of `errors`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ApiErrorItem {
    /// The JSON:API error object.
    Object {
        /// The HTTP status, as the server wrote it: a string in TFE's answers, a number from some servers.
        #[serde(default)]
        status: Option<Value>,
        /// A short name of the error, e.g. `conflict`.
        #[serde(default)]
        title: Option<String>,
        /// What went wrong, in a sentence.
        #[serde(default)]
        detail: Option<String>,
    },
    /// A bare message, as some servers send instead of an object.
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
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $variant,)+
            /// A value this version does not know; kept verbatim so parsing never fails.
            Unknown(String),
        }
        impl $name {
            /// Every known value, in declaration order ([`Unknown`](Self::Unknown) not included).
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];
            /// The wire text.
            pub fn as_str(&self) -> &str {
                match self { $($name::$variant => $text,)+ $name::Unknown(s) => s }
            }
            /// Reads wire text; a text this version does not know becomes [`Unknown`](Self::Unknown).
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
    /// A run's status, as the API documents them
    /// (<https://developer.hashicorp.com/terraform/cloud-docs/api-docs/run#run-states>).
    RunStatus {
        /// Created; waiting for the workspace's queue or lock.
        Pending = "pending",
        /// Fetching the configuration from VCS.
        Fetching = "fetching",
        /// The configuration is fetched.
        FetchingCompleted = "fetching_completed",
        /// Pre-plan run tasks are running.
        PrePlanRunning = "pre_plan_running",
        /// Pre-plan run tasks are done.
        PrePlanCompleted = "pre_plan_completed",
        /// Queuing to plan.
        Queuing = "queuing",
        /// Waiting for a worker to plan.
        PlanQueued = "plan_queued",
        /// The plan is running.
        Planning = "planning",
        /// The plan is done; pauses here for confirmation when no later stage is enabled.
        Planned = "planned",
        /// Post-plan run tasks are running.
        PostPlanRunning = "post_plan_running",
        /// Post-plan run tasks are done.
        PostPlanCompleted = "post_plan_completed",
        /// A post-plan run task waits for someone's decision.
        PostPlanAwaitingDecision = "post_plan_awaiting_decision",
        /// The cost estimate is running.
        CostEstimating = "cost_estimating",
        /// The cost estimate is done.
        CostEstimated = "cost_estimated",
        /// Sentinel policies are being checked.
        PolicyChecking = "policy_checking",
        /// The policy checks passed or were overridden.
        PolicyChecked = "policy_checked",
        /// A soft-mandatory policy failed on a run that could apply: paused until someone overrides or discards.
        PolicyOverride = "policy_override",
        // The tf_ names: what some TFE releases report for policy_checked and policy_override.
        /// [`PolicyChecked`](RunStatus::PolicyChecked) under its `tf_` name.
        TfPolicyChecked = "tf_policy_checked",
        /// [`PolicyOverride`](RunStatus::PolicyOverride) under its `tf_` name.
        TfPolicyOverride = "tf_policy_override",
        /// A soft-mandatory policy failed on a plan-only run. Final.
        PolicySoftFailed = "policy_soft_failed",
        /// A saved-plan run finished its checks; it can be confirmed later.
        PlannedAndSaved = "planned_and_saved",
        /// The plan had no changes, or the run is plan-only. Final.
        PlannedAndFinished = "planned_and_finished",
        /// The apply was confirmed (by a user or by auto-apply).
        Confirmed = "confirmed",
        /// Pre-apply run tasks are running.
        PreApplyRunning = "pre_apply_running",
        /// Pre-apply run tasks are done.
        PreApplyCompleted = "pre_apply_completed",
        /// Queuing to apply.
        QueuingApply = "queuing_apply",
        /// Waiting for a worker to apply.
        ApplyQueued = "apply_queued",
        /// The apply is running.
        Applying = "applying",
        /// The apply is done. Final.
        Applied = "applied",
        /// Post-apply run tasks are running.
        PostApplyRunning = "post_apply_running",
        /// Post-apply run tasks are done.
        PostApplyCompleted = "post_apply_completed",
        /// The plan, a policy check or the apply failed. Final.
        Errored = "errored",
        /// Discarded before it applied. Final.
        Discarded = "discarded",
        /// Canceled. Final.
        Canceled = "canceled",
        /// Force-canceled. Final. Listed in the API docs, but go-tfe and pytfe do not know it.
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
        /// Not started.
        Pending = "pending",
        /// Waiting for a worker.
        Queued = "queued",
        /// Terraform is running.
        Running = "running",
        /// Done without error. Final.
        Finished = "finished",
        /// Failed. Final.
        Errored = "errored",
        /// Canceled. Final.
        Canceled = "canceled",
        /// Will not run, because an earlier stage ended the run. Final.
        Unreachable = "unreachable",
        /// Created, not yet pending. Not in the API docs' list; go-tfe knows it.
        Created = "created",
        /// Waiting for the user's multi-factor authentication. Not in the API docs' list; go-tfe knows it.
        MfaWaiting = "mfa_waiting",
    }
);

string_enum!(
    /// Status of a policy check.
    PolicyCheckStatus {
        /// Not started.
        Pending = "pending",
        /// Waiting to be evaluated.
        Queued = "queued",
        /// Every policy passed.
        Passed = "passed",
        /// A soft-mandatory policy failed; an override lets the run go on.
        SoftFailed = "soft_failed",
        /// A hard-mandatory policy failed; the run errors.
        HardFailed = "hard_failed",
        /// A soft failure was overridden.
        Overridden = "overridden",
        /// The check itself failed.
        Errored = "errored",
        /// Canceled with its run.
        Canceled = "canceled",
        /// Will not run, because an earlier stage ended the run.
        Unreachable = "unreachable",
    }
);

/// `actions` of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct RunActions {
    /// A cancel is allowed now (the run is pending, queued, planning or applying).
    pub is_cancelable: bool,
    /// The run waits for confirmation: an apply is allowed now.
    pub is_confirmable: bool,
    /// A discard is allowed now (the run is pending or paused).
    pub is_discardable: bool,
    /// A force-cancel is allowed now: a cancel was sent and its cool-off has passed.
    pub is_force_cancelable: bool,
}

/// `permissions` of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct RunPermissions {
    /// The token may confirm the run.
    pub can_apply: bool,
    /// The token may cancel the run.
    pub can_cancel: bool,
    /// The token may discard the run.
    pub can_discard: bool,
    /// The token may force-cancel the run.
    pub can_force_cancel: bool,
    /// The token may force-execute the run (discard the run blocking it).
    pub can_force_execute: bool,
    /// The token may comment on the run.
    pub can_comment: bool,
    /// The token may override the run's soft-failed policy checks.
    pub can_override_policy_check: bool,
}

/// The `attributes` of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunAttributes {
    /// Where the run is in its lifecycle.
    pub status: RunStatus,
    /// When the run reached each status: `<status>-at` keys (`planned-at`, `errored-at`...) to RFC 3339 times.
    #[serde(default)]
    pub status_timestamps: BTreeMap<String, String>,
    /// What may be done with the run now.
    #[serde(default)]
    pub actions: RunActions,
    /// What the token may do with the run.
    #[serde(default)]
    pub permissions: RunPermissions,
    /// Whether the plan found changes; meaningful once the plan is done.
    #[serde(default)]
    pub has_changes: bool,
    /// A destroy run: plans to destroy every resource of the workspace.
    #[serde(default)]
    pub is_destroy: bool,
    /// Applies without confirmation after a successful plan; defaults to the workspace's setting.
    #[serde(default)]
    pub auto_apply: bool,
    /// A speculative run: it plans and can never apply.
    #[serde(default)]
    pub plan_only: bool,
    /// The run's message, shown in the UI.
    #[serde(default)]
    pub message: Option<String>,
    /// What created the run, e.g. `tfe-api` or `tfe-configuration-version`.
    #[serde(default)]
    pub source: Option<String>,
    /// When the run was created: UTC, RFC 3339 with a `Z`.
    #[serde(default)]
    pub created_at: Option<String>,
    /// After a cancel: when a force-cancel becomes allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_cancel_available_at: Option<String>,
    /// The run's place in the organization's queue; only in the run queue listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_in_queue: Option<u32>,
    /// Whether the plan refreshes state first; true when absent.
    #[serde(default = "default_true")]
    pub refresh: bool,
    /// A refresh-only run: it updates state to match the real resources and changes nothing.
    #[serde(default)]
    pub refresh_only: bool,
    /// Whether a plan without changes may still be applied (to update outputs, for one).
    #[serde(default)]
    pub allow_empty_apply: bool,
    /// Resource addresses to limit the run to (`-target`); `None` for all.
    #[serde(default)]
    pub target_addrs: Option<Vec<String>>,
    /// Resource addresses to replace even if unchanged (`-replace`).
    #[serde(default)]
    pub replace_addrs: Option<Vec<String>>,
    /// The run-scoped variable values the run was created with, each an HCL literal; empty when none.
    /// They can be secrets: print them only where the user asked to see them.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub variables: Vec<RunVariable>,
    /// The Terraform version a plan-only run uses instead of the workspace's; `None` for other runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terraform_version: Option<String>,
    /// When the run was canceled (or force-canceled); `None` for a run that was not.
    #[serde(default)]
    pub canceled_at: Option<String>,
    /// Why the run was started, e.g. `manual`.
    #[serde(default)]
    pub trigger_reason: Option<String>,
    /// A saved-plan run: it plans and checks, then waits (`planned_and_saved`) to be applied later.
    #[serde(default)]
    pub save_plan: bool,
    /// Whether the plan may write configuration for `import` blocks that have none.
    #[serde(default)]
    pub allow_config_generation: bool,
}

/// A `null` list reads as empty (the API writes `"variables": null` as readily as `[]`).
fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// One run-scoped variable value, as `POST /runs` takes it and the run shows it: the value is an HCL
/// literal (`"\"eu-west-1\""` for a string, `3`, `["a", "b"]`), as it would be written in a `.tfvars` file.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunVariable {
    /// The Terraform variable's name.
    pub key: String,
    /// Its value, an HCL literal.
    pub value: String,
}

/// Shows the key only: a run variable's value may be a secret.
impl fmt::Debug for RunVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunVariable")
            .field("key", &self.key)
            .field("value", &"<redacted>")
            .finish()
    }
}

fn default_true() -> bool {
    true
}

/// A run (`runs`).
pub type Run = Resource<RunAttributes>;

impl Run {
    /// The run's status.
    pub fn status(&self) -> &RunStatus {
        &self.attributes.status
    }
    /// The id of the run's workspace; every run has one.
    pub fn workspace_id(&self) -> Option<&str> {
        self.related_id("workspace")
    }
    /// The id of the run's plan.
    pub fn plan_id(&self) -> Option<&str> {
        self.related_id("plan")
    }
    /// The id of the run's apply.
    pub fn apply_id(&self) -> Option<&str> {
        self.related_id("apply")
    }
    /// The id of the run's cost estimate; `None` when cost estimation is off.
    pub fn cost_estimate_id(&self) -> Option<&str> {
        self.related_id("cost-estimate")
    }
    /// The ids of the run's policy checks; empty when there are none.
    pub fn policy_check_ids(&self) -> Vec<&str> {
        self.related_ids("policy-checks")
    }
}

/// Workspace `vcs-repo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct VcsRepo {
    /// The repository, as `owner/name` on the VCS host.
    pub identifier: String,
    /// The branch runs follow; `None` for the repository's default branch.
    pub branch: Option<String>,
    /// The OAuth token (`ot-…`) the workspace reaches the VCS with.
    pub oauth_token_id: Option<String>,
    /// Whether git submodules are fetched with the configuration.
    pub ingress_submodules: bool,
    /// A regular expression: when set, runs start for pushed tags that match instead of for branch pushes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags_regex: Option<String>,
    /// The repository as the UI shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_identifier: Option<String>,
    /// The VCS kind, e.g. `github`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_provider: Option<String>,
    /// The repository's web URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository_http_url: Option<String>,
    /// Where the VCS provider sends the repository's events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

/// `actions` of a workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct WorkspaceActions {
    /// Whether the workspace may be deleted now.
    pub is_destroyable: bool,
}

/// `permissions` of a workspace: what the token may do with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct WorkspacePermissions {
    /// Lock it.
    pub can_lock: bool,
    /// Unlock it when it holds the lock.
    pub can_unlock: bool,
    /// Unlock it whoever holds the lock.
    pub can_force_unlock: bool,
    /// Queue plans.
    pub can_queue_run: bool,
    /// Confirm applies.
    pub can_queue_apply: bool,
    /// Queue destroy plans.
    pub can_queue_destroy: bool,
    /// Change its settings.
    pub can_update: bool,
    /// Delete it.
    pub can_destroy: bool,
    /// Delete it even while it manages resources.
    pub can_force_delete: bool,
    /// Read its runs.
    pub can_read_run: bool,
    /// Read its settings.
    pub can_read_settings: bool,
    /// Read its variables.
    pub can_read_variable: bool,
    /// Change its variables.
    pub can_update_variable: bool,
    /// Read its state versions.
    pub can_read_state_versions: bool,
    /// Read its state's outputs.
    pub can_read_state_outputs: bool,
    /// Write state versions.
    pub can_create_state_versions: bool,
    /// Tag it.
    pub can_manage_tags: bool,
    /// Attach run tasks to it.
    pub can_manage_run_tasks: bool,
    /// Turn health assessments on or off.
    pub can_manage_assessments: bool,
    /// Read health assessment results.
    pub can_read_assessment_results: bool,
    /// Set it to destroy itself (auto-destroy).
    pub can_manage_ephemeral_workspaces: bool,
}

/// `setting-overwrites` of a workspace: which settings it sets itself rather than inheriting them from its
/// organization's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct SettingOverwrites {
    /// It sets its own execution mode.
    pub execution_mode: bool,
    /// It sets its own agent pool.
    pub agent_pool: bool,
}

/// The `attributes` of a workspace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct WorkspaceAttributes {
    /// The workspace's name, unique in its organization.
    pub name: String,
    /// Whether runs apply without confirmation after a successful plan.
    pub auto_apply: bool,
    /// Whether the workspace is locked, by a user, a team or a run (see the `locked-by` relationship).
    pub locked: bool,
    /// Where runs execute: `remote`, `local` or `agent`.
    pub execution_mode: Option<String>,
    /// How many resources its state holds; safe delete needs 0.
    pub resource_count: u64,
    /// Whether a run is queued as soon as the workspace is created, instead of waiting for the first run queued by hand.
    pub queue_all_runs: bool,
    /// Whether destroy plans may be queued.
    pub allow_destroy_plan: bool,
    /// The Terraform version runs use, e.g. `1.9.5`.
    pub terraform_version: Option<String>,
    /// The directory of the configuration, relative to its root, that Terraform runs in; `None` or empty for the root.
    pub working_directory: Option<String>,
    /// When the workspace was created: UTC, RFC 3339 with a `Z`.
    pub created_at: Option<String>,
    /// When the workspace last changed: UTC, RFC 3339 with a `Z`.
    pub updated_at: Option<String>,
    /// The linked repository; `None` for a workspace that takes uploaded configurations.
    pub vcs_repo: Option<VcsRepo>,
    /// What may be done with the workspace now.
    pub actions: WorkspaceActions,
    /// What the token may do with the workspace.
    pub permissions: WorkspacePermissions,
    /// Runs start only for changes under the working directory or the trigger prefixes.
    pub file_triggers_enabled: Option<bool>,
    /// Pull requests get speculative plans.
    pub speculative_enabled: Option<bool>,
    /// Directories whose changes start runs, beside the working directory.
    pub trigger_prefixes: Option<Vec<String>>,
    /// Deprecated: mirrors `execution-mode` (true unless it is `local`).
    pub operations: Option<bool>,
    /// Runs show structured (JSON) output in the UI.
    pub structured_run_output_enabled: Option<bool>,
    /// What the workspace is for, shown in the UI.
    pub description: Option<String>,
    /// The environment it runs in (`default`).
    pub environment: Option<String>,
    /// Whether every workspace of the organization may read its state (else only its remote state consumers).
    pub global_remote_state: Option<bool>,
    /// Whether runs its run triggers queue apply without confirmation.
    pub auto_apply_run_trigger: Option<bool>,
    /// Whether health assessments (drift detection) run on it. HCP Terraform only: `None` elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessments_enabled: Option<bool>,
    /// When it destroys its resources by itself (auto-destroy), RFC 3339; `None` when it does not.
    pub auto_destroy_at: Option<String>,
    /// Where a scheduled auto-destroy is (`scheduled`, ...); `None` without one.
    pub auto_destroy_status: Option<String>,
    /// Inactivity after which it destroys its resources, e.g. `14d`; `None` when it does not.
    pub auto_destroy_activity_duration: Option<String>,
    /// Whether it takes its project's auto-destroy setting.
    pub inherits_project_auto_destroy: Option<bool>,
    /// When its last health assessment finished; `None` without one.
    pub last_assessment_result_at: Option<String>,
    /// When its state last changed: its newest state version's creation, else its own.
    pub latest_change_at: Option<String>,
    /// Why a user locked it; `None` when unlocked (and empty when a run holds the lock).
    pub locked_reason: Option<String>,
    /// The name of the OAuth client its VCS connection uses.
    pub oauth_client_name: Option<String>,
    /// What created it: `tfe-api`, `tfe-ui`, `tfe-module`, `terraform`.
    pub source: Option<String>,
    /// The name of the tool that created it, when that tool said.
    pub source_name: Option<String>,
    /// A link back to the tool that created it, when that tool gave one.
    pub source_url: Option<String>,
    /// Its tags (flat string tags).
    pub tag_names: Option<Vec<String>>,
    /// Glob patterns of files whose changes start runs (instead of trigger prefixes).
    pub trigger_patterns: Option<Vec<String>>,
    /// The linked repository's identifier, `owner/name`; `None` without VCS.
    pub vcs_repo_identifier: Option<String>,
    /// Which settings it sets itself rather than inheriting.
    pub setting_overwrites: Option<SettingOverwrites>,
    /// Average plan duration in milliseconds over its last 30 runs that applied or errored.
    pub plan_duration_average: Option<u64>,
    /// Average apply duration in milliseconds over the same runs.
    pub apply_duration_average: Option<u64>,
    /// How many of those runs errored because a policy check failed.
    pub policy_check_failures: Option<u32>,
    /// How many of those runs errored.
    pub run_failures: Option<u32>,
    /// How many runs those figures cover (at most 30).
    pub workspace_kpis_runs_count: Option<u32>,
    /// Its change requests not yet archived (the API spells this one with underscores).
    #[serde(rename = "unarchived_workspace_change_requests_count")]
    pub unarchived_workspace_change_requests_count: Option<u32>,
}

/// A workspace (`workspaces`).
pub type Workspace = Resource<WorkspaceAttributes>;

impl Workspace {
    /// The id of the `organization` relationship, which is the organization's name.
    pub fn organization_name(&self) -> Option<&str> {
        self.related_id("organization")
    }
    /// The id of the `current-run` relationship: the run that last left the queue, kept after it finishes until the next one starts.
    pub fn current_run_id(&self) -> Option<&str> {
        self.related_id("current-run")
    }
    /// The id of the `current-state-version` relationship; `None` before the first state version.
    pub fn current_state_version_id(&self) -> Option<&str> {
        self.related_id("current-state-version")
    }
    /// The id of the `current-configuration-version` relationship: the configuration version created last,
    /// which runs use unless they name another; it may still be awaiting its upload.
    pub fn current_configuration_version_id(&self) -> Option<&str> {
        self.related_id("current-configuration-version")
    }
}

/// A workspace read with what a run about to be queued in it needs to know: its current run and its latest
/// configuration version, each when the server included it.
#[derive(Debug, Clone)]
pub struct WorkspaceWithCurrent {
    /// The workspace.
    pub workspace: Workspace,
    /// The run that last left the workspace's queue, if it has one.
    pub current_run: Option<Run>,
    /// The configuration version created last (`current-configuration-version`), which a run queued now
    /// would use; `None` when the workspace has none or the server did not include it.
    pub latest_configuration: Option<ConfigurationVersion>,
}

/// A workspace with what its last run did: the run and its plan, the current state version and the
/// workspace's outputs, as one list page shows them for many workspaces (`include=current_run,
/// current_run.plan,current-state-version,outputs`). Each part is `None` when the workspace has none or the
/// server did not include it.
#[derive(Debug, Clone)]
pub struct WorkspaceResults {
    /// The workspace.
    pub workspace: Workspace,
    /// Its current run.
    pub current_run: Option<Run>,
    /// The current run's plan.
    pub current_plan: Option<Plan>,
    /// Its current state version.
    pub state_version: Option<StateVersion>,
    /// Its outputs, in the relationship's order; `None` unless every one the relationship names was
    /// included.
    pub outputs: Option<Vec<WorkspaceOutput>>,
}

/// The `attributes` of an organization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct OrganizationAttributes {
    /// The organization's name, which is also its id.
    pub name: String,
    /// The owners' notification email.
    pub email: Option<String>,
    /// Whether runs get a cost estimate after the plan.
    pub cost_estimation_enabled: bool,
    /// When the organization was created: UTC, RFC 3339 with a `Z`.
    pub created_at: Option<String>,
    /// Minutes of inactivity after which a session ends (`null`: the default).
    pub session_timeout: Option<u64>,
    /// Minutes a session lasts at most (`null`: the default).
    pub session_remember: Option<u64>,
    /// The organization's internal id (`org-…`), which is also its entitlement set's.
    pub external_id: Option<String>,
    /// `password` or `two_factor_mandatory`.
    pub collaborator_auth_policy: Option<String>,
    /// The execution mode new workspaces get: `remote`, `local` or `agent`.
    pub default_execution_mode: Option<String>,
    /// Whether workspace admins may delete workspaces that manage resources.
    pub allow_force_delete_workspaces: Option<bool>,
    /// Whether VCS statuses are sent for speculative plans no workspace triggered.
    pub send_passing_statuses_for_untriggered_speculative_plans: Option<bool>,
    /// Whether VCS statuses of the workspaces one commit triggers are aggregated into one.
    pub aggregated_commit_status_enabled: Option<bool>,
    /// Whether plan-only runs a newer commit makes stale are canceled.
    pub speculative_plan_management_enabled: Option<bool>,
    /// Whether runs of the organization are queued fairly across workspaces.
    pub fair_run_queuing_enabled: Option<bool>,
    /// Whether SAML single sign-on is on.
    pub saml_enabled: Option<bool>,
    /// The SAML role that makes a user an owner.
    pub owners_team_saml_role_id: Option<String>,
    /// Whether its plan (subscription) has expired.
    pub plan_expired: Option<bool>,
    /// When its plan expires; `None` when it does not.
    pub plan_expires_at: Option<String>,
    /// Whether its plan is a trial.
    pub plan_is_trial: Option<bool>,
    /// Whether its plan is an enterprise plan.
    pub plan_is_enterprise: Option<bool>,
    /// Its plan's name, e.g. `free`.
    pub plan_identifier: Option<String>,
    /// Whether every member uses two-factor authentication. HCP Terraform only: `None` elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub two_factor_conformant: Option<bool>,
    /// Whether health assessments run on every workspace. HCP Terraform only: `None` elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessments_enforced: Option<bool>,
    /// What the token may do with the organization.
    pub permissions: Option<OrganizationPermissions>,
}

/// `permissions` of an organization: what the token may do with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct OrganizationPermissions {
    /// Change its settings.
    pub can_update: bool,
    /// Delete it.
    pub can_destroy: bool,
    /// Reach it through team membership.
    pub can_access_via_teams: bool,
    /// Publish private modules.
    pub can_create_module: bool,
    /// Publish private providers.
    pub can_create_provider: bool,
    /// Create projects.
    pub can_create_project: bool,
    /// Create teams.
    pub can_create_team: bool,
    /// Create workspaces.
    pub can_create_workspace: bool,
    /// Manage custom providers of the registry.
    pub can_manage_custom_providers: bool,
    /// Add public modules to the registry.
    pub can_manage_public_modules: bool,
    /// Add public providers to the registry.
    pub can_manage_public_providers: bool,
    /// Manage run tasks.
    pub can_manage_run_tasks: bool,
    /// Read run tasks.
    pub can_read_run_tasks: bool,
    /// Manage single sign-on.
    pub can_manage_sso: bool,
    /// Manage the subscription.
    pub can_manage_subscription: bool,
    /// Manage tags.
    pub can_manage_tags: bool,
    /// Manage its users.
    pub can_manage_users: bool,
    /// Manage variable sets.
    pub can_manage_varsets: bool,
    /// Read variable sets.
    pub can_read_varsets: bool,
    /// Start a trial.
    pub can_start_trial: bool,
    /// See the organization at all.
    pub can_traverse: bool,
    /// Manage agent pools.
    pub can_update_agent_pools: bool,
    /// Manage the organization's API token.
    pub can_update_api_token: bool,
    /// Manage VCS connections (OAuth clients).
    pub can_update_oauth: bool,
    /// Manage Sentinel policies.
    pub can_update_sentinel: bool,
    /// Manage SSH keys.
    pub can_update_ssh_keys: bool,
}

/// An organization (`organizations`).
pub type Organization = Resource<OrganizationAttributes>;

/// The `attributes` of an OAuth client: a connection to a VCS provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct OAuthClientAttributes {
    /// The name shown in the UI.
    pub name: Option<String>,
    /// The VCS kind, e.g. `github` or `gitlab_hosted`.
    pub service_provider: Option<String>,
    /// The VCS provider's web URL, e.g. `https://github.com`.
    pub http_url: Option<String>,
    /// The VCS provider's API URL, e.g. `https://api.github.com`.
    pub api_url: Option<String>,
    /// Whether every project and workspace of the organization may use the client.
    pub organization_scoped: bool,
    /// When the client was created: UTC, RFC 3339 with a `Z`.
    pub created_at: Option<String>,
    /// Where the VCS provider sends the user back after authorizing the connection.
    pub callback_url: Option<String>,
    /// The path that starts the authorization, relative to the server.
    pub connect_path: Option<String>,
    /// The VCS kind as people read it, e.g. `GitHub`.
    pub service_provider_display_name: Option<String>,
    /// The OAuth application's key (client id), for the providers that use one.
    pub key: Option<String>,
    /// The public key Bitbucket Data Center checks the client's requests with.
    pub rsa_public_key: Option<String>,
}

/// An OAuth client (`oauth-clients`).
pub type OAuthClient = Resource<OAuthClientAttributes>;

impl OAuthClient {
    /// The first OAuth token's id, which workspaces' `vcs-repo.oauth-token-id` refers to.
    pub fn oauth_token_id(&self) -> Option<&str> {
        self.related_ids("oauth-tokens").first().copied()
    }
}

/// The `attributes` of a configuration version: one upload (or VCS fetch) of a workspace's configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct ConfigurationVersionAttributes {
    /// `pending` (awaiting the upload), `fetching`, `uploaded`, `archived` or `errored`.
    pub status: String,
    /// Where it came from, e.g. `tfe-api`, or a VCS kind such as `github`.
    pub source: Option<String>,
    /// Runs made from it are plan-only.
    pub speculative: bool,
    /// Whether a run is queued as soon as the upload is processed.
    pub auto_queue_runs: bool,
    /// Whether it stays out of the workspace's current configuration until a run using it applies.
    pub provisional: bool,
    /// Where to `PUT` the tar.gz, without a token; the API shows it only when the version is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_url: Option<String>,
    /// When it reached each status: `<status>-at` keys to RFC 3339 times.
    pub status_timestamps: BTreeMap<String, String>,
    /// Why it errored: a short code; `None` unless `errored`.
    pub error: Option<String>,
    /// Why it errored, in a sentence; `None` unless `errored`.
    pub error_message: Option<String>,
}

/// A configuration version (`configuration-versions`).
pub type ConfigurationVersion = Resource<ConfigurationVersionAttributes>;

impl ConfigurationVersion {
    /// The configuration is there: runs may use it.
    pub fn is_uploaded(&self) -> bool {
        self.attributes.status == "uploaded"
    }
    /// The configuration is still on its way (`pending`: awaiting or processing its upload; `fetching`: being
    /// fetched from VCS), so a run made from it now would fail; `errored` and `archived` never get there.
    pub fn is_on_its_way(&self) -> bool {
        matches!(self.attributes.status.as_str(), "pending" | "fetching")
    }
}

/// Attributes shared by plans and applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PhaseAttributes {
    /// Where the phase is.
    pub status: PhaseStatus,
    /// Plans only: whether the plan found changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_changes: Option<bool>,
    /// Resources to create (plan) or created (apply).
    #[serde(default)]
    pub resource_additions: u32,
    /// Resources to change in place, or changed.
    #[serde(default)]
    pub resource_changes: u32,
    /// Resources to destroy, or destroyed.
    #[serde(default)]
    pub resource_destructions: u32,
    /// Resources to import, or imported.
    #[serde(default)]
    pub resource_imports: u32,
    /// A short-lived URL the Terraform log can be read from without a token, so as good as a secret.
    #[serde(default)]
    pub log_read_url: Option<String>,
    /// When the phase reached each status: `<status>-at` keys to RFC 3339 times.
    #[serde(default)]
    pub status_timestamps: BTreeMap<String, String>,
    /// Where Terraform ran.
    #[serde(default)]
    pub execution_details: Option<ExecutionDetails>,
    /// Plans only: whether the plan wrote configuration for `import` blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_configuration: Option<bool>,
}

/// `execution-details` of a plan or an apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct ExecutionDetails {
    /// `remote`, `local` or `agent`.
    pub mode: String,
}

/// A run's plan (`plans`).
pub type Plan = Resource<PhaseAttributes>;
/// A run's apply (`applies`).
pub type Apply = Resource<PhaseAttributes>;

/// The `attributes` of a cost estimate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct CostEstimateAttributes {
    /// `pending`, `queued`, `finished`, `errored`, `canceled` or `skipped_due_to_targeting`.
    pub status: String,
    /// The monthly cost of the resources before the run, in US dollars, as a decimal string.
    pub prior_monthly_cost: Option<String>,
    /// The monthly cost after the run, in US dollars, as a decimal string.
    pub proposed_monthly_cost: Option<String>,
    /// Proposed minus prior, in US dollars, as a decimal string.
    pub delta_monthly_cost: Option<String>,
    /// Resources in the plan.
    pub resources_count: u32,
    /// Resources the estimate could price.
    pub matched_resources_count: u32,
    /// Resources it could not price.
    pub unmatched_resources_count: u32,
    /// Why the estimate failed, when it did; a failed estimate does not fail the run.
    pub error_message: Option<String>,
    /// When it reached each status: `<status>-at` keys to RFC 3339 times.
    pub status_timestamps: BTreeMap<String, String>,
    /// The priced resources, as the estimator reports them (the API documents no structure).
    pub resources: Option<Value>,
}

/// A run's cost estimate (`cost-estimates`).
pub type CostEstimate = Resource<CostEstimateAttributes>;

/// The outcome of a policy check, in counts of policies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct PolicyResult {
    /// Whether the check passed as a whole.
    pub result: bool,
    /// Policies that passed.
    pub passed: u32,
    /// Policies that failed, at any enforcement level.
    pub total_failed: u32,
    /// Hard-mandatory policies that failed.
    pub hard_failed: u32,
    /// Soft-mandatory policies that failed.
    pub soft_failed: u32,
    /// Advisory policies that failed (they only warn).
    pub advisory_failed: u32,
    /// How long the evaluation took, as older servers report it (go-tfe reads this one).
    pub duration: u32,
    /// How long the evaluation took, in milliseconds.
    pub duration_ms: u32,
    /// The policy engine's own details, whose structure the API leaves open.
    pub sentinel: Option<Value>,
}

/// `actions` of a policy check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct PolicyCheckActions {
    /// Whether an override is allowed now (the check soft-failed).
    pub is_overridable: bool,
}

/// `permissions` of a policy check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct PolicyCheckPermissions {
    /// The token may override the check.
    pub can_override: bool,
}

/// The `attributes` of a policy check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PolicyCheckAttributes {
    /// Where the check is, and how it ended.
    pub status: PolicyCheckStatus,
    /// `organization` or `workspace`.
    #[serde(default)]
    pub scope: Option<String>,
    /// The counts, once the check has run.
    #[serde(default)]
    pub result: Option<PolicyResult>,
    /// What may be done with the check now.
    #[serde(default)]
    pub actions: PolicyCheckActions,
    /// What the token may do with the check.
    #[serde(default)]
    pub permissions: PolicyCheckPermissions,
    /// When it reached each status: `<status>-at` keys to RFC 3339 times.
    #[serde(default)]
    pub status_timestamps: BTreeMap<String, String>,
}

/// A run's Sentinel policy check (`policy-checks`).
pub type PolicyCheck = Resource<PolicyCheckAttributes>;

/// The `attributes` of a task stage: the run tasks of one point in a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct TaskStageAttributes {
    /// `pre_plan`, `post_plan`, `pre_apply` or `post_apply`.
    pub stage: String,
    /// `pending`, `running`, `passed`, `failed`, `awaiting_override`, `canceled`, `errored` or `unreachable`.
    pub status: String,
    /// When the stage was created: UTC, RFC 3339 with a `Z`.
    pub created_at: Option<String>,
    /// When the stage last changed: UTC, RFC 3339 with a `Z`.
    pub updated_at: Option<String>,
    /// When it reached each status: `<status>-at` keys to RFC 3339 times.
    pub status_timestamps: BTreeMap<String, String>,
}

/// A run's task stage (`task-stages`).
pub type TaskStage = Resource<TaskStageAttributes>;

/// The `attributes` of an organization's capacity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct CapacityAttributes {
    /// Runs of the organization waiting for a worker.
    pub pending: u32,
    /// Runs of the organization a worker is executing.
    pub running: u32,
}

/// An organization's run capacity (`organization-capacity`).
pub type OrganizationCapacity = Resource<CapacityAttributes>;

/// What an organization may use (`GET /organizations/:org/entitlement-set`); entitlements the server does
/// not send are false.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct EntitlementSetAttributes {
    /// Self-hosted agents.
    pub agents: bool,
    /// The audit trail.
    pub audit_logging: bool,
    /// Cost estimates of plans.
    pub cost_estimation: bool,
    /// Remote operations (runs): what the `cloud` and `remote` backends check.
    pub operations: bool,
    /// The private module registry.
    pub private_module_registry: bool,
    /// Single sign-on.
    pub sso: bool,
    /// Sentinel policies.
    pub sentinel: bool,
    /// Remote state storage.
    pub state_storage: bool,
    /// Teams and their permissions.
    pub teams: bool,
    /// VCS connections.
    pub vcs_integrations: bool,
    /// The no-code configuration designer.
    pub configuration_designer: bool,
    /// Run tasks that apply to every workspace.
    pub global_run_tasks: bool,
    /// Generated tests for registry modules.
    pub module_tests_generation: bool,
    /// Policy enforcement (Sentinel and OPA policy sets).
    pub policy_enforcement: bool,
    /// Policy checks run on self-hosted agents.
    pub private_policy_agents: bool,
    /// Run tasks reached through self-hosted agents.
    pub private_run_tasks: bool,
    /// VCS providers reached through self-hosted agents.
    pub private_vcs: bool,
    /// Run tasks.
    pub run_tasks: bool,
    /// Billing managed by the organization itself.
    pub self_serve_billing: bool,
    /// Usage reports.
    pub usage_reporting: bool,
    /// How many policies it may have; `None`: no limit.
    pub policy_limit: Option<u32>,
    /// How many mandatory policies it may enforce; `None`: no limit.
    pub policy_mandatory_enforcement_limit: Option<u32>,
    /// How many policy sets it may have; `None`: no limit.
    pub policy_set_limit: Option<u32>,
    /// How many run tasks it may have; `None`: no limit.
    pub run_task_limit: Option<u32>,
    /// How many mandatory run tasks it may enforce; `None`: no limit.
    pub run_task_mandatory_enforcement_limit: Option<u32>,
    /// How many run tasks one workspace may have; `None`: no limit.
    pub run_task_workspace_limit: Option<u32>,
    /// How many users it may have; `None`: no limit.
    pub user_limit: Option<u32>,
    /// How many versioned policy sets it may have; `None`: no limit.
    pub versioned_policy_set_limit: Option<u32>,
}

/// `GET /organizations/:org/entitlement-set`: id `org-…`, type `entitlement-sets`.
pub type EntitlementSet = Resource<EntitlementSetAttributes>;

/// An OAuth client's token (`/oauth-tokens/:id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct OAuthTokenAttributes {
    /// The token's unique id at the VCS provider.
    pub uid: Option<String>,
    /// When the token was created (RFC 3339).
    pub created_at: Option<String>,
    /// A private SSH key is set for cloning.
    pub has_ssh_key: bool,
    /// The VCS user the token acts as.
    pub service_provider_user: Option<String>,
}

/// An OAuth token, related to its `oauth-client`.
pub type OAuthToken = Resource<OAuthTokenAttributes>;

/// The `attributes` of a state version: one snapshot of a workspace's Terraform state, written by an apply.
/// Outputs, resources, modules and providers are extracted from it asynchronously: until
/// `resources_processed` is true, empty outputs mean "not known yet", not "none".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct StateVersionAttributes {
    /// When the state was written: UTC, RFC 3339 with a `Z`.
    pub created_at: Option<String>,
    /// The state's serial, which grows with every state the workspace gets.
    pub serial: u64,
    /// `pending` (created, its state not yet uploaded), `finalized` or `discarded`.
    pub status: Option<String>,
    /// Whether the outputs, resources, modules and providers have been extracted from the state.
    pub resources_processed: bool,
    /// The state file's format version (4 for Terraform 0.12 and later).
    pub state_version: Option<u32>,
    /// The Terraform version that wrote the state.
    pub terraform_version: Option<String>,
    /// Where the raw state file (Terraform's JSON, format 4) is downloaded; the URL is its own credential.
    pub hosted_state_download_url: Option<String>,
    /// Where the state in `terraform show -json` form is downloaded (states written by Terraform 1.3 and later).
    pub hosted_json_state_download_url: Option<String>,
    /// The state file's size in bytes.
    pub size: Option<u64>,
    /// The resources extracted from the state (`name`, `type`, `count`, `module`, `provider`); `None` until
    /// processed.
    pub resources: Option<Vec<Value>>,
    /// The configuration commit the run that wrote the state used, for a VCS-linked workspace.
    pub vcs_commit_sha: Option<String>,
    /// A link to that commit.
    pub vcs_commit_url: Option<String>,
    /// Whether it is a snapshot taken during a run, not yet the workspace's current state.
    pub intermediate: bool,
    /// Where a state version created as `pending` takes its state file; `None` once uploaded.
    pub hosted_state_upload_url: Option<String>,
    /// Where it takes its `terraform show -json` form; `None` once uploaded.
    pub hosted_json_state_upload_url: Option<String>,
    /// The modules extracted from the state (module path to resource counts); `None` until processed.
    pub modules: Option<Value>,
    /// The providers extracted from the state; `None` until processed.
    pub providers: Option<Value>,
    /// Managed resources that count toward billing. HCP Terraform only: `None` elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billable_rum_count: Option<u32>,
}

/// A state version (`state-versions`).
pub type StateVersion = Resource<StateVersionAttributes>;

impl StateVersion {
    /// The id of the run that wrote it, if a run did.
    pub fn run_id(&self) -> Option<&str> {
        self.related_id("run")
    }
    /// The ids of its outputs (`wsout-…`), in the server's order; empty until the outputs are processed.
    pub fn output_ids(&self) -> Vec<&str> {
        self.related_ids("outputs")
    }
}

/// The `attributes` of a state version output: one root module output of a state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct StateVersionOutputAttributes {
    /// The output's name.
    pub name: String,
    /// Whether the configuration marks it sensitive. Lists and the workspace's current outputs then carry a
    /// `null` value; only `GET /state-version-outputs/:id` gives it.
    pub sensitive: bool,
    /// The value's JSON kind as the API names it: `string`, `number`, `boolean`, `array` or `object`.
    #[serde(rename = "type")]
    pub output_type: String,
    /// The value, as JSON (`null` when redacted).
    pub value: Value,
    /// The value's Terraform type in Terraform's JSON type syntax (`"string"`, `["tuple", ["string"]]`,
    /// `["object", {"a": "number"}]`), when the server knows it. (One of the API reference's samples spells
    /// it `detailed_type`; both are read.)
    #[serde(alias = "detailed_type")]
    pub detailed_type: Option<Value>,
}

/// A state version output (`state-version-outputs`, ids `wsout-…`).
pub type StateVersionOutput = Resource<StateVersionOutputAttributes>;

/// The `attributes` of a workspace output (`workspace-outputs`, what a workspace read includes with
/// `include=outputs`): the current state version's outputs, a sensitive one without its value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct WorkspaceOutputAttributes {
    /// The output's name.
    pub name: String,
    /// Whether the configuration marks it sensitive (its value is then `null`).
    pub sensitive: bool,
    /// The value's JSON kind: `string`, `number`, `boolean`, `array` or `object`.
    pub output_type: String,
    /// The value, as JSON (`null` when sensitive).
    pub value: Value,
}

/// A workspace output (`workspace-outputs`).
pub type WorkspaceOutput = Resource<WorkspaceOutputAttributes>;

string_enum!(
    /// What a workspace variable sets.
    VariableCategory {
        /// A Terraform input variable (`var.key`).
        Terraform = "terraform",
        /// An environment variable of the run's Terraform process (`TF_VAR_key` also sets `var.key`).
        Env = "env",
        /// A policy set parameter; never a workspace variable's category.
        PolicySet = "policy-set",
    }
);

/// An absent category reads as an unknown one: an answer never fails to parse for it.
impl Default for VariableCategory {
    fn default() -> Self {
        VariableCategory::Unknown(String::new())
    }
}

/// The `attributes` of a workspace variable.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct VariableAttributes {
    /// The variable's name.
    pub key: String,
    /// Its value; `None` for a sensitive variable, whose value the API never returns.
    pub value: Option<String>,
    /// What it is for, shown in the UI.
    pub description: Option<String>,
    /// Terraform variable or environment variable.
    pub category: VariableCategory,
    /// Whether a Terraform variable's value is HCL (a list, a map, a number) rather than a string.
    pub hcl: bool,
    /// Whether the value is write-only.
    pub sensitive: bool,
    /// A token that changes with every update of the variable.
    pub version_id: Option<String>,
}

/// Shows everything but the value, which may be a secret.
impl fmt::Debug for VariableAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VariableAttributes")
            .field("key", &self.key)
            .field("value", &self.value.as_ref().map(|_| "<redacted>"))
            .field("description", &self.description)
            .field("category", &self.category)
            .field("hcl", &self.hcl)
            .field("sensitive", &self.sensitive)
            .field("version_id", &self.version_id)
            .finish()
    }
}

/// A workspace variable (`vars`, ids `var-…`).
pub type Variable = Resource<VariableAttributes>;

impl Variable {
    /// The id of the workspace it belongs to (its `configurable` relationship).
    pub fn workspace_id(&self) -> Option<&str> {
        self.related_id("configurable")
    }
}

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
    fn state_versions_outputs_and_variables_read_as_the_api_writes_them() {
        let sv: StateVersion = serde_json::from_value(serde_json::json!({
            "id": "sv-1", "type": "state-versions",
            "attributes": {"created-at": "2021-06-08T01:22:03.794Z", "size": 940,
                "hosted-state-download-url": "https://archivist.example/v1/object/x",
                "modules": {"root": {"null-resource": 1}}, "providers": {},
                "resources": [{"name": "random", "type": "null_resource", "count": 1}],
                "resources-processed": false, "serial": 9, "state-version": 4,
                "terraform-version": "0.15.4", "vcs-commit-sha": null, "brand-new": true},
            "relationships": {"run": {"data": {"id": "run-1", "type": "runs"}},
                "outputs": {"data": [{"id": "wsout-1", "type": "state-version-outputs"}]}}}))
        .unwrap();
        assert_eq!(sv.attributes.serial, 9);
        assert!(!sv.attributes.resources_processed);
        assert_eq!(sv.run_id(), Some("run-1"));
        assert_eq!(sv.output_ids(), vec!["wsout-1"]);
        assert_eq!(sv.attributes.resources.as_ref().map(Vec::len), Some(1));

        for spelling in ["detailed-type", "detailed_type"] {
            let output: StateVersionOutput = serde_json::from_value(serde_json::json!({
                "id": "wsout-1", "type": "state-version-outputs",
                "attributes": {"name": "fruits", "sensitive": false, "type": "array",
                    "value": ["apple"], spelling: ["tuple", ["string"]]}}))
            .unwrap();
            assert_eq!(output.attributes.output_type, "array");
            assert_eq!(output.attributes.value, serde_json::json!(["apple"]));
            assert_eq!(
                output.attributes.detailed_type,
                Some(serde_json::json!(["tuple", ["string"]]))
            );
        }

        let var: Variable = serde_json::from_value(serde_json::json!({
            "id": "var-1", "type": "vars",
            "attributes": {"key": "token", "value": null, "sensitive": true, "category": "env",
                "hcl": false, "version-id": "abc"},
            "relationships": {"configurable": {"data": {"id": "ws-1", "type": "workspaces"}}}}))
        .unwrap();
        assert_eq!(var.attributes.value, None);
        assert_eq!(var.attributes.category, VariableCategory::Env);
        assert_eq!(var.workspace_id(), Some("ws-1"));
        let odd: VariableAttributes = serde_json::from_value(
            serde_json::json!({"key": "k", "value": "secret", "category": "new"}),
        )
        .unwrap();
        assert_eq!(odd.category, VariableCategory::Unknown("new".into()));
        assert!(!format!("{odd:?}").contains("secret"), "{odd:?}");
    }

    #[test]
    fn runs_read_their_variables_whether_null_or_a_list() {
        let run: Run = serde_json::from_value(serde_json::json!({"id": "run-1", "type": "runs",
            "attributes": {"status": "pending", "variables": [{"key": "n", "value": "2"}]}}))
        .unwrap();
        assert_eq!(
            run.attributes.variables,
            vec![RunVariable {
                key: "n".into(),
                value: "2".into()
            }]
        );
        assert!(!format!("{:?}", run.attributes.variables).contains('2'));
        let none: Run = serde_json::from_value(serde_json::json!({"id": "run-1", "type": "runs",
            "attributes": {"status": "pending", "variables": null}}))
        .unwrap();
        assert!(none.attributes.variables.is_empty());
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
