//! tfe-emulator as a program: the ready line, tokens, scenario files, signals, the admin API. Every
//! emulator here is the binary cargo built for these tests, started as a user starts it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use test_support::emulator::{EmulatorOptions, TestEmulator, http_client};

/// The `tfe-emulator` program cargo built for these tests.
fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_tfe-emulator"))
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill(1) is available");
    assert!(status.success());
}

/// Starts the binary directly and returns (child, first stdout line).
fn spawn(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(binary())
        .args(args)
        .env_remove("TFE_EMULATOR_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tfe-emulator");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line)
}

fn wait_exit(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "tfe-emulator did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn prints_one_ready_line_and_stops_cleanly_on_sigterm_and_sigint() {
    for sig in ["-TERM", "-INT"] {
        for http in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let ca = dir.path().join("ca.pem");
            let ca_arg = ca.to_str().unwrap();
            let mut args = vec![
                "--listen",
                "127.0.0.1:0",
                "--token",
                "t",
                "--ca-file",
                ca_arg,
            ];
            if http {
                args.push("--http");
            }
            let (mut child, line) = spawn(&args);
            let scheme = if http { "http" } else { "https" };
            let prefix = format!("tfe-emulator ready at {scheme}://127.0.0.1:");
            assert!(line.starts_with(&prefix), "{line:?}");
            let port: u16 = line
                .trim()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .expect("a port");
            assert_ne!(port, 0);
            assert_eq!(ca.exists(), !http, "the CA file is written for HTTPS only");
            if !http {
                let pem = std::fs::read_to_string(&ca).unwrap();
                assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
            }
            std::net::TcpStream::connect(("127.0.0.1", port))
                .expect("accepting after the ready line");
            signal(child.id(), sig);
            let status = wait_exit(&mut child);
            assert!(status.success(), "{sig}: {status:?}");
            let mut rest = String::new();
            std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut rest).unwrap();
            assert_eq!(rest, "", "exactly one stdout line");
        }
    }
}

