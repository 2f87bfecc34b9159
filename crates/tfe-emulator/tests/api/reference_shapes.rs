//! The emulator's answers against the public API reference: every key path the reference's sample responses
//! show for an endpoint (tests/reference/*.json, derived from HashiCorp's API docs by
//! scripts/reference_shapes.py) must be in the emulator's answer to that endpoint, with one of the JSON types the
//! reference gives it, unless it is listed below as left out (with the reason docs/emulator.md gives). The
//! keys the reference says only HCP Terraform returns must be there when the emulator runs as HCP Terraform
//! and absent when it runs as Terraform Enterprise.
//!
//! The test drives one scenario through each endpoint (an organization, an OAuth client, a workspace with and
//! one without VCS, variables, an uploaded configuration, a run through a soft-failed policy, its override and
//! apply, the state it leaves, locks), once per application name, and prints per endpoint and per resource how
//! many documented keys the answers carried, before it fails naming each key that is missing, mistyped, or
//! listed below but no longer absent: `cargo test -p tfe-emulator --test api reference_shapes -- --nocapture`.
//! A second test follows every link in those answers and expects each to lead to a route the emulator serves,
//! but for the few docs/emulator.md names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::plain_api;
use plain_api::Emulator;

/// One endpoint's reference shape (a file of tests/reference).
struct Shape {
    source: String,
    /// Key path to the JSON types the reference shows for it (`string`, `null`, ...).
    keys: BTreeMap<String, Vec<String>>,
    /// Keys only a variant sample shows, with the variant's label.
    conditional: BTreeMap<String, String>,
    /// Keys only HCP Terraform returns.
    hcp_only: BTreeSet<String>,
}

fn load_shapes() -> BTreeMap<String, Shape> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference");
    let mut shapes = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("shape file");
        let file: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let strings = |v: &Value| -> BTreeMap<String, String> {
            v.as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        };
        shapes.insert(
            name,
            Shape {
                source: file["source"].as_str().unwrap_or_default().to_string(),
                keys: strings(&file["keys"])
                    .into_iter()
                    .map(|(k, v)| (k, v.split('|').map(str::to_string).collect()))
                    .collect(),
                conditional: strings(&file["conditional"]),
                hcp_only: file["hcp_only"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
            },
        );
    }
    assert!(
        shapes.len() >= 30,
        "only {} shape files in {}",
        shapes.len(),
        dir.display()
    );
    shapes
}

/// Variants of the reference's samples the emulator never produces: keys only they show are not expected.
const VARIANTS_NOT_EMULATED: &[(&str, &str)] = &[(
    "Using HCP Terraform agents",
    "the emulator has no agents: runs execute `remote`ly whatever the workspace's execution mode",
)];

/// Documented keys the emulator leaves out: (shape files, by name or a `prefix*`; key path without its leading
/// `data.`/`data[].`; why). docs/emulator.md lists the same.
const LEFT_OUT: &[(&str, &str, &str)] = &[];

/// Documented keys no answer of the scenario shows, for any endpoint of the same resource, because what they
/// describe never exists in the emulator (their parent is always `null` or an empty list): (shape files, key
/// path without `data.`/`data[].`, why). A key another endpoint of the resource shows is checked there.
const NEVER_THERE: &[(&str, &str, &str)] = &[
    (
        "workspaces-*",
        "relationships.agent-pool.data.id",
        NO_AGENT_POOLS,
    ),
    (
        "workspaces-*",
        "relationships.agent-pool.data.type",
        NO_AGENT_POOLS,
    ),
    ("workspaces-*", "relationships.ssh-key.data.id", NO_SSH_KEYS),
    (
        "workspaces-*",
        "relationships.ssh-key.data.type",
        NO_SSH_KEYS,
    ),
    ("workspaces-*", "relationships.ssh-key.links", NO_SSH_KEYS),
    (
        "workspaces-*",
        "relationships.ssh-key.links.related",
        NO_SSH_KEYS,
    ),
    (
        "oauth-clients-*",
        "relationships.agent-pool.data.id",
        NO_AGENT_POOLS,
    ),
    (
        "oauth-clients-*",
        "relationships.agent-pool.data.type",
        NO_AGENT_POOLS,
    ),
    (
        "oauth-clients-*",
        "relationships.agent-pool.links",
        NO_AGENT_POOLS,
    ),
    (
        "oauth-clients-*",
        "relationships.agent-pool.links.related",
        NO_AGENT_POOLS,
    ),
    (
        "oauth-clients-*",
        "relationships.projects.data[]",
        NO_PROJECT_API,
    ),
    (
        "oauth-clients-*",
        "relationships.projects.data[].id",
        NO_PROJECT_API,
    ),
    (
        "oauth-clients-*",
        "relationships.projects.data[].type",
        NO_PROJECT_API,
    ),
    (
        "configuration-versions-*",
        "relationships.ingress-attributes.data.id",
        NO_COMMITS,
    ),
    (
        "configuration-versions-*",
        "relationships.ingress-attributes.data.type",
        NO_COMMITS,
    ),
    (
        "configuration-versions-*",
        "relationships.ingress-attributes.links",
        NO_COMMITS,
    ),
    (
        "configuration-versions-*",
        "relationships.ingress-attributes.links.related",
        NO_COMMITS,
    ),
];

