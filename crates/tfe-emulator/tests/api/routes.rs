//! The parts of the TFE API around and beside runs that clients of the real API walk, driven through this
//! project's client: run logs behind `log-read-url` (archivist-style, no token, `offset`/`limit`), the web
//! page and its actions, organizations and their entitlements, workspace settings, OAuth clients and
//! tokens, and the error documents.

use std::time::Duration;

use serde_json::{Value, json};
use test_support::api::{knobs_with, run_for, wait_for};
use test_support::emulator::{TestEmulator, http_client};
use tfe_client::*;

const FAST: fn() -> Value = || json!({"plan_ms": 40, "apply_ms": 40});

/// An HTTPS emulator (log URLs must work with its CA) with one workspace whose knobs are `FAST` plus `extra`.
async fn setup(extra: Value) -> (TestEmulator, TfeClient, String) {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace("acme", "app");
    emu.set_workspace_knobs(&ws, knobs_with(FAST(), extra));
    let client = emu.client().await;
    (emu, client, ws)
}

fn log_url(phase: &Plan) -> String {
    phase
        .attributes
        .log_read_url
        .clone()
        .expect("a phase has a log-read-url")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_apply_logs_tell_what_the_run_did() {
    let (emu, client, ws) = setup(json!({"resource_additions": 2, "resource_changes": 1,
        "outputs": {"endpoint": "https://app.example"}}))
    .await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Planned).await;
    let plan = client
        .plan(&format!("plan-{}", &run.id[4..]))
        .await
        .unwrap();
    let url = log_url(&plan);
    let prefix = format!("{}/_archivist/v1/object/", emu.base_url);
    assert!(url.starts_with(&prefix), "absolute archivist URL: {url}");
    assert!(
        url[prefix.len()..].len() >= 40,
        "an unguessable secret: {url}"
    );

    let log = client.read_log(&url).await.unwrap();
    assert!(log.complete, "a finished plan's log ends with ETX: {log:?}");
    for line in [
        "Terraform v1.9.8",
        "  # null_resource.emulated[0] will be updated in-place",
        "  # null_resource.emulated[2] will be created",
        "Plan: 2 to add, 1 to change, 0 to destroy.",
        "Changes to Outputs:",
    ] {
        assert!(log.text.contains(line), "{line:?} in\n{}", log.text);
    }

    client.apply_run(&run.id, None).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Applied).await;
    let apply = client
        .apply(&format!("apply-{}", &run.id[4..]))
        .await
        .unwrap();
    let apply_url = apply.attributes.log_read_url.clone().unwrap();
    assert_ne!(apply_url, url);
    let log = client.read_log(&apply_url).await.unwrap();
    assert!(log.complete);
    assert!(
        log.text
            .contains("Apply complete! Resources: 2 added, 1 changed, 0 destroyed."),
        "{}",
        log.text
    );
    assert_eq!(log.tail(1), "endpoint = \"https://app.example\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_errored_plan_logs_the_error_block_the_knob_names() {
    let (_emu, client, ws) = setup(json!({"plan_outcome": "error",
        "error_message": "Invalid provider configuration"}))
    .await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Errored).await;
    let plan = client
        .plan(&format!("plan-{}", &run.id[4..]))
        .await
        .unwrap();
    let log = client.read_log(&log_url(&plan)).await.unwrap();
    assert!(log.complete);
    assert!(
        log.text
            .contains("│ Error: Invalid provider configuration\n"),
        "{}",
        log.text
    );
    assert!(log.tail(1).starts_with('╵'), "{}", log.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_is_tailed_by_offset_and_limit_without_a_token() {
    let (emu, client, ws) = setup(
        json!({"plan_log_template": "plan of {workspace} in {organization}: {additions} to add\n"}),
    )
    .await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Planned).await;
    let url = log_url(
        &client
            .plan(&format!("plan-{}", &run.id[4..]))
            .await
            .unwrap(),
    );

    // As go-tfe's log reader does: windows of a few bytes until the ETX marker.
    let mut whole = Vec::new();
    loop {
        let chunk = client
            .read_log_chunk(&url, whole.len() as u64, Some(7))
            .await
            .unwrap();
        assert!(chunk.len() <= 7, "limit honoured: {chunk:?}");
        assert!(!chunk.is_empty(), "the log ended without ETX: {whole:?}");
        whole.extend_from_slice(&chunk);
        if whole.last() == Some(&3) {
            break;
        }
    }
    assert_eq!(whole, b"\x02plan of app in acme: 1 to add\n\x03");
    let past_end = client.read_log_chunk(&url, 500, Some(10)).await.unwrap();
    assert!(past_end.is_empty());

    // No Authorization header at all, as archivist URLs are read.
    let raw = http_client(Some(&emu.ca_file));
    let answer = raw.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let unknown = raw
        .get(format!("{}/_archivist/v1/object/nope", emu.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let bad = raw.get(format!("{url}?offset=-1")).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("offset must be a non-negative integer"),
        "{body}"
    );
}

// ---------- the web page ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_served_to_loopback_and_its_actions_are_the_apis() {
    let (emu, client, ws) = setup(json!({})).await;
    let raw = http_client(Some(&emu.ca_file));
    for path in ["/", "/app/acme/workspaces/app"] {
        let page = raw
            .get(format!("{}{path}", emu.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert!(page.text().await.unwrap().contains("/_ui/app.js"));
    }
    let run = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &run.id, RunStatus::Planned).await;
    let action = format!("{}/_ui/api/runs/{}/actions/apply", emu.base_url, run.id);
    let forged = raw.post(&action).send().await.unwrap();
    assert_eq!(forged.status(), 403, "an action without the page's header");
    let confirmed = raw
        .post(&action)
        .header("x-tfe-emulator-ui", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);
    wait_for(&client, &run.id, RunStatus::Applied).await;
    // The same refusal as the API's: the run is no longer paused.
    let again = raw
        .post(&action)
        .header("x-tfe-emulator-ui", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let body: Value = again.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["detail"],
        "Run was not paused for confirmation; apply not allowed."
    );
    let detail: Value = raw
        .get(format!("{}/_ui/api/runs/{}", emu.base_url, run.id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let steps: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "pending",
            "plan_queued",
            "planning",
            "planned",
            "confirmed",
            "apply_queued",
            "applying",
            "applied"
        ]
    );
}

#[tokio::test]
async fn other_addresses_need_the_admin_token() {
    use tower::ServiceExt;
    let ask = |admin_token: Option<&str>, bearer: Option<&str>| {
        let mut emulator =
            tfe_emulator::Emulator::new(vec!["t".into()], tfe_emulator::knobs::Knobs::default());
        emulator.admin_token = admin_token.map(str::to_string);
        let app = tfe_emulator::server::app(std::sync::Arc::new(emulator));
        let mut request = axum::http::Request::get("/_ui/api/overview");
        if let Some(b) = bearer {
            request = request.header("authorization", format!("Bearer {b}"));
        }
        let mut request = request.body(axum::body::Body::empty()).unwrap();
        let peer: std::net::SocketAddr = "192.0.2.7:40000".parse().unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        async move { app.oneshot(request).await.unwrap().status().as_u16() }
    };
    assert_eq!(ask(None, None).await, 401, "no admin token: loopback only");
    assert_eq!(ask(Some("adm"), None).await, 401);
    assert_eq!(ask(Some("adm"), Some("wrong")).await, 401);
    assert_eq!(ask(Some("adm"), Some("adm")).await, 200);

    // Opened once with ?admin_token=, the page keeps the token in a cookie and drops it from the address.
    let mut emulator =
        tfe_emulator::Emulator::new(vec!["t".into()], tfe_emulator::knobs::Knobs::default());
    emulator.admin_token = Some("adm".into());
    let app = tfe_emulator::server::app(std::sync::Arc::new(emulator));
    let peer: std::net::SocketAddr = "192.0.2.7:40000".parse().unwrap();
    let get = |uri: &str, cookie: Option<&str>| {
        let mut request = axum::http::Request::get(uri);
        if let Some(c) = cookie {
            request = request.header("cookie", c);
        }
        let mut request = request.body(axum::body::Body::empty()).unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        app.clone().oneshot(request)
    };
    let opened = get("/?admin_token=adm", None).await.unwrap();
    assert_eq!(opened.status(), 303);
    assert_eq!(opened.headers()["location"], "/");
    let cookie = opened.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    assert_eq!(get("/", Some(pair)).await.unwrap().status(), 200);
    assert_eq!(
        get("/", Some("tfe_emulator_admin=wrong"))
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_lock_override_cancel_and_force_cancel_go_through_the_run_machine() {
    let (emu, client, ws) =
        setup(json!({"policy": "soft_fail", "force_cancel_cooloff_ms": 50})).await;
    let raw = http_client(Some(&emu.ca_file));
    let act = |path: String| {
        raw.post(format!("{}/_ui/api/{path}", emu.base_url))
            .header("x-tfe-emulator-ui", "1")
            .send()
    };
    let run = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &run.id, RunStatus::PolicyOverride).await;
    let answer = act(format!("runs/{}/actions/override-policy", run.id))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    wait_for(&client, &run.id, RunStatus::PolicyChecked).await;
    act(format!("runs/{}/actions/discard", run.id))
        .await
        .unwrap();
    wait_for(&client, &run.id, RunStatus::Discarded).await;

    // A page lock holds the next run pending; the page unlocks it.
    let locked = act(format!("workspaces/{ws}/actions/lock")).await.unwrap();
    assert_eq!(locked.status(), 200);
    assert!(client.workspace(&ws).await.unwrap().attributes.locked);
    // The next plan is long and its cancel never completes, so only force cancel ends it.
    emu.set_workspace_knobs(
        &ws,
        knobs_with(
            FAST(),
            json!({"plan_ms": 10000, "cancel_stuck": true, "force_cancel_cooloff_ms": 50}),
        ),
    );
    let held = client.create_run(run_for(&ws)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        client.run(&held.id).await.unwrap().attributes.status,
        RunStatus::Pending
    );
    let unlocked = act(format!("workspaces/{ws}/actions/unlock"))
        .await
        .unwrap();
    assert_eq!(unlocked.status(), 200);
    wait_for(&client, &held.id, RunStatus::Planning).await;

    let canceled = act(format!("runs/{}/actions/cancel", held.id))
        .await
        .unwrap();
    assert_eq!(canceled.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        client.run(&held.id).await.unwrap().attributes.status,
        RunStatus::Planning,
        "a stuck cancel leaves the run planning"
    );
    let forced = act(format!("runs/{}/actions/force-cancel", held.id))
        .await
        .unwrap();
    assert_eq!(forced.status(), 200, "{:?}", forced.text().await);
    wait_for(&client, &held.id, RunStatus::Canceled).await;
}

// ---------- API gaps clients of the real API hit ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_are_listed_by_page_and_filtered() {
    let emu = TestEmulator::start();
    let client = emu.client().await;
    for name in ["alpha", "beta", "gamma"] {
        client
            .create_organization(name, &format!("ops@{name}.test"))
            .await
            .unwrap();
    }
    let first = client
        .organizations(PageRequest { number: 1, size: 2 }, None)
        .await
        .unwrap();
    let names: Vec<&str> = first.items.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert_eq!(first.pagination.next_page, Some(2));
    assert_eq!(first.pagination.total_count, Some(3));
    let second = client
        .organizations(PageRequest { number: 2, size: 2 }, None)
        .await
        .unwrap();
    assert_eq!(second.items[0].attributes.name, "gamma");
    let found = client
        .organizations(PageRequest::default(), Some("GAM"))
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(
        found.items[0].attributes.email.as_deref(),
        Some("ops@gamma.test")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_entitlement_set_grants_all_unless_the_knob_says_otherwise() {
    let emu = TestEmulator::start();
    emu.seed_workspace("acme", "app");
    let client = emu.client().await;
    let set = client.entitlement_set("acme").await.unwrap();
    assert_eq!(set.kind, "entitlement-sets");
    assert!(set.attributes.operations && set.attributes.state_storage && set.attributes.sentinel);
    emu.set_org_knobs(
        "acme",
        json!({"entitlements": {"sentinel": false, "sso": false}}),
    );
    let set = client.entitlement_set("acme").await.unwrap();
    assert!(!set.attributes.sentinel && !set.attributes.sso);
    assert!(set.attributes.teams && set.attributes.vcs_integrations);
    let missing = client.entitlement_set("nope").await.unwrap_err();
    assert_eq!(missing.status(), Some(404), "{missing}");
    let (status, body) = emu.admin_raw(
        "PUT",
        "/_emulator/knobs/organizations/acme",
        Some(json!({"entitlements": {"stacks": true}})),
    );
    assert_eq!(status, 400, "an unknown entitlement is refused: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_terraform_version_is_a_422_naming_it() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace("acme", "app");
    let client = emu.client().await;
    let set = |v: &str| WorkspaceOptions {
        terraform_version: Some(v.to_string()),
        ..Default::default()
    };
    let err = client
        .update_workspace(&ws, &set("1.99.0"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");
    assert!(err.to_string().contains("\"1.99.0\""), "{err}");
    let err = client
        .create_workspace(
            "acme",
            &WorkspaceOptions {
                name: Some("other".into()),
                ..set("banana")
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422), "{err}");
    for ok in ["1.5.7", "latest", "~> 1.9.0"] {
        let updated = client.update_workspace(&ws, &set(ok)).await.unwrap();
        assert_eq!(updated.attributes.terraform_version.as_deref(), Some(ok));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_405_is_a_json_api_error_document() {
    let emu = TestEmulator::start();
    let raw = http_client(Some(&emu.ca_file));
    let answer = raw
        .put(format!("{}/api/v2/organizations", emu.base_url))
        .bearer_auth(&emu.token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 405);
    assert_eq!(answer.headers()["content-type"], "application/vnd.api+json");
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["errors"][0]["status"], "405", "{body}");
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("PUT is not allowed on /api/v2/organizations"),
        "{body}"
    );
    // Errors axum itself makes (here a path segment that is not a number) are documents too.
    let rejected = raw
        .delete(format!("{}/_emulator/faults/not-a-number", emu.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), 400);
    let body: Value = rejected.json().await.unwrap();
    assert_eq!(body["errors"][0]["status"], "400", "{body}");
    assert!(
        body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("parse"),
        "{body}"
    );
}

/// `curl --http2` POSTing 3 MB to `path` without a token: the status it printed (`000` for none).
fn curl_status(emu: &TestEmulator, path: &str, body: &std::path::Path) -> String {
    let out = std::process::Command::new("curl")
        .args([
            "--silent",
            "--http2",
            "--output",
            "/dev/null",
            "--write-out",
            "%{http_code} %{http_version}",
        ])
        .arg("--cacert")
        .arg(&emu.ca_file)
        .args([
            "-X",
            "POST",
            "-H",
            "content-type: application/vnd.api+json",
            "--data-binary",
        ])
        .arg(format!("@{}", body.display()))
        .arg(format!("{}{path}", emu.base_url))
        .output()
        .unwrap_or_else(|e| panic!("this test needs curl on PATH (apt-get install curl): {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn over_http2_an_early_answer_still_reaches_the_client() {
    let emu = TestEmulator::start();
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, vec![b' '; 3 * 1024 * 1024]).unwrap();
    // A 401 before auth looked at the body, and a 404 for a route that does not exist, five times each:
    // without the body read first, curl reported a stream error and no status for most of them.
    for _ in 0..5 {
        assert_eq!(curl_status(&emu, "/api/v2/runs", &body), "401 2");
        assert_eq!(curl_status(&emu, "/api/v2/no-such-route", &body), "404 2");
    }
    // This project's client (HTTP/2 too) gets the 401 of a create sent with a token the server does not know.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut config = emu.client_config();
        config.token = "not-a-token".into();
        let client = TfeClient::connect(config).await.unwrap();
        let err = client
            .create_run(CreateRun {
                workspace_id: "ws-none".into(),
                message: Some("x".repeat(512 * 1024)),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(401), "{err}");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_is_renamed_and_keeps_its_session_settings() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace("acme", "app");
    let client = emu.client().await;
    let updated = client
        .update_organization_with(
            "acme",
            &OrganizationOptions {
                name: Some("acme-two".into()),
                session_timeout: Some(20160),
                session_remember: Some(30),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.id, "acme-two");
    assert_eq!(updated.attributes.session_timeout, Some(20160));
    let read = client.organization("acme-two").await.unwrap();
    assert_eq!(read.attributes.name, "acme-two");
    assert_eq!(read.attributes.session_remember, Some(30));
    assert_eq!(
        client.organization("acme").await.unwrap_err().status(),
        Some(404)
    );
    // What belonged to it moved along.
    let w = client.workspace(&ws).await.unwrap();
    assert_eq!(w.organization_name(), Some("acme-two"));
    client.workspace_by_name("acme-two", "app").await.unwrap();
    client
        .create_organization("taken", "t@x.test")
        .await
        .unwrap();
    let clash = client
        .update_organization_with(
            "acme-two",
            &OrganizationOptions {
                name: Some("taken".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(clash.status(), Some(422), "{clash}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_settings_are_stored_and_returned() {
    let emu = TestEmulator::start();
    emu.seed_workspace("acme", "seed");
    let client = emu.client().await;
    let plain = client
        .create_workspace(
            "acme",
            &WorkspaceOptions {
                name: Some("defaults".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let a = &plain.attributes;
    assert_eq!(
        (
            a.file_triggers_enabled,
            a.speculative_enabled,
            a.operations,
            a.structured_run_output_enabled
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    assert_eq!(a.trigger_prefixes, Some(vec![]));

    let ws = client
        .create_workspace(
            "acme",
            &WorkspaceOptions {
                name: Some("set".into()),
                file_triggers_enabled: Some(false),
                trigger_prefixes: Some(vec!["modules/".into()]),
                operations: Some(false),
                structured_run_output_enabled: Some(false),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ws.attributes.execution_mode.as_deref(), Some("local"));
    assert_eq!(ws.attributes.operations, Some(false));
    let updated = client
        .update_workspace(
            &ws.id,
            &WorkspaceOptions {
                speculative_enabled: Some(false),
                trigger_prefixes: Some(vec![]),
                execution_mode: Some("remote".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let read = client.workspace(&ws.id).await.unwrap();
    for w in [&updated, &read] {
        let a = &w.attributes;
        assert_eq!(a.file_triggers_enabled, Some(false));
        assert_eq!(a.speculative_enabled, Some(false));
        assert_eq!(a.trigger_prefixes, Some(vec![]));
        assert_eq!(a.operations, Some(true), "mirrors execution-mode remote");
        assert_eq!(a.structured_run_output_enabled, Some(false));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vcs_repo_null_unlinks_and_the_list_includes_the_organization() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace("acme", "app");
    let client = emu.client().await;
    assert!(
        client
            .workspace(&ws)
            .await
            .unwrap()
            .attributes
            .vcs_repo
            .is_some()
    );
    let unlinked = client
        .update_workspace(
            &ws,
            &WorkspaceOptions {
                clear_vcs_repo: Cleared(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(unlinked.attributes.vcs_repo, None);
    assert_eq!(
        client.workspace(&ws).await.unwrap().attributes.vcs_repo,
        None
    );

    let raw = http_client(Some(&emu.ca_file));
    let list: Value = raw
        .get(format!(
            "{}/api/v2/organizations/acme/workspaces?include=organization",
            emu.base_url
        ))
        .bearer_auth(&emu.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"][0]["id"], ws.as_str());
    assert_eq!(list["included"][0]["type"], "organizations", "{list}");
    assert_eq!(list["included"][0]["id"], "acme");
}

const SSH_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_clients_and_tokens_are_listed_updated_and_deleted() {
    let emu = TestEmulator::start();
    emu.seed_workspace("acme", "app");
    let client = emu.client().await;
    let oc = client
        .create_oauth_client(
            "acme",
            &CreateOAuthClient {
                service_provider: "github".into(),
                http_url: "https://github.com".into(),
                api_url: "https://api.github.com".into(),
                oauth_token_string: Some("ghp_secret".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let listed = client
        .oauth_clients("acme", PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let token_id = listed.items[0]
        .related_ids("oauth-tokens")
        .first()
        .map(|s| s.to_string())
        .expect("the client lists its token");
    let tokens = client
        .organization_oauth_tokens("acme", PageRequest::default())
        .await
        .unwrap();
    assert_eq!(tokens.items[0].id, token_id);
    assert!(!tokens.items[0].attributes.has_ssh_key);

    let set = client
        .update_oauth_token(
            &token_id,
            &OAuthTokenOptions {
                ssh_key: Some(SSH_KEY.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(set.attributes.has_ssh_key);
    assert!(
        client
            .oauth_token(&token_id)
            .await
            .unwrap()
            .attributes
            .has_ssh_key
    );
    let bad = client
        .update_oauth_token(
            &token_id,
            &OAuthTokenOptions {
                ssh_key: Some("ssh-rsa AAAAB3NzaC1yc2E me@host".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad.status(), Some(422));
    assert!(bad.to_string().contains("Ssh key is invalid"), "{bad}");
    let cleared = client
        .update_oauth_token(
            &token_id,
            &OAuthTokenOptions {
                clear_ssh_key: Cleared(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!cleared.attributes.has_ssh_key);

    client.delete_oauth_token(&token_id).await.unwrap();
    assert_eq!(
        client.oauth_token(&token_id).await.unwrap_err().status(),
        Some(404)
    );
    assert_eq!(
        client
            .delete_oauth_token(&token_id)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    let after = client.oauth_client(&oc.id).await.unwrap();
    assert!(after.related_ids("oauth-tokens").is_empty());
}
