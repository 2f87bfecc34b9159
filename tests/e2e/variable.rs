//! End to end: `tfe_variable` with both Terraform CLIs against tfe-emulator: create, refresh, drift,
//! in-place and replacing changes, import, the refusals a user meets at plan time and from the API, and
//! its cells of the fault matrix (a lost answer, a 429, a reset, a garbled answer on each of its requests:
//! the apply and the destroy still succeed, with exactly one variable, and the provider never panics).

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use test_support::emulator::TestEmulator;
use test_support::terraform::{
    APPLY, DESTROY, DevOverrides, TerraformCli, TerraformRun, all_clis, current_terraform,
    run_terraform, workdir_with,
};
use tfe_client::VariableOptions;
use tfe_client::models::{Variable, VariableCategory};

const PLAN: &[&str] = &[
    "plan",
    "-input=false",
    "-no-color",
    "-lock=false",
    "-detailed-exitcode",
];

/// Budgets short enough for fault tests: one exchange, the retries of one request.
const TUNING: &[(&str, &str)] = &[
    ("TFE_REQUEST_TIMEOUT", "2s"),
    ("TFE_RETRY_MAX_ELAPSED", "20s"),
    ("TFE_RETRY_MAX_PAUSE", "2s"),
];

const SECRET: &str = "s3cr3t-value-0451";

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

fn ok(cli: &TerraformCli, what: &str, out: &TerraformRun) {
    assert!(
        out.success,
        "{}: {what} failed\n{}",
        cli.label,
        out.combined()
    );
}

/// The attributes of `tfe_variable.<name>` in the state.
fn state_of(dir: &Path, name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join("terraform.tfstate")).ok()?;
    let state: Value = serde_json::from_str(&text).ok()?;
    state["resources"]
        .as_array()?
        .iter()
        .find(|r| r["type"] == "tfe_variable" && r["name"] == name)
        .map(|r| r["instances"][0]["attributes"].clone())
}

/// `text` with Terraform's diagnostic frame (`│`) and line wrapping undone: words separated by single spaces.
fn words(text: &str) -> String {
    text.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(future)
}

fn variables(emu: &TestEmulator, workspace_id: &str) -> Vec<Variable> {
    block_on(async { emu.client().await.variables(workspace_id).await.unwrap() })
}

fn workspace_for(emu: &TestEmulator, cli: &TerraformCli, name: &str) -> (String, String) {
    let slug: String = cli
        .label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = format!("{name}-{slug}");
    (emu.seed_workspace("acme", &name), name)
}

fn three_variables(ws: &str, region_key: &str, secret_key: &str, description: &str) -> String {
    format!(
        r#"
resource "tfe_variable" "region" {{
  key          = "{region_key}"
  value        = "eu-west-1"
  category     = "terraform"
  workspace_id = "{ws}"
}}

resource "tfe_variable" "zones" {{
  key          = "zones"
  value        = "[\"a\", \"b\"]"
  category     = "terraform"
  hcl          = true
  description  = "the zones"
  workspace_id = "{ws}"
}}

resource "tfe_variable" "secret" {{
  key          = "{secret_key}"
  value        = "{SECRET}"
  category     = "env"
  sensitive    = true
  description  = "{description}"
  workspace_id = "{ws}"
}}

output "region" {{
  value = tfe_variable.region.readable_value
}}
"#
    )
}