const NO_AGENT_POOLS: &str = "the emulator has no agent pools: `agent-pool` is always null";
const NO_SSH_KEYS: &str =
    "the emulator has no SSH keys API to assign a workspace one: `ssh-key` is always null";
const NO_PROJECT_API: &str = "the emulator has no projects API to attach an OAuth client to a project: `projects` is always empty";
const NO_COMMITS: &str = "the emulator fetches nothing from VCS, so a configuration version has no commit \
    information: `ingress-attributes` is always null";

/// The resource a shape file describes (its name up to the endpoint), so that what one endpoint's answers show
/// of a resource counts for the others.
fn resource_of(shape: &str) -> &str {
    const RESOURCES: &[&str] = &[
        "organizations-entitlement-set",
        "state-version-outputs",
        "configuration-versions",
        "organizations",
        "oauth-clients",
        "policy-checks",
        "cost-estimates",
        "state-versions",
        "workspaces",
        "variables",
        "applies",
        "plans",
        "runs",
    ];
    RESOURCES
        .iter()
        .find(|r| shape.starts_with(*r))
        .copied()
        .unwrap_or(shape)
}

fn resource_path(path: &str) -> &str {
    path.strip_prefix("data[].")
        .or_else(|| path.strip_prefix("data."))
        .unwrap_or(path)
}

fn listed<'a>(list: &'a [(&str, &str, &str)], shape: &str, path: &str) -> Option<&'a str> {
    list.iter()
        .find(|(shapes, key, _)| {
            let shape_matches = match shapes.strip_suffix('*') {
                Some(prefix) => shape.starts_with(prefix),
                None => *shapes == shape,
            };
            shape_matches && *key == resource_path(path)
        })
        .map(|(_, _, why)| *why)
}

/// The JSON values at a key path (`data[].attributes.name`: each list item's name).
fn nodes<'a>(root: &'a Value, path: &str) -> Vec<&'a Value> {
    if path.is_empty() {
        return vec![root];
    }
    if let Some(array) = path.strip_suffix("[]") {
        return nodes(root, array)
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .collect();
    }
    let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
    nodes(root, parent)
        .into_iter()
        .filter_map(|v| v.as_object()?.get(key))
        .collect()
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// What an endpoint's answers showed of its shape, over every call of the scenario.
#[derive(Default)]
struct Findings {
    calls: usize,
    /// Keys an answer carried.
    present: BTreeSet<String>,
    /// Keys absent where an answer had their parent object: key to the call that lacked it.
    missing: BTreeMap<String, String>,
    /// Keys with a type the reference does not give them: key to what was seen.
    mistyped: BTreeMap<String, String>,
    /// HCP-only keys in an answer of an emulator running as Terraform Enterprise.
    hcp_only_in_enterprise: BTreeSet<String>,
}

/// Whether a key's absence is what JSON:API allows: a relationship with nothing related (`data` null or `[]`)
/// needs no `links`, as the reference's own samples show (`"outputs": {"data": []}` of a workspace without
/// state).
fn excused(parent_path: &str, parent: &Value, key: &str) -> bool {
    let in_relationship = parent_path
        .rsplit_once('.')
        .is_some_and(|(grand, _)| grand.ends_with("relationships"));
    let nothing_related = match parent.get("data") {
        Some(Value::Null) => true,
        Some(Value::Array(items)) => items.is_empty(),
        _ => false,
    };
    in_relationship && key != "data" && nothing_related
}

