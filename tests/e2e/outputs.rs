//! End to end: the `tfe_outputs` data source with both Terraform CLIs against tfe-emulator: outputs of every
//! type keep their types, `values` is sensitive and `nonsensitive_values` leaves the sensitive ones out, a
//! workspace without state has none, a missing workspace is an error naming it; and its cells of the fault
//! matrix (a 429, a 5xx, a reset, a garbled answer on each request of a read: the read succeeds or, for a
//! garbled answer, fails saying so, and never panics).

use std::path::Path;

use serde_json::{Value, json};

use test_support::emulator::TestEmulator;
use test_support::terraform::{
    APPLY, DevOverrides, TerraformCli, TerraformRun, all_clis, current_terraform, run_terraform,
    workdir_with,
};

const TUNING: &[(&str, &str)] = &[
    ("TFE_REQUEST_TIMEOUT", "2s"),
    ("TFE_RETRY_MAX_ELAPSED", "20s"),
    ("TFE_RETRY_MAX_PAUSE", "2s"),
];

const TOKEN_OUTPUT: &str = "db-password-0451";

/// Terraform in `dir` with the provider's debug log in `dir/provider.log`; fails on a panic.
fn terraform(
    emu: &TestEmulator,
    cli: &TerraformCli,
    o: &DevOverrides,
    dir: &Path,
    args: &[&str],
) -> TerraformRun {
    let log = dir.join("provider.log").display().to_string();
    let mut env = emu.provider_env();
    env.extend(TUNING.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env.push(("TF_LOG_PROVIDER".into(), "DEBUG".into()));
    env.push(("TF_LOG_PATH".into(), log.clone()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let out = run_terraform(cli, dir, o, args, &env);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !text.contains("panicked") && !out.combined().contains("panicked"),
        "{}: the provider panicked\n{}\n{text}",
        cli.label,
        out.combined()
    );
    out
}

/// `text` with Terraform's diagnostic frame (`│`) and line wrapping undone.
fn words(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A workspace `name` in `acme` whose applies write outputs of every JSON kind, one of them sensitive, and
/// one applied run, so it has a current state version.
fn applied_workspace(emu: &TestEmulator, name: &str) -> String {
    let ws = emu.seed_workspace_with(
        "acme",
        name,
        json!({"knobs": {"plan_ms": 50, "apply_ms": 50,
            "outputs": {"endpoint": "https://db.example", "replicas": 3, "zones": ["a", "b"],
                        "labels": {"tier": "web", "team": "data"}, "public": true,
                        "db_password": TOKEN_OUTPUT},
            "sensitive_outputs": ["db_password"]}}),
    );
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = emu.client().await;
        let run = client
            .create_run(tfe_client::CreateRun {
                workspace_id: ws.clone(),
                auto_apply: Some(true),
                ..Default::default()
            })
            .await
            .unwrap();
        test_support::api::wait_for(&client, &run.id, tfe_client::RunStatus::Applied).await;
    });
    ws
}

const READER: &str = r#"
data "tfe_outputs" "db" {
  organization = "acme"
  workspace    = "database"
}

output "endpoint" {
  value = data.tfe_outputs.db.nonsensitive_values.endpoint
}
output "replicas_plus_one" {
  value = data.tfe_outputs.db.nonsensitive_values.replicas + 1
}
output "first_zone" {
  value = data.tfe_outputs.db.nonsensitive_values.zones[0]
}
output "tier" {
  value = data.tfe_outputs.db.nonsensitive_values.labels.tier
}
output "public" {
  value = data.tfe_outputs.db.nonsensitive_values.public
}
output "password" {
  value     = data.tfe_outputs.db.values.db_password
  sensitive = true
}
output "password_is_hidden_from_nonsensitive_values" {
  value = !can(data.tfe_outputs.db.nonsensitive_values.db_password)
}
output "id" {
  value = data.tfe_outputs.db.id
}
"#;

#[test]
fn outputs_keep_their_types_and_their_sensitivity_with_both_clis() {
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let emu = TestEmulator::start();
        applied_workspace(&emu, "database");
        let dir = workdir_with(&[("main.tf", READER)]);
        let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
        assert!(out.success, "{}: {}", cli.label, out.combined());
        assert!(
            out.stdout.contains("password = <sensitive>"),
            "{}",
            out.stdout
        );
        let out = terraform(&emu, &cli, &overrides, dir.path(), &["output", "-json"]);
        let shown: Value = serde_json::from_str(&out.stdout).expect("output -json");
        let value = |name: &str| shown[name]["value"].clone();
        assert_eq!(value("endpoint"), "https://db.example", "{}", cli.label);
        assert_eq!(
            value("replicas_plus_one"),
            4,
            "{}: a number stays a number",
            cli.label
        );
        assert_eq!(value("first_zone"), "a", "{}", cli.label);
        assert_eq!(value("tier"), "web", "{}", cli.label);
        assert_eq!(value("public"), true, "{}", cli.label);
        assert_eq!(value("password"), TOKEN_OUTPUT, "{}", cli.label);
        assert_eq!(
            value("password_is_hidden_from_nonsensitive_values"),
            true,
            "{}",
            cli.label
        );
        assert_eq!(value("id"), "acme-database", "{}", cli.label);
        // The data source's state keeps the sensitive value (Terraform marks it sensitive), never the token.
        let state = std::fs::read_to_string(dir.path().join("terraform.tfstate")).unwrap();
        assert!(!state.contains(&emu.token), "{}", cli.label);
        let log = std::fs::read_to_string(dir.path().join("provider.log")).unwrap();
        assert!(
            log.contains("tfe_outputs") && !log.contains(&emu.token) && !log.contains(TOKEN_OUTPUT),
            "{}: the provider's log holds the token or a sensitive output (or is empty)",
            cli.label
        );

        // `values` is sensitive: an output that shows it unmarked is refused by Terraform itself.
        let leak = workdir_with(&[(
            "main.tf",
            "data \"tfe_outputs\" \"db\" {\n  organization = \"acme\"\n  workspace    = \"database\"\n}\noutput \"leak\" {\n  value = data.tfe_outputs.db.values.endpoint\n}\n",
        )]);
        let out = terraform(&emu, &cli, &overrides, leak.path(), APPLY);
        assert!(
            !out.success && words(&out.combined()).contains("Output refers to sensitive values"),
            "{}: {}",
            cli.label,
            out.combined()
        );

        // No state yet: no outputs, and a name that is not there is Terraform's error naming it.
        emu.seed_workspace("acme", "empty");
        let empty = workdir_with(&[(
            "main.tf",
            "data \"tfe_outputs\" \"e\" {\n  organization = \"acme\"\n  workspace    = \"empty\"\n}\noutput \"count\" {\n  value = length(keys(data.tfe_outputs.e.nonsensitive_values))\n}\noutput \"all\" {\n  value     = length(keys(data.tfe_outputs.e.values))\n  sensitive = true\n}\n",
        )]);
        let out = terraform(&emu, &cli, &overrides, empty.path(), APPLY);
        assert!(out.success, "{}: {}", cli.label, out.combined());
        assert!(out.stdout.contains("count = 0"), "{}", out.stdout);

        // A workspace that does not exist is an error naming it.
        let missing = workdir_with(&[(
            "main.tf",
            "data \"tfe_outputs\" \"m\" {\n  organization = \"acme\"\n  workspace    = \"nope\"\n}\n",
        )]);
        let out = terraform(&emu, &cli, &overrides, missing.path(), APPLY);
        let said = words(&out.combined());
        assert!(
            !out.success && said.contains("Could not find workspace acme/nope"),
            "{}: {}",
            cli.label,
            out.combined()
        );
    }
}