#[test]
fn variables_are_created_refreshed_changed_imported_and_destroyed_with_both_clis() {
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let emu = TestEmulator::start();
        let (ws, ws_name) = workspace_for(&emu, &cli, "vars");
        let config = three_variables(&ws, "region", "API_KEY", "");
        let dir = workdir_with(&[("main.tf", &config)]);
        ok(
            &cli,
            "apply",
            &terraform(&emu, &cli, &overrides, dir.path(), APPLY),
        );

        // The server has them, the sensitive one without its value; the state keeps the configured value.
        let mut listed: Vec<(String, Option<String>, VariableCategory, bool, bool)> =
            variables(&emu, &ws)
                .into_iter()
                .map(|v| {
                    let a = v.attributes;
                    (a.key, a.value, a.category, a.hcl, a.sensitive)
                })
                .collect();
        listed.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            listed,
            [
                ("API_KEY".into(), None, VariableCategory::Env, false, true),
                (
                    "region".into(),
                    Some("eu-west-1".into()),
                    VariableCategory::Terraform,
                    false,
                    false
                ),
                (
                    "zones".into(),
                    Some("[\"a\", \"b\"]".into()),
                    VariableCategory::Terraform,
                    true,
                    false
                ),
            ],
            "{}",
            cli.label
        );
        let secret = state_of(dir.path(), "secret").unwrap();
        assert_eq!(secret["value"], SECRET, "{}", cli.label);
        assert_eq!(secret["readable_value"], Value::Null, "{}", cli.label);
        let region = state_of(dir.path(), "region").unwrap();
        assert_eq!(region["readable_value"], "eu-west-1");
        assert_eq!(region["description"], "");
        let out = terraform(&emu, &cli, &overrides, dir.path(), PLAN);
        ok(&cli, "plan after apply (exit 2 means changes)", &out);

        // Someone changes both in the UI: the plain one's drift shows and is set back; the sensitive one's
        // cannot be seen, so nothing is planned for it.
        let region_id = region["id"].as_str().unwrap().to_string();
        let secret_id = secret["id"].as_str().unwrap().to_string();
        block_on(async {
            let client = emu.client().await;
            for id in [&region_id, &secret_id] {
                let change = VariableOptions {
                    value: Some("changed-in-the-ui".into()),
                    ..Default::default()
                };
                client.update_variable(&ws, id, &change).await.unwrap();
            }
        });
        let out = terraform(&emu, &cli, &overrides, dir.path(), PLAN);
        assert!(
            !out.success && out.stdout.contains("1 to change"),
            "{}: the plain variable's drift should show, alone\n{}",
            cli.label,
            out.combined()
        );
        ok(
            &cli,
            "apply repairing the drift",
            &terraform(&emu, &cli, &overrides, dir.path(), APPLY),
        );
        let region_now = variables(&emu, &ws)
            .into_iter()
            .find(|v| v.id == region_id)
            .unwrap();
        assert_eq!(region_now.attributes.value.as_deref(), Some("eu-west-1"));

        // Renaming the plain variable is in place; renaming the sensitive one replaces it.
        let renamed = three_variables(&ws, "aws_region", "API_TOKEN", "now described");
        std::fs::write(dir.path().join("main.tf"), &renamed).unwrap();
        let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
        ok(&cli, "apply of the renames", &out);
        assert!(
            out.stdout.contains("1 added, 1 changed, 1 destroyed"),
            "{}",
            out.combined()
        );
        assert_eq!(
            state_of(dir.path(), "region").unwrap()["id"],
            region_id.as_str(),
            "{}: renamed in place",
            cli.label
        );
        let new_secret = state_of(dir.path(), "secret").unwrap();
        assert_ne!(
            new_secret["id"],
            secret_id.as_str(),
            "{}: replaced",
            cli.label
        );
        assert_eq!(new_secret["value"], SECRET);

        // Import by <org>/<workspace>/<variable id>, then nothing to change.
        let import_dir = workdir_with(&[(
            "main.tf",
            &format!(
                "resource \"tfe_variable\" \"zones\" {{\n  key          = \"zones\"\n  value        = \"[\\\"a\\\", \\\"b\\\"]\"\n  category     = \"terraform\"\n  hcl          = true\n  description  = \"the zones\"\n  workspace_id = \"{ws}\"\n}}\n"
            ),
        )]);
        let zones_id = state_of(dir.path(), "zones").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let import_id = format!("acme/{ws_name}/{zones_id}");
        let out = terraform(
            &emu,
            &cli,
            &overrides,
            import_dir.path(),
            &[
                "import",
                "-no-color",
                "-input=false",
                "tfe_variable.zones",
                &import_id,
            ],
        );
        ok(&cli, "import", &out);
        let out = terraform(&emu, &cli, &overrides, import_dir.path(), PLAN);
        ok(&cli, "plan after import (exit 2 means changes)", &out);
        let bad_dir = workdir_with(&[(
            "main.tf",
            &format!(
                "resource \"tfe_variable\" \"x\" {{\n  key          = \"x\"\n  category     = \"env\"\n  workspace_id = \"{ws}\"\n}}\n"
            ),
        )]);
        for (bad, says) in [
            (
                format!("acme/{ws_name}"),
                "<organization>/<workspace name>/<variable id>",
            ),
            (
                "acme/no-such-workspace/var-1234567890123456".to_string(),
                "acme/no-such-workspace",
            ),
            (
                format!("acme/{ws_name}/var-1234567890123456"),
                "var-1234567890123456",
            ),
        ] {
            let out = terraform(
                &emu,
                &cli,
                &overrides,
                bad_dir.path(),
                &[
                    "import",
                    "-no-color",
                    "-input=false",
                    "tfe_variable.x",
                    &bad,
                ],
            );
            assert!(
                !out.success && words(&out.combined()).contains(says),
                "{}: import {bad} should fail naming {says}\n{}",
                cli.label,
                out.combined()
            );
        }

        // A variable deleted behind Terraform's back is created again.
        block_on(async {
            emu.client()
                .await
                .delete_variable(&ws, &region_id)
                .await
                .unwrap()
        });
        let out = terraform(&emu, &cli, &overrides, dir.path(), PLAN);
        assert!(
            out.stdout.contains("1 to add, 0 to change, 0 to destroy"),
            "{}",
            out.combined()
        );

        let out = terraform(&emu, &cli, &overrides, dir.path(), DESTROY);
        ok(&cli, "destroy", &out);
        // The imported variable was the same remote object, so nothing is left.
        assert!(variables(&emu, &ws).is_empty(), "{}", cli.label);
        for file in ["terraform.tfstate", "provider.log"] {
            let text = std::fs::read_to_string(dir.path().join(file)).unwrap_or_default();
            assert!(!text.contains(&emu.token), "{}: token in {file}", cli.label);
        }
        let log = std::fs::read_to_string(dir.path().join("provider.log")).unwrap();
        assert!(
            log.contains("tfe_variable") && !log.contains(SECRET),
            "{}: the provider's log holds the sensitive value (or is empty)",
            cli.label
        );
    }
}