fn compare(shape: &Shape, call: &str, answer: &Value, hcp: bool, findings: &mut Findings) {
    findings.calls += 1;
    for (path, types) in &shape.keys {
        if shape
            .conditional
            .get(path)
            .is_some_and(|label| VARIANTS_NOT_EMULATED.iter().any(|(v, _)| v == label))
        {
            continue;
        }
        let values = nodes(answer, path);
        if shape.hcp_only.contains(path) && !hcp {
            if !values.is_empty() {
                findings.hcp_only_in_enterprise.insert(path.clone());
            }
            continue;
        }
        if !values.is_empty() {
            findings.present.insert(path.clone());
        }
        if let Some(((parent_path, key), false)) = path
            .rsplit_once('.')
            .map(|split| (split, path.ends_with("[]")))
        {
            for parent in nodes(answer, parent_path)
                .into_iter()
                .filter(|p| p.is_object())
            {
                if parent.get(key).is_none() && !excused(parent_path, parent, key) {
                    findings
                        .missing
                        .entry(path.clone())
                        .or_insert_with(|| call.to_string());
                }
            }
        }
        let any_type = types.len() == 1 && types[0] == "null";
        for value in values {
            let kind = json_type(value);
            if !any_type && kind != "null" && !types.iter().any(|t| t == kind) {
                findings.mistyped.entry(path.clone()).or_insert_with(|| {
                    format!("{kind} in {call} (reference: {})", types.join("|"))
                });
            }
        }
    }
}

