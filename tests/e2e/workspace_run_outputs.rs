//! End to end, both Terraform CLIs against tfe-emulator: what a `tfe_workspace_run` hands back. After its
//! apply run, the run's status, URL, `has_changes` and plan counts, and the workspace's state outputs
//! (`outputs`, sensitive; `nonsensitive_outputs`) with their types, read only once the server has processed
//! them (the emulator's `state_processing_ms`), so that a dependent resource in the same apply (here a child
//! workspace's run, through run variables) uses the parent's outputs. A wait that the timeouts block cuts
//! short keeps the run and warns; the next refresh fills in what was not read, as it does for a run queued
//! without waiting and for state from the official provider.

use std::time::Duration;

use serde_json::{Value, json};

use test_support::check;
use test_support::emulator::TestEmulator;
use test_support::session::*;
use test_support::terraform::{DevOverrides, TerraformCli, TerraformRun, all_clis};
use tfe_client::TfeClient;

const REFRESH: &[&str] = &[
    "apply",
    "-refresh-only",
    "-auto-approve",
    "-input=false",
    "-no-color",
    "-lock=false",
];
const SECRET: &str = "hunter2-s3cret";
const STATE_READ_ROUTE: &str = "GET /api/v2/workspaces/{id}/current-state-version";

/// Terraform 1.11 and later keep write-only arguments out of state; 1.0.3 does not know them.
fn knows_write_only(cli: &TerraformCli) -> bool {
    cli.label != "terraform 1.0.3"
}

/// Terraform's output with its line wrapping undone.
fn flat(out: &TerraformRun) -> String {
    out.combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The parent workspace's outputs, of several types, one sensitive.
fn parent_outputs() -> Value {
    json!({
        "vpc_id": "vpc-123",
        "zones": ["a", "b"],
        "port": 5432,
        "db": {"host": "db.internal", "port": 5432},
        "db_password": SECRET,
    })
}

fn parent_and_child(parent: &str, child: &str) -> String {
    format!(
        r#"resource "tfe_workspace_run" "parent" {{
  workspace_id = "{parent}"
  apply {{
    manual_confirm = false
  }}
}}

resource "tfe_workspace_run" "child" {{
  workspace_id = "{child}"
  apply {{
    manual_confirm = false
    retry          = false
    variables = {{
      vpc_id      = jsonencode(tfe_workspace_run.parent.nonsensitive_outputs.vpc_id)
      zone_count  = tostring(length(tfe_workspace_run.parent.nonsensitive_outputs.zones))
      db_password = jsonencode(tfe_workspace_run.parent.outputs.db_password)
    }}
  }}
}}

output "vpc_id" {{
  value = tfe_workspace_run.parent.nonsensitive_outputs.vpc_id
}}
output "zones" {{
  value = tfe_workspace_run.parent.nonsensitive_outputs.zones
}}
output "next_port" {{
  value = tfe_workspace_run.parent.nonsensitive_outputs.port + 1
}}
output "db_host" {{
  value = tfe_workspace_run.parent.nonsensitive_outputs.db.host
}}
output "password" {{
  value     = tfe_workspace_run.parent.outputs.db_password
  sensitive = true
}}
output "parent_run" {{
  value = {{
    status      = tfe_workspace_run.parent.status
    has_changes = tfe_workspace_run.parent.has_changes
    additions   = tfe_workspace_run.parent.resource_additions
    changes     = tfe_workspace_run.parent.resource_changes
    url         = tfe_workspace_run.parent.url
  }}
}}
"#
    )
}

/// The instance of `tfe_workspace_run.<name>` in the state.
fn instance(s: &Session<'_>, name: &str) -> Value {
    let text = std::fs::read_to_string(s.dir.path().join("terraform.tfstate")).expect("a state");
    let state: Value = serde_json::from_str(&text).expect("state JSON");
    state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["type"] == "tfe_workspace_run" && r["name"] == name)
        .unwrap_or_else(|| panic!("no tfe_workspace_run.{name} in {text}"))["instances"][0]
        .clone()
}