#[test]
fn bad_arguments_are_refused_at_plan_time_and_a_taken_key_with_the_apis_words() {
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let emu = TestEmulator::start();
        let (ws, _) = workspace_for(&emu, &cli, "refusals");
        for (body, says) in [
            (
                format!(
                    "key = \"a\"\n  category = \"secret\"\n  workspace_id = \"{ws}\""
                ),
                "category \"secret\" is not allowed; use \"terraform\" or \"env\"",
            ),
            (
                "key = \"a\"\n  category = \"env\"\n  workspace_id = \"acme/app\"".to_string(),
                "workspace_id \"acme/app\" is not a workspace ID",
            ),
            (
                "key = \"a\"\n  category = \"env\"\n  variable_set_id = \"varset-1234567890123456\""
                    .to_string(),
                "Variable sets are not served by this provider",
            ),
            (
                "key = \"a\"\n  category = \"env\"".to_string(),
                "A tfe_variable needs `workspace_id`",
            ),
            (
                format!("key = \" \"\n  category = \"env\"\n  workspace_id = \"{ws}\""),
                "key must not be empty",
            ),
        ] {
            let dir = workdir_with(&[(
                "main.tf",
                &format!("resource \"tfe_variable\" \"v\" {{\n  {body}\n}}\n"),
            )]);
            let out = terraform(
                &emu,
                &cli,
                &overrides,
                dir.path(),
                &["plan", "-no-color", "-input=false"],
            );
            let said = words(&out.combined());
            assert!(
                !out.success && said.contains(&words(says)),
                "{}: {body:?} should be refused saying {says:?}\n{}",
                cli.label,
                out.combined()
            );
        }
        assert_eq!(
            emu.request_count("POST /api/v2/workspaces/{id}/vars"),
            0,
            "{}: refused before anything was sent",
            cli.label
        );

        // The same key twice in one category: the second create is the API's 422, in its words.
        let twice = format!(
            "resource \"tfe_variable\" \"a\" {{\n  key = \"region\"\n  category = \"terraform\"\n  workspace_id = \"{ws}\"\n}}\nresource \"tfe_variable\" \"b\" {{\n  key = \"region\"\n  category = \"terraform\"\n  workspace_id = \"{ws}\"\n  depends_on = [tfe_variable.a]\n}}\n"
        );
        let dir = workdir_with(&[("main.tf", &twice)]);
        let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
        let said = words(&out.combined());
        assert!(
            !out.success
                && said.contains("Could not create terraform variable region")
                && said.contains("Key has already been taken"),
            "{}: {}",
            cli.label,
            out.combined()
        );
        assert_eq!(variables(&emu, &ws).len(), 1, "{}", cli.label);
        ok(
            &cli,
            "destroy",
            &terraform(&emu, &cli, &overrides, dir.path(), DESTROY),
        );
    }
}

