//! The values behind the attributes the API reference documents come from the emulator's own state: a
//! workspace's performance figures from its runs and its `latest-change-at` from its state, the execution mode
//! new workspaces get (and `setting-overwrites`) from their organization's default, permissions from the
//! organization's entitlements, list links from the request, and the HCP Terraform-only keys from the
//! application name. reference_shapes.rs checks the keys and their types; this file checks what they say.

use crate::plain_api;

use plain_api::Emulator;
use serde_json::{Value, json};

const ORG: &str = "acme";

fn organization(attributes: Value) -> Value {
    json!({"data": {"type": "organizations", "attributes": attributes}})
}

fn workspace(attributes: Value) -> Value {
    json!({"data": {"type": "workspaces", "attributes": attributes}})
}

/// An emulator with organization `acme` created through the API with `attributes`.
async fn with_organization(app_name: &str, attributes: Value) -> Emulator {
    let emu = Emulator::start(app_name).await;
    let mut attributes = attributes;
    attributes["name"] = json!(ORG);
    attributes["email"] = json!("ops@acme.test");
    emu.call(
        "POST",
        "/organizations",
        Some(organization(attributes)),
        201,
    )
    .await;
    emu
}

async fn new_workspace(emu: &Emulator, attributes: Value) -> Value {
    emu.call(
        "POST",
        &format!("/organizations/{ORG}/workspaces"),
        Some(workspace(attributes)),
        201,
    )
    .await
}

/// Creates a run on `ws` that applies on its own and waits for it to end as `status`.
async fn run_to(emu: &Emulator, ws: &str, status: &str) -> Value {
    let run = emu
        .call(
            "POST",
            "/runs",
            Some(
                json!({"data": {"type": "runs", "attributes": {"auto-apply": true},
                "relationships": {"workspace": {"data": {"type": "workspaces", "id": ws}}}}}),
            ),
            201,
        )
        .await;
    let id = run["data"]["id"].as_str().expect("run id").to_string();
    emu.wait_for(&id, &[status]).await
}