#[test]
fn a_dependent_uses_the_parents_outputs_in_the_same_apply_after_their_processing() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let parent = workspace(
            &emu,
            &cli,
            "parent",
            json!({"outputs": parent_outputs(), "sensitive_outputs": ["db_password"],
                   "state_processing_ms": 2500, "resource_additions": 2, "resource_changes": 1}),
        );
        // The child's plan errors unless each of these has a value: the run variables are how they arrive.
        let child = workspace(
            &emu,
            &cli,
            "child",
            json!({"required_variables": ["vpc_id", "zone_count", "db_password"]}),
        );
        let s = Session::new(&emu, &cli, &overrides, &parent_and_child(&parent, &child));
        emu.reset_requests();
        let out = s.terraform_with(APPLY, &[("TF_LOG_PROVIDER", "DEBUG")]);
        check!(out.success, s, out, "apply failed");
        check!(
            !out.combined().contains(SECRET),
            s,
            out,
            "a sensitive value was printed"
        );
        // The parent's state was processed 2.5 s after its apply: the provider looked until it was.
        assert!(
            provider_requests(&emu, STATE_READ_ROUTE) >= 2,
            "{}: the outputs were read once, before their processing ended",
            cli.label
        );

        let parent_run = &emu.workspace_runs(&parent)[0];
        let child_run = &emu.workspace_runs(&child)[0];
        assert_eq!(parent_run.status, "applied", "{}", cli.label);
        assert_eq!(
            child_run.status, "applied",
            "{}: the child's plan lacked a variable",
            cli.label
        );
        let mut keys = child_run.variable_keys.clone();
        keys.sort();
        assert_eq!(keys, ["db_password", "vpc_id", "zone_count"]);
        // On the wire, as HCL literals.
        let id = child_run.id.clone();
        let run = human(&emu, move |c: TfeClient| async move {
            c.run(&id).await.expect("read the child's run")
        });
        let sent: Vec<(String, String)> = run
            .attributes
            .variables
            .iter()
            .map(|v| (v.key.clone(), v.value.clone()))
            .collect();
        assert!(
            sent.contains(&("vpc_id".into(), "\"vpc-123\"".into())),
            "{sent:?}"
        );
        assert!(
            sent.contains(&("zone_count".into(), "2".into())),
            "{sent:?}"
        );
        assert!(
            sent.contains(&("db_password".into(), format!("\"{SECRET}\""))),
            "{}",
            cli.label
        );

        // The outputs kept their types: a number adds, a list and an object stay so.
        let out = s.terraform(&["output", "-json"]);
        check!(out.success, s, out, "terraform output failed");
        let outputs: Value = serde_json::from_str(&out.stdout).expect("output JSON");
        assert_eq!(outputs["vpc_id"]["value"], "vpc-123");
        assert_eq!(outputs["zones"]["value"], json!(["a", "b"]));
        assert_eq!(outputs["next_port"]["value"], 5433);
        assert_eq!(outputs["db_host"]["value"], "db.internal");
        assert_eq!(outputs["password"]["sensitive"], true);
        assert_eq!(outputs["password"]["value"], SECRET);
        let summary = &outputs["parent_run"]["value"];
        assert_eq!(summary["status"], "applied");
        assert_eq!(summary["has_changes"], true);
        assert_eq!(summary["additions"], 2);
        assert_eq!(summary["changes"], 1);
        assert!(
            summary["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/runs/{}", parent_run.id)),
            "{summary}"
        );

        // In state: `outputs` is sensitive as a whole; `nonsensitive_outputs` leaves the secret out.
        let parent_state = instance(&s, "parent");
        let nonsensitive = &parent_state["attributes"]["nonsensitive_outputs"]["value"];
        assert!(nonsensitive.get("db_password").is_none(), "{nonsensitive}");
        assert_eq!(nonsensitive["vpc_id"], "vpc-123");
        let out = s.terraform(&["state", "show", "-no-color", "tfe_workspace_run.parent"]);
        check!(
            out.success
                && !out.stdout.contains(SECRET)
                && out.stdout.contains("outputs")
                && out.stdout.contains("(sensitive value)"),
            s,
            out,
            "`outputs` is not shown as sensitive"
        );
        // The child's variables: write-only where Terraform knows them, so not in state; in 1.0.3 an
        // ordinary sensitive argument.
        let child_state = instance(&s, "child");
        let variables = &child_state["attributes"]["apply"][0]["variables"];
        if knows_write_only(&cli) {
            assert!(variables.is_null(), "{}: {variables}", cli.label);
        } else {
            assert_eq!(variables["vpc_id"], "\"vpc-123\"", "{}", cli.label);
        }

        let out = s.terraform(DESTROY);
        check!(out.success, s, out, "destroy failed");
    }
}