/// The answers of the scenario, each with the shape file it must match and a name for the call.
async fn scenario(emu: &Emulator) -> Vec<(&'static str, String, Value)> {
    let mut answers: Vec<(&'static str, String, Value)> = Vec::new();
    let mut note = |shape: &'static str, call: &str, answer: Value| {
        answers.push((shape, call.to_string(), answer));
    };
    let org = "shapes";
    let created = emu
        .call(
            "POST",
            "/organizations",
            Some(json!({"data": {"type": "organizations", "attributes": {"name": org, "email": "ops@shapes.test"}}})),
            201,
        )
        .await;
    note("organizations-create", "POST /organizations", created);
    let updated = emu
        .call(
            "PATCH",
            &format!("/organizations/{org}"),
            Some(json!({"data": {"type": "organizations", "attributes": {"cost-estimation-enabled": true}}})),
            200,
        )
        .await;
    note(
        "organizations-update",
        "PATCH /organizations/:name",
        updated,
    );
    note(
        "organizations-list",
        "GET /organizations",
        emu.get("/organizations").await,
    );
    note(
        "organizations-show",
        "GET /organizations/:name",
        emu.get(&format!("/organizations/{org}")).await,
    );
    note(
        "organizations-entitlement-set",
        "GET /organizations/:name/entitlement-set",
        emu.get(&format!("/organizations/{org}/entitlement-set"))
            .await,
    );
    emu.call(
        "PUT",
        &format!("/_emulator/knobs/organizations/{org}"),
        Some(json!({"plan_ms": 50, "apply_ms": 50, "cost_estimate_ms": 20, "policy_check_ms": 20})),
        200,
    )
    .await;

    let client = emu
        .call(
            "POST",
            &format!("/organizations/{org}/oauth-clients"),
            Some(json!({"data": {"type": "oauth-clients", "attributes": {
                "service-provider": "github", "http-url": "https://github.com",
                "api-url": "https://api.github.com", "oauth-token-string": "ghp_shapes", "name": "GitHub"}}})),
            201,
        )
        .await;
    let client_id = client["data"]["id"]
        .as_str()
        .expect("client id")
        .to_string();
    let token_id = client["data"]["relationships"]["oauth-tokens"]["data"][0]["id"]
        .as_str()
        .expect("token id")
        .to_string();
    note(
        "oauth-clients-create",
        "POST /organizations/:name/oauth-clients",
        client,
    );
    note(
        "oauth-clients-list",
        "GET /organizations/:name/oauth-clients",
        emu.get(&format!("/organizations/{org}/oauth-clients"))
            .await,
    );
    note(
        "oauth-clients-show",
        "GET /oauth-clients/:id",
        emu.get(&format!("/oauth-clients/{client_id}")).await,
    );

    let workspace_body = |name: &str, vcs: Option<Value>| {
        let mut attributes = json!({"name": name, "description": "shape checks"});
        if let Some(vcs) = vcs {
            attributes["vcs-repo"] = vcs;
        }
        json!({"data": {"type": "workspaces", "attributes": attributes}})
    };
    let plain = emu
        .call(
            "POST",
            &format!("/organizations/{org}/workspaces"),
            Some(workspace_body("plain", None)),
            201,
        )
        .await;
    let ws = plain["data"]["id"]
        .as_str()
        .expect("workspace id")
        .to_string();
    note(
        "workspaces-create",
        "POST /organizations/:name/workspaces (no VCS)",
        plain,
    );
    let linked = emu
        .call(
            "POST",
            &format!("/organizations/{org}/workspaces"),
            Some(workspace_body(
                "linked",
                Some(json!({"identifier": "shapes/infra", "oauth-token-id": token_id, "branch": "main"})),
            )),
            201,
        )
        .await;
    let linked_id = linked["data"]["id"]
        .as_str()
        .expect("workspace id")
        .to_string();
    note(
        "workspaces-create",
        "POST /organizations/:name/workspaces (VCS)",
        linked,
    );
    let patched = emu
        .call(
            "PATCH",
            &format!("/workspaces/{ws}"),
            Some(json!({"data": {"type": "workspaces", "attributes": {"terraform-version": "1.9.8"}}})),
            200,
        )
        .await;
    note("workspaces-update", "PATCH /workspaces/:id", patched);
    emu.call(
        "PUT",
        &format!("/_emulator/knobs/workspaces/{ws}"),
        Some(json!({"policy": "soft_fail", "outputs": {"greeting": "hello", "names": ["a", "b"]}})),
        200,
    )
    .await;

    let variable = emu
        .call(
            "POST",
            &format!("/workspaces/{ws}/vars"),
            Some(json!({"data": {"type": "vars", "attributes": {
                "key": "region", "value": "eu-west-1", "category": "terraform", "description": "where"}}})),
            201,
        )
        .await;
    let var_id = variable["data"]["id"]
        .as_str()
        .expect("variable id")
        .to_string();
    note("variables-create", "POST /workspaces/:id/vars", variable);
    let variable = emu
        .call(
            "PATCH",
            &format!("/workspaces/{ws}/vars/{var_id}"),
            Some(json!({"data": {"type": "vars", "attributes": {"value": "eu-central-1"}}})),
            200,
        )
        .await;
    note(
        "variables-update",
        "PATCH /workspaces/:id/vars/:var_id",
        variable,
    );
    note(
        "variables-list",
        "GET /workspaces/:id/vars",
        emu.get(&format!("/workspaces/{ws}/vars")).await,
    );

    let cv = emu
        .call(
            "POST",
            &format!("/workspaces/{ws}/configuration-versions"),
            Some(json!({"data": {"type": "configuration-versions", "attributes": {"auto-queue-runs": false}}})),
            201,
        )
        .await;
    let cv_id = cv["data"]["id"].as_str().expect("cv id").to_string();
    let upload_url = cv["data"]["attributes"]["upload-url"]
        .as_str()
        .expect("upload url")
        .to_string();
    note(
        "configuration-versions-create",
        "POST /workspaces/:id/configuration-versions",
        cv,
    );
    let uploaded = emu
        .http
        .put(&upload_url)
        .body(vec![0x1f, 0x8b])
        .send()
        .await
        .expect("upload");
    assert!(
        uploaded.status().is_success(),
        "upload: {}",
        uploaded.status()
    );
    note(
        "configuration-versions-show",
        "GET /configuration-versions/:id",
        emu.get(&format!("/configuration-versions/{cv_id}")).await,
    );
    note(
        "configuration-versions-list",
        "GET /workspaces/:id/configuration-versions",
        emu.get(&format!("/workspaces/{ws}/configuration-versions"))
            .await,
    );

    let run = emu
        .call(
            "POST",
            "/runs",
            Some(
                json!({"data": {"type": "runs", "attributes": {"message": "shapes"},
                "relationships": {"workspace": {"data": {"type": "workspaces", "id": ws}}}}}),
            ),
            201,
        )
        .await;
    let run_id = run["data"]["id"].as_str().expect("run id").to_string();
    note("runs-create", "POST /runs", run);
    note(
        "runs-show",
        "GET /runs/:id (pending or later)",
        emu.get(&format!("/runs/{run_id}")).await,
    );
    let paused = emu.wait_for(&run_id, &["policy_override"]).await;
    note("runs-show", "GET /runs/:id (policy_override)", paused);
    let checks = emu.get(&format!("/runs/{run_id}/policy-checks")).await;
    let check_id = checks["data"][0]["id"]
        .as_str()
        .expect("policy check id")
        .to_string();
    note("policy-checks-list", "GET /runs/:id/policy-checks", checks);
    note(
        "policy-checks-show",
        "GET /policy-checks/:id",
        emu.get(&format!("/policy-checks/{check_id}")).await,
    );
    let overridden = emu
        .call(
            "POST",
            &format!("/policy-checks/{check_id}/actions/override"),
            None,
            200,
        )
        .await;
    note(
        "policy-checks-override",
        "POST /policy-checks/:id/actions/override",
        overridden,
    );
    emu.wait_for(&run_id, &["policy_checked"]).await;
    emu.call("POST", &format!("/runs/{run_id}/actions/apply"), None, 202)
        .await;
    let applied = emu.wait_for(&run_id, &["applied"]).await;
    let rel_id = |name: &str| {
        applied["data"]["relationships"][name]["data"]["id"]
            .as_str()
            .map(str::to_string)
    };
    let plan_id = rel_id("plan").expect("plan id");
    let apply_id = rel_id("apply").expect("apply id");
    let ce_id = rel_id("cost-estimate").expect("cost estimate id");
    note("runs-show", "GET /runs/:id (applied)", applied);
    note(
        "plans-show",
        "GET /plans/:id",
        emu.get(&format!("/plans/{plan_id}")).await,
    );
    note(
        "plans-show",
        "GET /runs/:id/plan",
        emu.get(&format!("/runs/{run_id}/plan")).await,
    );
    note(
        "applies-show",
        "GET /applies/:id",
        emu.get(&format!("/applies/{apply_id}")).await,
    );
    note(
        "applies-show",
        "GET /runs/:id/apply",
        emu.get(&format!("/runs/{run_id}/apply")).await,
    );
    note(
        "cost-estimates-show",
        "GET /cost-estimates/:id",
        emu.get(&format!("/cost-estimates/{ce_id}")).await,
    );
    note(
        "runs-list-workspace",
        "GET /workspaces/:id/runs",
        emu.get(&format!("/workspaces/{ws}/runs")).await,
    );
    note(
        "runs-list-organization",
        "GET /organizations/:name/runs",
        emu.get(&format!("/organizations/{org}/runs")).await,
    );

    let current = emu
        .get(&format!("/workspaces/{ws}/current-state-version"))
        .await;
    let sv_id = current["data"]["id"]
        .as_str()
        .expect("state version id")
        .to_string();
    note(
        "state-versions-current",
        "GET /workspaces/:id/current-state-version",
        current,
    );
    note(
        "state-versions-show",
        "GET /state-versions/:id",
        emu.get(&format!("/state-versions/{sv_id}")).await,
    );
    note(
        "state-versions-list",
        "GET /state-versions",
        emu.get(&format!("/state-versions?filter%5Bworkspace%5D%5Bname%5D=plain&filter%5Borganization%5D%5Bname%5D={org}"))
            .await,
    );
    let outputs = emu.get(&format!("/state-versions/{sv_id}/outputs")).await;
    let output_id = outputs["data"][0]["id"]
        .as_str()
        .expect("output id")
        .to_string();
    note(
        "state-version-outputs-list",
        "GET /state-versions/:id/outputs",
        outputs,
    );
    note(
        "state-version-outputs-show",
        "GET /state-version-outputs/:id",
        emu.get(&format!("/state-version-outputs/{output_id}"))
            .await,
    );
    note(
        "state-version-outputs-current",
        "GET /workspaces/:id/current-state-version-outputs",
        emu.get(&format!("/workspaces/{ws}/current-state-version-outputs"))
            .await,
    );

    let lock = |reason: &str| Some(json!({"reason": reason}));
    note(
        "workspaces-lock",
        "POST /workspaces/:id/actions/lock",
        emu.call(
            "POST",
            &format!("/workspaces/{ws}/actions/lock"),
            lock("checking shapes"),
            200,
        )
        .await,
    );
    note(
        "workspaces-show",
        "GET /workspaces/:id (locked)",
        emu.get(&format!("/workspaces/{ws}")).await,
    );
    note(
        "workspaces-unlock",
        "POST /workspaces/:id/actions/unlock",
        emu.call(
            "POST",
            &format!("/workspaces/{ws}/actions/unlock"),
            None,
            200,
        )
        .await,
    );
    emu.call(
        "POST",
        &format!("/workspaces/{ws}/actions/lock"),
        lock("again"),
        200,
    )
    .await;
    note(
        "workspaces-force-unlock",
        "POST /workspaces/:id/actions/force-unlock",
        emu.call(
            "POST",
            &format!("/workspaces/{ws}/actions/force-unlock"),
            None,
            200,
        )
        .await,
    );
    note(
        "workspaces-show",
        "GET /workspaces/:id",
        emu.get(&format!("/workspaces/{ws}")).await,
    );
    note(
        "workspaces-show",
        "GET /organizations/:name/workspaces/:name",
        emu.get(&format!("/organizations/{org}/workspaces/plain"))
            .await,
    );
    note(
        "workspaces-show",
        "GET /workspaces/:id (VCS)",
        emu.get(&format!("/workspaces/{linked_id}")).await,
    );
    note(
        "workspaces-list",
        "GET /organizations/:name/workspaces",
        emu.get(&format!("/organizations/{org}/workspaces")).await,
    );
    answers
}

