//! The scenario file (JSON): tokens, default knobs, organizations with workspaces, and faults, loaded at start.
//! The admin API's seed endpoint takes the same organization/workspace shapes.

use serde::{Deserialize, Serialize};

use tfe_client::models::VcsRepo;

use super::faults::FaultRule;
use super::knobs::Knobs;
use super::state::Emulator;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Scenario {
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Server-wide knobs, below organization and workspace knobs.
    #[serde(default)]
    pub defaults: Knobs,
    #[serde(default)]
    pub organizations: Vec<OrganizationSeed>,
    #[serde(default)]
    pub workspaces: Vec<WorkspaceSeed>,
    #[serde(default)]
    pub faults: Vec<FaultRule>,
    /// `X-RateLimit-Limit` to advertise; 0 leaves the header out.
    #[serde(default)]
    pub rate_limit: Option<u32>,
    /// Enforce that limit per token with 429 answers.
    #[serde(default)]
    pub enforce_rate_limit: bool,
    /// Drop unknown `include` names instead of answering 400.
    #[serde(default)]
    pub lenient_includes: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OrganizationSeed {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub cost_estimation_enabled: bool,
    #[serde(default)]
    pub knobs: Knobs,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkspaceSeed {
    pub organization: String,
    pub name: String,
    #[serde(default)]
    pub auto_apply: bool,
    /// VCS-linked (the default): gets an uploaded configuration version, so runs can start at once.
    #[serde(default = "yes")]
    pub vcs: bool,
    #[serde(default)]
    pub resource_count: u64,
    #[serde(default)]
    pub knobs: Knobs,
}

fn yes() -> bool {
    true
}

/// Seeded workspace ids.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SeededWorkspace {
    pub organization: String,
    pub name: String,
    pub id: String,
}

/// Creates (or updates) organizations, then workspaces. Existing ones are kept and their knobs replaced.
pub(crate) fn seed(
    emu: &Emulator,
    organizations: &[OrganizationSeed],
    workspaces: &[WorkspaceSeed],
) -> Result<Vec<SeededWorkspace>, String> {
    let mut store = emu.store.lock().unwrap();
    for o in organizations {
        if o.name.is_empty() {
            return Err("an organization needs a name".into());
        }
        if !store.organizations.contains_key(&o.name) {
            let email = o
                .email
                .clone()
                .unwrap_or_else(|| format!("admin@{}.example", o.name));
            store.new_organization(&o.name, &email, o.cost_estimation_enabled);
        }
        let org = store.organizations.get_mut(&o.name).expect("just inserted");
        org.cost_estimation_enabled = o.cost_estimation_enabled;
        org.knobs = o.knobs.clone();
        org.counters = Default::default();
    }
    let mut seeded = Vec::new();
    for w in workspaces {
        if !store.organizations.contains_key(&w.organization) {
            return Err(format!(
                "workspace {:?}: organization {:?} does not exist",
                w.name, w.organization
            ));
        }
        let id = match store.workspace_by_name(&w.organization, &w.name) {
            Some(ws) => ws.id.clone(),
            None => store.new_workspace(&w.organization, &w.name),
        };
        let has_cv = store.current_configuration_version(&id).is_some();
        let ws = store.workspaces.get_mut(&id).expect("exists");
        ws.auto_apply = w.auto_apply;
        ws.resource_count = w.resource_count;
        ws.knobs = w.knobs.clone();
        ws.counters = Default::default();
        if w.vcs && ws.vcs_repo.is_none() {
            ws.vcs_repo = Some(VcsRepo {
                identifier: format!("{}/{}", w.organization, w.name),
                branch: Some("main".into()),
                oauth_token_id: Some("ot-emulator".into()),
                ..Default::default()
            });
        }
        if w.vcs && !has_cv {
            store.new_configuration_version(&id, "tfe-api", true, false, true);
        }
        seeded.push(SeededWorkspace {
            organization: w.organization.clone(),
            name: w.name.clone(),
            id,
        });
    }
    Ok(seeded)
}