#[test]
fn refuses_to_start_without_a_token() {
    let out = Command::new(binary())
        .args(["--listen", "127.0.0.1:0", "--http"])
        .env_remove("TFE_EMULATOR_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--token") && stderr.contains("TFE_EMULATOR_TOKEN"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no ready line");
}

#[test]
fn token_from_the_environment() {
    let mut child = Command::new(binary())
        .args(["--listen", "127.0.0.1:0", "--http"])
        .env("TFE_EMULATOR_TOKEN", "env-token")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("tfe-emulator ready at http://"), "{line}");
    signal(child.id(), "-TERM");
    assert!(wait_exit(&mut child).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_configured_tokens_are_accepted() {
    let emu = TestEmulator::start_program(
        binary(),
        EmulatorOptions {
            http: true,
            tokens: vec!["alpha".into(), "beta".into()],
            ..Default::default()
        },
    );
    emu.seed_workspace("acme", "app");
    let http = http_client(None);
    let get = |token: Option<&'static str>| {
        let mut req = http.get(format!("{}/api/v2/organizations/acme", emu.base_url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    assert_eq!(get(Some("alpha")).await.unwrap().status(), 200);
    assert_eq!(get(Some("beta")).await.unwrap().status(), 200);
    let denied = get(Some("gamma")).await.unwrap();
    assert_eq!(denied.status(), 401);
    let body: serde_json::Value = denied.json().await.unwrap();
    assert_eq!(body["errors"][0]["status"], "401", "status is a string");
    assert_eq!(get(None).await.unwrap().status(), 401);
    let ping = http
        .get(format!("{}/api/v2/ping", emu.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(ping.headers()["x-ratelimit-limit"], "30");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_to_a_token_states_what_is_left_of_its_budget() {
    let emu = TestEmulator::start_with(EmulatorOptions {
        http: true,
        tokens: vec!["alpha".into(), "beta".into()],
        ..Default::default()
    });
    emu.seed_workspace("acme", "app");
    let http = http_client(None);
    let budget = |response: &reqwest::Response| {
        let h = response.headers();
        let number = |name: &str| -> Option<f64> { h.get(name)?.to_str().ok()?.parse().ok() };
        (
            number("x-ratelimit-limit"),
            number("x-ratelimit-remaining"),
            number("x-ratelimit-reset"),
        )
    };
    let get = |token: &'static str| {
        http.get(format!("{}/api/v2/organizations/acme", emu.base_url))
            .bearer_auth(token)
            .send()
    };
    // Each token has its own bucket of 30, this request counted; the reset is the wait for one more.
    let (limit, first, reset) = budget(&get("alpha").await.unwrap());
    assert_eq!(limit, Some(30.0));
    assert_eq!(first, Some(29.0), "a full bucket less this request");
    assert!(
        reset.is_some_and(|r| (0.0..=1.0 / 30.0 + 1e-9).contains(&r)),
        "{reset:?}"
    );
    let (_, second, _) = budget(&get("alpha").await.unwrap());
    assert!(second.unwrap() <= 29.0, "{second:?}");
    let (_, other, _) = budget(&get("beta").await.unwrap());
    assert_eq!(other, Some(29.0), "another token, another bucket");
    // Without a token nothing is counted, and nothing is stated but the limit.
    let ping = http
        .get(format!("{}/api/v2/ping", emu.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(budget(&ping), (Some(30.0), None, None));
    // Not enforced: more than the budget is served, and the headers say it is spent.
    let mut last = None;
    for _ in 0..40 {
        let response = get("alpha").await.unwrap();
        assert_eq!(response.status(), 200);
        last = budget(&response).1;
    }
    assert!(last.is_some_and(|r| r < 5.0), "{last:?}");
    // Enforced: the 429 states an empty budget and the wait.
    emu.admin(
        "PUT",
        "/_emulator/settings",
        Some(json!({"enforce_rate_limit": true})),
    );
    let mut refused = None;
    for _ in 0..40 {
        let response = get("alpha").await.unwrap();
        if response.status() == 429 {
            refused = Some(budget(&response));
            break;
        }
    }
    let (_, remaining, reset) = refused.expect("40 requests at once exceed a bucket of 30");
    assert_eq!(remaining, Some(0.0));
    assert!(
        reset.is_some_and(|r| r > 0.0 && r <= 1.0 / 30.0 + 1e-9),
        "{reset:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_file_seeds_tokens_knobs_and_faults() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.json");
    std::fs::write(
        &scenario,
        json!({
            "tokens": ["from-scenario"],
            "defaults": {"plan_ms": 20},
            "organizations": [{"name": "acme", "knobs": {"plan_outcome": "no_changes"}}],
            "workspaces": [{"organization": "acme", "name": "app"}],
            "faults": [{"kind": "rate_limit", "path": "/api/v2/organizations/*", "times": 1, "reset_seconds": 0.1}],
            "rate_limit": 50
        })
        .to_string(),
    )
    .unwrap();
    let emu = TestEmulator::start_program(
        binary(),
        EmulatorOptions {
            http: true,
            tokens: vec![],
            scenario: Some(scenario),
            ..Default::default()
        },
    );
    let mut config = emu.client_config();
    config.token = "from-scenario".into();
    let client = tfe_client::TfeClient::connect(config).await.unwrap();
    assert_eq!(client.server_info().rate_limit, Some(50.0));
    let ws = client
        .workspace_by_name("acme", "app")
        .await
        .expect("seeded, after one 429");
    assert_eq!(emu.requests()["counters"]["served_429"], 1);
    let run = client
        .create_run(tfe_client::CreateRun {
            workspace_id: ws.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    emu.wait_for_status(&run.id, "planned_and_finished", Duration::from_secs(5));
}

#[test]
fn bad_scenario_files_are_rejected_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("bad.json");
    std::fs::write(
        &scenario,
        r#"{"tokens":["t"],"defaults":{"plan_outcome":"sometimes"}}"#,
    )
    .unwrap();
    let out = Command::new(binary())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--http",
            "--scenario",
            scenario.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.json") && stderr.contains("error_first_n:N"),
        "{stderr}"
    );
}

#[test]
fn admin_api_log_counters_reset_and_validation() {
    let emu = TestEmulator::start_program(
        binary(),
        EmulatorOptions {
            http: true,
            ..Default::default()
        },
    );
    let ws = emu.seed_workspace("acme", "app");
    emu.reset_requests();
    assert_eq!(emu.total_requests(), 0);
    let (status, _) = emu.admin_raw("GET", &format!("/api/v2/workspaces/{ws}"), None);
    assert_eq!(status, 401, "the admin client sends no TFE token");
    assert_eq!(emu.request_count("GET /api/v2/workspaces/{id}"), 1);
    let log = emu.requests();
    let entry = &log["requests"][0];
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["route"], "/api/v2/workspaces/{id}");
    assert_eq!(entry["path"], format!("/api/v2/workspaces/{ws}"));
    assert_eq!(entry["status"], 401);
    assert!(entry["at"].as_str().unwrap().ends_with('Z'));
    emu.reset_requests();
    assert_eq!(emu.total_requests(), 0);

    let (status, body) = emu.admin_raw(
        "PUT",
        &format!("/_emulator/knobs/workspaces/{ws}"),
        Some(json!({"plan_ms": "fast"})),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = emu.admin_raw(
        "PUT",
        &format!("/_emulator/knobs/workspaces/{ws}"),
        Some(json!({"policy": "maybe"})),
    );
    assert_eq!(status, 400);
    assert!(
        body.to_string().contains("soft_fail"),
        "names the allowed values: {body}"
    );
    let (status, body) = emu.admin_raw(
        "POST",
        "/_emulator/faults",
        Some(json!({"kind": "status", "status": 200})),
    );
    assert_eq!(status, 422);
    assert!(body.to_string().contains("400-599"), "{body}");
    let id = emu.add_fault(json!({"kind": "delay", "ms": 1}));
    assert_eq!(
        emu.admin("GET", "/_emulator/faults", None)["faults"][0]["id"],
        id
    );
    emu.admin("DELETE", &format!("/_emulator/faults/{id}"), None);
    assert_eq!(
        emu.admin("GET", "/_emulator/faults", None)["faults"],
        json!([])
    );
    let effective = emu.admin("GET", &format!("/_emulator/knobs/workspaces/{ws}"), None);
    assert_eq!(effective["effective"]["plan_ms"], 300, "server default");
}

#[test]
fn admin_token_protects_the_admin_api() {
    let emu = TestEmulator::start_program(
        binary(),
        EmulatorOptions {
            http: true,
            extra_args: vec!["--admin-token".into(), "root".into()],
            ..Default::default()
        },
    );
    let (status, _) = emu.admin_raw("GET", "/_emulator/runs", None);
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_identity_and_include_strictness_are_configurable() {
    let emu = TestEmulator::start_program(
        binary(),
        EmulatorOptions {
            http: true,
            extra_args: vec![
                "--app-name".into(),
                "HCP Terraform".into(),
                "--rate-limit".into(),
                "0".into(),
            ],
            ..Default::default()
        },
    );
    let ws = emu.seed_workspace("acme", "app");
    let client = emu.client().await;
    assert_eq!(
        client.server_info().app_name.as_deref(),
        Some("HCP Terraform")
    );
    assert_eq!(
        client.server_info().rate_limit,
        None,
        "--rate-limit 0 leaves the header out"
    );
    assert!(
        client.rate_limit().0.is_infinite(),
        "no header, no client-side limit"
    );
    let run = client
        .create_run(tfe_client::CreateRun {
            workspace_id: ws,
            ..Default::default()
        })
        .await
        .unwrap();
    let strict = client
        .run_with_includes(&run.id, &["plan", "nonsense"])
        .await
        .unwrap_err();
    assert_eq!(strict.status(), Some(400));
    emu.admin(
        "PUT",
        "/_emulator/settings",
        Some(json!({"lenient_includes": true})),
    );
    let lenient = client
        .run_with_includes(&run.id, &["plan", "nonsense"])
        .await
        .unwrap();
    assert_eq!(lenient.included.len(), 1, "only the known include");
}