#[test]
fn a_state_the_server_is_still_processing_is_waited_for_within_a_bound() {
    let emu = TestEmulator::start();
    let ws = applied_workspace(&emu, "database");
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    // A new apply whose outputs are processed 2 s later: the read waits for them instead of reading none.
    emu.set_workspace_knobs(
        &ws,
        json!({"plan_ms": 50, "apply_ms": 50, "state_processing_ms": 2000,
               "outputs": {"endpoint": "https://db2.example", "replicas": 5, "zones": ["c"],
                           "labels": {"tier": "db"}, "public": false, "db_password": "x"},
               "sensitive_outputs": ["db_password"]}),
    );
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = emu.client().await;
        let run = client
            .create_run(tfe_client::CreateRun {
                workspace_id: ws.clone(),
                auto_apply: Some(true),
                ..Default::default()
            })
            .await
            .unwrap();
        test_support::api::wait_for(&client, &run.id, tfe_client::RunStatus::Applied).await;
    });
    let dir = workdir_with(&[("main.tf", READER)]);
    let started = std::time::Instant::now();
    let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
    assert!(out.success, "{}", out.combined());
    assert!(
        out.stdout.contains("endpoint = \"https://db2.example\""),
        "the new state's outputs, not the old ones nor none\n{}",
        out.stdout
    );
    assert!(started.elapsed().as_millis() >= 1000, "it waited");

    // A state whose outputs are not processed for a minute: the read gives up after the retry budget
    // (Terraform does not stop providers while it plans, so Ctrl-C cannot end the wait), saying why.
    emu.set_workspace_knobs(
        &ws,
        json!({"plan_ms": 50, "apply_ms": 50, "state_processing_ms": 60000,
               "outputs": {"endpoint": "https://db3.example"}}),
    );
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let client = emu.client().await;
        let run = client
            .create_run(tfe_client::CreateRun {
                workspace_id: ws.clone(),
                auto_apply: Some(true),
                ..Default::default()
            })
            .await
            .unwrap();
        test_support::api::wait_for(&client, &run.id, tfe_client::RunStatus::Applied).await;
    });
    let mut env = emu.provider_env();
    env.push(("TFE_RETRY_MAX_ELAPSED".into(), "3s".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let started = std::time::Instant::now();
    let out = run_terraform(&cli, dir.path(), &overrides, APPLY, &env);
    let said = words(&out.combined());
    assert!(
        !out.success
            && said.contains("Outputs of workspace acme/database not ready")
            && said.contains("still being processed")
            && said.contains("read them again once the server has processed the state"),
        "{}",
        out.combined()
    );
    let took = started.elapsed();
    assert!(
        took >= std::time::Duration::from_secs(2) && took < std::time::Duration::from_secs(15),
        "gave up after {took:?}"
    );
}

// ------------------------------------------------------------------ the fault matrix

/// One cell: the fault `rules` during a read of another workspace's outputs; the read succeeds with every
/// output, the sensitive one included.
fn cell(name: &str, rules: Value) {
    let emu = TestEmulator::start();
    applied_workspace(&emu, "database");
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let dir = workdir_with(&[("main.tf", READER)]);
    for rule in rules.as_array().expect("a list of rules") {
        emu.add_fault(rule.clone());
    }
    let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
    assert!(out.success, "{name}: the apply failed\n{}", out.combined());
    let fired: u64 = emu.admin("GET", "/_emulator/faults", None)["faults"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["fired"].as_u64())
        .sum();
    assert!(
        fired > 0,
        "{name}: no fault fired, so the cell proves nothing"
    );
    emu.clear_faults();
    let out = terraform(&emu, &cli, &overrides, dir.path(), &["output", "-json"]);
    let shown: Value = serde_json::from_str(&out.stdout).expect("output -json");
    assert_eq!(shown["replicas_plus_one"]["value"], 4, "{name}");
    assert_eq!(shown["password"]["value"], TOKEN_OUTPUT, "{name}");
}

// The outputs come with the current state version (`include=outputs`), so the current-state-version cells
// cover their list too; the list route (`/state-versions/:id/outputs`) is read only from a server that
// leaves them out.
macro_rules! matrix {
    ($($test:ident: $rules:tt;)+) => {
        $(
            #[test]
            fn $test() {
                cell(stringify!($test), json!($rules));
            }
        )+
    };
}

matrix! {
    workspace_lookup_429_burst: [{"method": "GET", "path": "/api/v2/organizations/acme/workspaces/database", "kind": "rate_limit", "reset_seconds": 0.1, "times": 5}];
    workspace_lookup_503: [{"method": "GET", "path": "/api/v2/organizations/acme/workspaces/database", "kind": "status", "status": 503, "times": 3}];
    workspace_lookup_reset: [{"method": "GET", "path": "/api/v2/organizations/acme/workspaces/database", "kind": "reset", "times": 2}];
    current_state_version_429_burst: [{"method": "GET", "path": "/api/v2/workspaces/*/current-state-version", "kind": "rate_limit", "reset_seconds": 0.1, "times": 5}];
    current_state_version_502: [{"method": "GET", "path": "/api/v2/workspaces/*/current-state-version", "kind": "status", "status": 502, "times": 3}];
    current_state_version_reset: [{"method": "GET", "path": "/api/v2/workspaces/*/current-state-version", "kind": "reset", "times": 2}];
    current_state_version_slow: [{"method": "GET", "path": "/api/v2/workspaces/*/current-state-version", "kind": "delay", "ms": 3000, "times": 1}];
    sensitive_output_429_burst: [{"method": "GET", "path": "/api/v2/state-version-outputs/*", "kind": "rate_limit", "reset_seconds": 0.1, "times": 5}];
    sensitive_output_503: [{"method": "GET", "path": "/api/v2/state-version-outputs/*", "kind": "status", "status": 503, "times": 3}];
    sensitive_output_reset: [{"method": "GET", "path": "/api/v2/state-version-outputs/*", "kind": "reset", "times": 2}];
}

#[test]
fn a_garbled_or_huge_answer_fails_the_read_saying_so() {
    let emu = TestEmulator::start();
    applied_workspace(&emu, "database");
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let dir = workdir_with(&[("main.tf", READER)]);
    for (path, kind) in [
        ("/api/v2/workspaces/*/current-state-version", "not_json"),
        ("/api/v2/workspaces/*/current-state-version", "wrong_shape"),
        ("/api/v2/state-version-outputs/*", "not_json"),
        ("/api/v2/state-version-outputs/*", "huge"),
    ] {
        let rule = if kind == "huge" {
            json!({"method": "GET", "path": path, "kind": "huge_body", "bytes": 40000000u64, "times": 1})
        } else {
            json!({"method": "GET", "path": path, "kind": "malformed_body", "body": kind, "times": 1})
        };
        emu.add_fault(rule);
        let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
        let said = words(&out.combined());
        assert!(
            !out.success
                && said.contains("Could not read the outputs of workspace acme/database")
                && (said.contains("could not decode") || said.contains("refusing to read it")),
            "{path} {kind}: {}",
            out.combined()
        );
        assert!(!said.contains(TOKEN_OUTPUT) && !said.contains(&emu.token));
        emu.clear_faults();
    }
    let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
    assert!(out.success, "{}", out.combined());
}