fn attribute<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["data"]["attributes"][name]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workspaces_figures_and_latest_change_follow_its_runs_and_its_state() {
    let emu = with_organization("Terraform Enterprise", json!({})).await;
    // A VCS workspace: its configuration is there at once.
    let created = new_workspace(
        &emu,
        json!({"name": "app", "vcs-repo": {"identifier": "acme/app"}}),
    )
    .await;
    let ws = created["data"]["id"].as_str().unwrap().to_string();
    for figure in [
        "plan-duration-average",
        "apply-duration-average",
        "run-failures",
        "policy-check-failures",
        "workspace-kpis-runs-count",
    ] {
        assert_eq!(
            attribute(&created, figure),
            &Value::Null,
            "{figure} before any run"
        );
    }
    assert_eq!(
        attribute(&created, "latest-change-at"),
        attribute(&created, "created-at"),
        "without state, the latest change is the workspace's creation"
    );
    emu.call(
        "PUT",
        &format!("/_emulator/knobs/workspaces/{ws}"),
        Some(
            json!({"plan_ms": 150, "apply_ms": 250, "plan_outcome": "error_first_n:1",
            "outputs": {"url": "https://app.example"}}),
        ),
        200,
    )
    .await;
    run_to(&emu, &ws, "errored").await;
    run_to(&emu, &ws, "applied").await;

    let read = emu.get(&format!("/workspaces/{ws}")).await;
    assert_eq!(attribute(&read, "workspace-kpis-runs-count"), &json!(2));
    assert_eq!(attribute(&read, "run-failures"), &json!(1));
    assert_eq!(attribute(&read, "policy-check-failures"), &json!(0));
    let plan_average = attribute(&read, "plan-duration-average")
        .as_u64()
        .expect("a plan average");
    let apply_average = attribute(&read, "apply-duration-average")
        .as_u64()
        .expect("an apply average");
    // Both plans took about 150 ms and the one apply about 250 ms (the knobs), give or take the scheduler.
    assert!(
        (140..1500).contains(&plan_average),
        "plan average {plan_average} ms"
    );
    assert!(
        (240..1500).contains(&apply_average),
        "apply average {apply_average} ms"
    );
    let state = emu
        .get(&format!("/workspaces/{ws}/current-state-version"))
        .await;
    assert_eq!(
        attribute(&read, "latest-change-at"),
        attribute(&state, "created-at"),
        "the latest change is the newest state version's"
    );
    assert_ne!(
        attribute(&read, "latest-change-at"),
        attribute(&read, "created-at")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_workspaces_take_the_organizations_default_execution_mode_until_they_set_their_own() {
    let emu = with_organization(
        "Terraform Enterprise",
        json!({"default-execution-mode": "local", "collaborator-auth-policy": "two_factor_mandatory"}),
    )
    .await;
    let org = emu.get(&format!("/organizations/{ORG}")).await;
    assert_eq!(attribute(&org, "default-execution-mode"), "local");
    assert_eq!(
        attribute(&org, "collaborator-auth-policy"),
        "two_factor_mandatory"
    );
    let inheriting = new_workspace(&emu, json!({"name": "inheriting"})).await;
    assert_eq!(attribute(&inheriting, "execution-mode"), "local");
    assert_eq!(attribute(&inheriting, "operations"), false);
    assert_eq!(
        attribute(&inheriting, "setting-overwrites"),
        &json!({"execution-mode": false, "agent-pool": false})
    );
    let own = new_workspace(&emu, json!({"name": "own", "execution-mode": "remote"})).await;
    assert_eq!(
        attribute(&own, "setting-overwrites")["execution-mode"],
        true
    );

    emu.call(
        "PATCH",
        &format!("/organizations/{ORG}"),
        Some(organization(json!({"default-execution-mode": "agent"}))),
        200,
    )
    .await;
    let mode = |doc: Value| attribute(&doc, "execution-mode").clone();
    assert_eq!(
        mode(
            emu.get(&format!("/organizations/{ORG}/workspaces/inheriting"))
                .await
        ),
        "agent",
        "a workspace without its own mode follows the organization's default"
    );
    assert_eq!(
        mode(
            emu.get(&format!("/organizations/{ORG}/workspaces/own"))
                .await
        ),
        "remote"
    );

    for (attributes, named) in [
        (
            json!({"default-execution-mode": "cloud"}),
            "default-execution-mode",
        ),
        (
            json!({"collaborator-auth-policy": "sso"}),
            "collaborator-auth-policy",
        ),
        (
            json!({"allow-force-delete-workspaces": "yes"}),
            "allow-force-delete-workspaces",
        ),
    ] {
        let refused = emu
            .call(
                "PATCH",
                &format!("/organizations/{ORG}"),
                Some(organization(attributes)),
                422,
            )
            .await;
        let detail = refused["errors"][0]["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(named), "{detail}");
    }
    let refused = emu
        .call(
            "PATCH",
            &format!("/organizations/{ORG}/workspaces/own"),
            Some(workspace(
                json!({"auto-destroy-activity-duration": "2 weeks"}),
            )),
            422,
        )
        .await;
    assert!(
        refused["errors"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("14d"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_are_an_owners_less_what_the_entitlement_set_leaves_out() {
    let emu = with_organization("Terraform Enterprise", json!({})).await;
    let ws = new_workspace(
        &emu,
        json!({"name": "app", "vcs-repo": {"identifier": "acme/app"}}),
    )
    .await["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let org = emu.get(&format!("/organizations/{ORG}")).await;
    let permissions = &attribute(&org, "permissions");
    assert_eq!(permissions["can-update-sentinel"], true);
    assert_eq!(permissions["can-create-team"], true);
    // Subscriptions and trials are HCP Terraform's billing.
    assert_eq!(permissions["can-manage-subscription"], false);

    emu.call(
        "PUT",
        &format!("/_emulator/knobs/organizations/{ORG}"),
        Some(
            json!({"entitlements": {"sentinel": false, "teams": false, "run_tasks": false},
            "plan_ms": 30}),
        ),
        200,
    )
    .await;
    let org = emu.get(&format!("/organizations/{ORG}")).await;
    let permissions = &attribute(&org, "permissions");
    assert_eq!(permissions["can-update-sentinel"], false);
    assert_eq!(permissions["can-create-team"], false);
    assert_eq!(permissions["can-manage-run-tasks"], false);
    assert_eq!(permissions["can-create-workspace"], true);
    let set = emu
        .get(&format!("/organizations/{ORG}/entitlement-set"))
        .await;
    assert_eq!(attribute(&set, "sentinel"), false);
    assert_eq!(attribute(&set, "run-tasks"), false);
    assert_eq!(attribute(&set, "policy-limit"), &Value::Null);
    assert_eq!(
        set["data"]["id"],
        attribute(&org, "external-id").clone(),
        "the entitlement set's id is the organization's external id"
    );
    let workspace = emu.get(&format!("/workspaces/{ws}")).await;
    assert_eq!(
        attribute(&workspace, "permissions")["can-manage-run-tasks"],
        false
    );
    let run = run_to(&emu, &ws, "applied").await;
    assert_eq!(
        attribute(&run, "permissions")["can-override-policy-check"],
        false
    );
    assert_eq!(
        attribute(&run, "permissions")["can-apply"],
        true,
        "a permission is a right, not the run's state"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_links_page_through_the_same_query() {
    let emu = with_organization("Terraform Enterprise", json!({})).await;
    for n in 0..5 {
        new_workspace(&emu, json!({"name": format!("app-{n}")})).await;
    }
    let page = emu
        .get(&format!(
            "/organizations/{ORG}/workspaces?search%5Bname%5D=app&page%5Bnumber%5D=2&page%5Bsize%5D=2"
        ))
        .await;
    assert_eq!(page["meta"]["pagination"]["page-size"], 2);
    assert_eq!(page["meta"]["pagination"]["total-pages"], 3);
    let links = &page["links"];
    let list = format!(
        "{}/api/v2/organizations/{ORG}/workspaces?search%5Bname%5D=app",
        emu.base
    );
    assert_eq!(links["self"], format!("{list}&page[number]=2&page[size]=2"));
    assert_eq!(
        links["first"],
        format!("{list}&page[number]=1&page[size]=2")
    );
    assert_eq!(links["prev"], format!("{list}&page[number]=1&page[size]=2"));
    assert_eq!(links["next"], format!("{list}&page[number]=3&page[size]=2"));
    assert_eq!(links["last"], format!("{list}&page[number]=3&page[size]=2"));
    let next = emu
        .http
        .get(links["next"].as_str().unwrap())
        .bearer_auth(plain_api::TOKEN)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(next["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(next["links"]["next"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hcp_terraforms_own_keys_come_only_with_its_name() {
    for (app_name, hcp) in [("Terraform Enterprise", false), ("HCP Terraform", true)] {
        let emu = with_organization(app_name, json!({"assessments-enforced": true})).await;
        let ws = new_workspace(&emu, json!({"name": "app", "assessments-enabled": true})).await;
        let org = emu.get(&format!("/organizations/{ORG}")).await;
        let has = |doc: &Value, key: &str| doc["data"]["attributes"].get(key).is_some();
        assert_eq!(has(&org, "assessments-enforced"), hcp, "{app_name}");
        assert_eq!(has(&org, "two-factor-conformant"), hcp, "{app_name}");
        assert_eq!(has(&ws, "assessments-enabled"), hcp, "{app_name}");
        if hcp {
            assert_eq!(attribute(&org, "assessments-enforced"), true);
            assert_eq!(attribute(&ws, "assessments-enabled"), true);
        }
    }
}