#[test]
fn a_wait_cut_short_keeps_the_run_and_the_next_refresh_fills_in_the_outputs() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(
            &emu,
            &cli,
            "slow-outputs",
            json!({"outputs": {"endpoint": "https://app"}, "state_processing_ms": 9000}),
        );
        let body = format!(
            "{}  timeouts {{\n    create = \"5s\"\n  }}\n",
            apply_block("")
        );
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &body));
        let out = s.terraform(APPLY);
        check!(
            out.success,
            s,
            out,
            "the apply must succeed: its run applied"
        );
        check!(
            flat(&out).contains("Outputs not read") && flat(&out).contains("next refresh"),
            s,
            out,
            "no warning that the outputs were not read"
        );
        let runs = emu.workspace_runs(&ws);
        assert_eq!(statuses(&runs), ["applied"], "{}", cli.label);
        let (attrs, tainted) = s.instance().expect("an instance");
        assert!(!tainted, "{}: a run that applied is not tainted", cli.label);
        assert_eq!(attrs["id"], runs[0].id.as_str());
        assert_eq!(attrs["status"], "applied");
        assert!(attrs["outputs"].is_null(), "{attrs}");

        // Once processed, a refresh reads them; nothing is queued.
        let processed = ws.clone();
        human(&emu, move |c: TfeClient| async move {
            for _ in 0..100 {
                let current = c.current_outputs(&processed).await.expect("outputs");
                if current.is_some_and(|o| o.processed()) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("the emulator never processed the outputs");
        });
        let out = s.terraform(REFRESH);
        check!(out.success, s, out, "refresh failed");
        let (attrs, _) = s.instance().expect("an instance");
        assert_eq!(
            attrs["nonsensitive_outputs"]["value"],
            json!({"endpoint": "https://app"}),
            "{}",
            cli.label
        );
        assert_eq!(emu.workspace_runs(&ws).len(), 1, "{}", cli.label);
    }
}

#[test]
fn a_run_queued_without_waiting_is_filled_in_by_refresh() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(
            &emu,
            &cli,
            "fire-and-forget",
            json!({"outputs": {"ready": true}}),
        );
        let s = Session::new(
            &emu,
            &cli,
            &overrides,
            &config(&ws, &apply_block("    wait_for_run = false")),
        );
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        let (attrs, _) = s.instance().expect("an instance");
        let run = emu.workspace_runs(&ws)[0].clone();
        assert_eq!(attrs["id"], run.id.as_str());
        assert_ne!(attrs["status"], "applied", "{}: it did not wait", cli.label);
        assert!(attrs["status"].is_string(), "{attrs}");
        assert!(attrs["outputs"].is_null() && attrs["has_changes"].is_null());

        emu.wait_for_status(&run.id, "applied", Duration::from_secs(30));
        let out = s.terraform(REFRESH);
        check!(out.success, s, out, "refresh failed");
        let (attrs, _) = s.instance().expect("an instance");
        assert_eq!(attrs["status"], "applied", "{}", cli.label);
        assert_eq!(attrs["has_changes"], true);
        assert_eq!(attrs["resource_additions"], 1);
        assert_eq!(
            attrs["nonsensitive_outputs"]["value"],
            json!({"ready": true})
        );
        assert_eq!(emu.workspace_runs(&ws).len(), 1, "{}", cli.label);
    }
}