// ------------------------------------------------------------------ the fault matrix

/// One cell: the fault `rules` during an apply of one variable, a change of its value (an update), and a
/// destroy; all succeed, the workspace holds exactly one variable with the key meanwhile, and none after.
fn cell(name: &str, rules: Value) {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let (ws, _) = workspace_for(&emu, &cli, name);
    let config = |value: &str| {
        format!(
            "resource \"tfe_variable\" \"v\" {{\n  key          = \"region\"\n  value        = \"{value}\"\n  category     = \"terraform\"\n  workspace_id = \"{ws}\"\n}}\n"
        )
    };
    let dir = workdir_with(&[("main.tf", &config("eu-west-1"))]);
    for rule in rules.as_array().expect("a list of rules") {
        emu.add_fault(rule.clone());
    }
    let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
    assert!(out.success, "{name}: the apply failed\n{}", out.combined());
    // A create the server commits after the provider gave up on it (late_commit) runs meanwhile: wait for it,
    // so that what is checked below includes its effect.
    let late_ms = rules
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["kind"] == "late_commit")
        .filter_map(|r| r["ms"].as_u64())
        .max();
    if let Some(ms) = late_ms {
        std::thread::sleep(Duration::from_millis(ms + 500));
    }
    let check_one = |value: &str| {
        let listed = variables(&emu, &ws);
        assert_eq!(listed.len(), 1, "{name}: {listed:?}");
        assert_eq!(listed[0].attributes.value.as_deref(), Some(value), "{name}");
        assert_eq!(
            state_of(dir.path(), "v").unwrap()["id"],
            listed[0].id.as_str(),
            "{name}: the state holds the variable the server has"
        );
    };
    check_one("eu-west-1");
    std::fs::write(dir.path().join("main.tf"), config("us-east-1")).unwrap();
    let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
    assert!(out.success, "{name}: the update failed\n{}", out.combined());
    check_one("us-east-1");
    let out = terraform(&emu, &cli, &overrides, dir.path(), DESTROY);
    assert!(
        out.success,
        "{name}: the destroy failed\n{}",
        out.combined()
    );
    emu.clear_faults();
    assert!(variables(&emu, &ws).is_empty(), "{name}: left behind");
}

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
    create_502_after_its_commit: [{"method": "POST", "path": "/api/v2/workspaces/*/vars", "kind": "status", "status": 502, "when": "after", "times": 1}];
    create_reset_after_its_commit: [{"method": "POST", "path": "/api/v2/workspaces/*/vars", "kind": "reset", "when": "after", "times": 1}];
    create_reset_before: [{"method": "POST", "path": "/api/v2/workspaces/*/vars", "kind": "reset", "times": 1}];
    create_429_burst: [{"method": "POST", "path": "/api/v2/workspaces/*/vars", "kind": "rate_limit", "reset_seconds": 0.1, "times": 5}];
    create_garbled_answer: [{"method": "POST", "path": "/api/v2/workspaces/*/vars", "kind": "malformed_body", "body": "wrong_shape", "times": 1}];
    create_committed_after_the_client_gave_up: [{"method": "POST", "path": "/api/v2/workspaces/*/vars", "kind": "late_commit", "ms": 3000, "times": 1}];
    list_503_after_a_lost_create: [
        {"method": "POST", "path": "/api/v2/workspaces/*/vars", "kind": "status", "status": 504, "when": "after", "times": 1},
        {"method": "GET", "path": "/api/v2/workspaces/*/vars", "kind": "status", "status": 503, "times": 3}];
    list_429_after_a_lost_create: [
        {"method": "POST", "path": "/api/v2/workspaces/*/vars", "kind": "reset", "when": "after", "times": 1},
        {"method": "GET", "path": "/api/v2/workspaces/*/vars", "kind": "rate_limit", "reset_seconds": 0.1, "times": 4}];
    read_429_burst: [{"method": "GET", "path": "/api/v2/workspaces/*/vars/*", "kind": "rate_limit", "reset_seconds": 0.1, "times": 6}];
    read_503: [{"method": "GET", "path": "/api/v2/workspaces/*/vars/*", "kind": "status", "status": 503, "times": 3}];
    read_reset: [{"method": "GET", "path": "/api/v2/workspaces/*/vars/*", "kind": "reset", "times": 3}];
    update_502_after_its_commit: [{"method": "PATCH", "path": "/api/v2/workspaces/*/vars/*", "kind": "status", "status": 502, "when": "after", "times": 1}];
    update_reset: [{"method": "PATCH", "path": "/api/v2/workspaces/*/vars/*", "kind": "reset", "times": 2}];
    update_429_burst: [{"method": "PATCH", "path": "/api/v2/workspaces/*/vars/*", "kind": "rate_limit", "reset_seconds": 0.1, "times": 5}];
    delete_502_after_its_commit: [{"method": "DELETE", "path": "/api/v2/workspaces/*/vars/*", "kind": "status", "status": 502, "when": "after", "times": 1}];
    delete_reset: [{"method": "DELETE", "path": "/api/v2/workspaces/*/vars/*", "kind": "reset", "times": 2}];
    delete_429_burst: [{"method": "DELETE", "path": "/api/v2/workspaces/*/vars/*", "kind": "rate_limit", "reset_seconds": 0.1, "times": 5}];
}