/// Runs the scenario against an emulator named `app_name` and compares every answer: the findings per shape.
async fn findings_for(
    app_name: &str,
    shapes: &BTreeMap<String, Shape>,
) -> BTreeMap<String, Findings> {
    let hcp = app_name == "HCP Terraform";
    let emu = Emulator::start(app_name).await;
    let mut findings: BTreeMap<String, Findings> = BTreeMap::new();
    for (shape_name, call, answer) in scenario(&emu).await {
        let shape = shapes
            .get(shape_name)
            .unwrap_or_else(|| panic!("no shape file {shape_name}.json"));
        compare(
            shape,
            &call,
            &answer,
            hcp,
            findings.entry(shape_name.to_string()).or_default(),
        );
    }
    findings
}

/// Prints the table and returns what is wrong.
fn report(
    app_name: &str,
    shapes: &BTreeMap<String, Shape>,
    findings: &BTreeMap<String, Findings>,
) -> Vec<String> {
    let hcp = app_name == "HCP Terraform";
    let mut problems = Vec::new();
    // What the answers showed of each resource, over all of its endpoints.
    let mut seen: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, found) in findings {
        seen.entry(resource_of(name))
            .or_default()
            .extend(found.present.iter().map(|k| resource_path(k)));
    }
    println!("\n{app_name}: documented keys present in the emulator's answers, per endpoint");
    println!(
        "{:<34} {:>10} {:>8} {:>8} {:>9} {:>9}",
        "shape", "documented", "present", "missing", "left out", "not seen"
    );
    let (mut all_documented, mut all_present) = (0, 0);
    for (name, shape) in shapes {
        let Some(found) = findings.get(name) else {
            problems.push(format!(
                "{name}: the scenario never calls it ({})",
                shape.source
            ));
            continue;
        };
        let resource_seen = |key: &str| {
            seen.get(resource_of(name))
                .is_some_and(|keys| keys.contains(resource_path(key)))
        };
        let documented: Vec<&String> = shape
            .keys
            .keys()
            .filter(|k| hcp || !shape.hcp_only.contains(*k))
            .filter(|k| {
                shape
                    .conditional
                    .get(*k)
                    .is_none_or(|label| !VARIANTS_NOT_EMULATED.iter().any(|(v, _)| v == label))
            })
            .collect();
        let (mut present, mut missing, mut left_out, mut not_seen) = (0, 0, 0, 0);
        for key in documented.iter().map(|k| k.as_str()) {
            let here = found.present.contains(key);
            present += usize::from(here);
            if let Some(call) = found.missing.get(key) {
                if listed(LEFT_OUT, name, key).is_some() {
                    left_out += 1;
                } else {
                    missing += 1;
                    problems.push(format!(
                        "{name}: {key} is missing from {call} ({})",
                        shape.source
                    ));
                }
                continue;
            }
            if listed(LEFT_OUT, name, key).is_some() {
                if resource_seen(key) {
                    problems.push(format!(
                        "{name}: {key} is listed in LEFT_OUT but the emulator sends it: drop it from the list"
                    ));
                } else {
                    left_out += 1;
                }
                continue;
            }
            if here {
                continue;
            }
            not_seen += 1;
            match (resource_seen(key), listed(NEVER_THERE, name, key)) {
                (true, Some(_)) => problems.push(format!(
                    "{name}: {key} is listed in NEVER_THERE but an answer has it: drop it from the list"
                )),
                (false, None) => problems.push(format!(
                    "{name}: no answer of the scenario had {key} (nor its parent): exercise it, or list it in NEVER_THERE with the reason"
                )),
                _ => {}
            }
        }
        for (key, what) in &found.mistyped {
            problems.push(format!("{name}: {key} is {what}"));
        }
        for key in &found.hcp_only_in_enterprise {
            problems.push(format!(
                "{name}: {key} is HCP Terraform's only, but a Terraform Enterprise answer has it"
            ));
        }
        println!(
            "{:<34} {:>10} {:>8} {:>8} {:>9} {:>9}",
            name,
            documented.len(),
            present,
            missing,
            left_out,
            not_seen
        );
        all_documented += documented.len();
        all_present += present;
    }
    println!("{:<34} {:>10} {:>8}", "all", all_documented, all_present);

    // Per resource, over all its endpoints: the documented key paths (list and single answers alike) and how
    // many of them some answer carried.
    let mut by_resource: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, shape) in shapes {
        by_resource.entry(resource_of(name)).or_default().extend(
            shape
                .keys
                .keys()
                .filter(|k| hcp || !shape.hcp_only.contains(*k))
                .filter(|k| {
                    shape
                        .conditional
                        .get(*k)
                        .is_none_or(|label| !VARIANTS_NOT_EMULATED.iter().any(|(v, _)| v == label))
                })
                .map(|k| resource_path(k))
                .filter(|k| !matches!(*k, "data" | "data[]")),
        );
    }
    println!("\n{app_name}: per resource, distinct documented key paths an answer carried");
    println!("{:<34} {:>10} {:>8}", "resource", "documented", "present");
    for (resource, keys) in &by_resource {
        let shown = keys
            .iter()
            .filter(|k| seen.get(resource).is_some_and(|s| s.contains(*k)))
            .count();
        println!("{:<34} {:>10} {:>8}", resource, keys.len(), shown);
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_what_the_api_reference_documents_with_its_types() {
    let shapes = load_shapes();
    let mut problems = Vec::new();
    for app_name in ["Terraform Enterprise", "HCP Terraform"] {
        let findings = findings_for(app_name, &shapes).await;
        problems.extend(
            report(app_name, &shapes, &findings)
                .into_iter()
                .map(|p| format!("{app_name}: {p}")),
        );
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Links the reference shows that lead to routes the emulator does not serve: (the link's ending, why).
/// docs/emulator.md lists the same.
const UNSERVED_LINKS: &[(&str, &str)] = &[
    (
        "/authentication-token",
        "the emulator has no organization API tokens; the API answers 404 when an organization has none",
    ),
    (
        "/subscription",
        "HCP Terraform's billing subscriptions are not emulated",
    ),
    (
        "/json-output",
        "a plan's JSON form (terraform show -json) is not emulated",
    ),
];

/// Every string under a `links` object of `value`, wherever it is.
fn collect_links(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if key == "links" {
                    for link in child
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter_map(|(_, l)| l.as_str())
                    {
                        out.insert(link.to_string());
                    }
                } else {
                    collect_links(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_links(item, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_link_in_the_answers_leads_to_a_route_the_emulator_serves() {
    let emu = Emulator::start("Terraform Enterprise").await;
    let mut links = BTreeSet::new();
    for (_, _, answer) in scenario(&emu).await {
        collect_links(&answer, &mut links);
    }
    assert!(links.len() > 40, "only {} links: {links:?}", links.len());
    let mut unserved = Vec::new();
    for link in &links {
        if UNSERVED_LINKS
            .iter()
            .any(|(ending, _)| link.ends_with(ending))
        {
            continue;
        }
        let url = if link.starts_with("http") {
            link.clone()
        } else {
            format!("{}{link}", emu.base)
        };
        let response = emu
            .http
            .get(&url)
            .bearer_auth(plain_api::TOKEN)
            .send()
            .await
            .expect("follow link");
        if !response.status().is_success() {
            unserved.push(format!("{link}: {}", response.status()));
        }
    }
    assert!(
        unserved.is_empty(),
        "links that lead nowhere:\n{}",
        unserved.join("\n")
    );
}