#[test]
fn a_garbled_or_huge_answer_fails_the_refresh_clearly_keeps_the_state_and_the_next_plan_works() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let (ws, _) = workspace_for(&emu, &cli, "garbled");
    let config = format!(
        "resource \"tfe_variable\" \"v\" {{\n  key          = \"region\"\n  value        = \"eu-west-1\"\n  category     = \"terraform\"\n  workspace_id = \"{ws}\"\n}}\n"
    );
    let dir = workdir_with(&[("main.tf", &config)]);
    ok(
        &cli,
        "apply",
        &terraform(&emu, &cli, &overrides, dir.path(), APPLY),
    );
    let before = state_of(dir.path(), "v").unwrap();
    for (rule, says) in [
        (
            json!({"method": "GET", "path": "/api/v2/workspaces/*/vars/*", "kind": "malformed_body", "body": "not_json", "times": 1}),
            "could not decode the response",
        ),
        (
            json!({"method": "GET", "path": "/api/v2/workspaces/*/vars/*", "kind": "malformed_body", "body": "wrong_shape", "times": 1}),
            "could not decode the response",
        ),
        (
            json!({"method": "GET", "path": "/api/v2/workspaces/*/vars/*", "kind": "huge_body", "bytes": 40000000u64, "times": 1}),
            "refusing to read it",
        ),
    ] {
        emu.add_fault(rule.clone());
        let out = terraform(&emu, &cli, &overrides, dir.path(), PLAN);
        let said = words(&out.combined());
        assert!(
            !out.success && said.contains("Could not read variable") && said.contains(says),
            "{rule}: {}",
            out.combined()
        );
        assert!(
            !said.contains(&emu.token),
            "{rule}: the token is in the error"
        );
        assert_eq!(
            state_of(dir.path(), "v").unwrap(),
            before,
            "{rule}: state kept"
        );
        emu.clear_faults();
        let out = terraform(&emu, &cli, &overrides, dir.path(), PLAN);
        ok(&cli, "plan once the server answers well again", &out);
    }
    ok(
        &cli,
        "destroy",
        &terraform(&emu, &cli, &overrides, dir.path(), DESTROY),
    );
}
