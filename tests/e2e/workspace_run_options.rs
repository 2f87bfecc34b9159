//! End to end, both Terraform CLIs against tfe-emulator: the run options of `tfe_workspace_run`
//! (`variables`, `target_addrs`, `replace_addrs`, `refresh_only`, `allow_empty_apply`) reach the runs it
//! queues, as the emulator's record and the Runs API show them; a run variable's value never appears in
//! Terraform's output or the provider's log, and is not in state where Terraform knows write-only arguments;
//! bad options are refused with errors naming them; and a configuration still on its way is waited for
//! before queuing (mitchellh/terraform-provider-multispace#9), within the timeouts block.

use std::time::Duration;

use serde_json::json;

use test_support::check;
use test_support::emulator::TestEmulator;
use test_support::session::*;
use test_support::terraform::{DevOverrides, TerraformCli, TerraformRun, all_clis};
use tfe_client::TfeClient;

const PLAN: &[&str] = &["plan", "-input=false", "-no-color", "-lock=false"];
const VALIDATE: &[&str] = &["validate", "-no-color"];
const SECRET: &str = "t0p-s3cret-run-var";
const CONFIGURATION_ROUTE: &str = "GET /api/v2/configuration-versions/{id}";

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

/// The run-scoped variables a run was created with, as the Runs API shows them.
fn variables_of(emu: &TestEmulator, run_id: &str) -> Vec<(String, String)> {
    let id = run_id.to_string();
    let run = human(emu, move |c: TfeClient| async move {
        c.run(&id).await.expect("read the run")
    });
    let mut variables: Vec<(String, String)> = run
        .attributes
        .variables
        .iter()
        .map(|v| (v.key.clone(), v.value.clone()))
        .collect();
    variables.sort();
    variables
}

#[test]
fn every_run_option_reaches_the_run_and_no_variable_value_is_shown() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "options", json!({}));
        let body = format!(
            r#"  apply {{
    manual_confirm = false
    variables = {{
      region   = jsonencode("eu-west-1")
      replicas = "3"
      token    = jsonencode("{SECRET}")
    }}
    target_addrs      = ["null_resource.a", "module.app.null_resource.b[0]"]
    replace_addrs     = ["null_resource.c"]
    allow_empty_apply = true
  }}
  destroy {{
    manual_confirm = false
    variables = {{
      region = jsonencode("eu-central-1")
    }}
    target_addrs = ["null_resource.a"]
  }}
"#
        );
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &body));
        let out = s.terraform(PLAN);
        check!(out.success, s, out, "plan failed");
        check!(
            !out.combined().contains(SECRET),
            s,
            out,
            "the plan showed a variable"
        );
        let out = s.terraform_with(APPLY, &[("TF_LOG_PROVIDER", "TRACE")]);
        check!(out.success, s, out, "apply failed");
        check!(
            !out.combined().contains(SECRET),
            s,
            out,
            "a variable's value reached Terraform's output or the provider's log"
        );

        let run = emu.workspace_runs(&ws)[0].clone();
        assert_eq!(run.status, "applied", "{}", cli.label);
        assert_eq!(
            run.target_addrs.as_deref(),
            Some(
                &[
                    "null_resource.a".to_string(),
                    "module.app.null_resource.b[0]".to_string()
                ][..]
            )
        );
        assert_eq!(
            run.replace_addrs.as_deref(),
            Some(&["null_resource.c".to_string()][..])
        );
        assert!(run.allow_empty_apply && !run.refresh_only, "{run:?}");
        assert_eq!(
            variables_of(&emu, &run.id),
            [
                ("region".to_string(), "\"eu-west-1\"".to_string()),
                ("replicas".to_string(), "3".to_string()),
                ("token".to_string(), format!("\"{SECRET}\"")),
            ],
            "{}",
            cli.label
        );
        let state = std::fs::read_to_string(s.dir.path().join("terraform.tfstate")).unwrap();
        if knows_write_only(&cli) {
            assert!(
                !state.contains(SECRET),
                "{}: a write-only value is in state",
                cli.label
            );
        } else {
            // Terraform 1.0.3 has no write-only arguments: an ordinary sensitive one, kept in state.
            assert!(state.contains(SECRET), "{}", cli.label);
        }

        let out = s.terraform(DESTROY);
        check!(out.success, s, out, "destroy failed");
        let destroy = emu.workspace_runs(&ws)[1].clone();
        assert!(destroy.is_destroy, "{destroy:?}");
        assert_eq!(
            destroy.target_addrs.as_deref(),
            Some(&["null_resource.a".to_string()][..])
        );
        assert_eq!(
            variables_of(&emu, &destroy.id),
            [("region".to_string(), "\"eu-central-1\"".to_string())]
        );
    }
}

#[test]
fn a_refresh_only_run_applies_only_when_an_empty_apply_is_allowed() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "refresh-only", json!({}));
        let refresh_only = |allow: bool, version: &str| {
            config(
                &ws,
                &format!(
                    "  triggers = {{\n    v = \"{version}\"\n  }}\n{}",
                    apply_block(&format!(
                        "    refresh_only = true\n    allow_empty_apply = {allow}"
                    ))
                ),
            )
        };
        let s = Session::new(&emu, &cli, &overrides, &refresh_only(false, "1"));
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        let runs = emu.workspace_runs(&ws);
        assert!(runs[0].refresh_only, "{runs:?}");
        assert_eq!(statuses(&runs), ["planned_and_finished"], "{}", cli.label);
        let (attrs, _) = s.instance().expect("an instance");
        assert_eq!(attrs["status"], "planned_and_finished");
        assert_eq!(attrs["has_changes"], false, "{attrs}");

        // Re-run with an empty apply allowed: the refresh is applied.
        std::fs::write(s.dir.path().join("main.tf"), refresh_only(true, "2")).unwrap();
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "the re-run failed");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(
            statuses(&runs),
            ["planned_and_finished", "applied"],
            "{}",
            cli.label
        );
        assert!(runs[1].refresh_only && runs[1].allow_empty_apply);
        assert_eq!(s.instance().unwrap().0["status"], "applied");
    }
}

#[test]
fn bad_run_options_are_refused_naming_what_is_wrong() {
    let overrides = DevOverrides::new();
    let emu = TestEmulator::start();
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "a string without its quotes",
            "  apply {\n    manual_confirm = false\n    variables = { region = \"eu-west-1\" }\n  }\n",
            &[
                "Invalid variable value",
                "variables[\"region\"]",
                "jsonencode",
            ],
        ),
        (
            "a variable name Terraform refuses",
            "  apply {\n    manual_confirm = false\n    variables = { \"1st\" = \"1\" }\n  }\n",
            &["Invalid variable name", "\"1st\""],
        ),
        (
            "refresh-only with replacements",
            "  apply {\n    manual_confirm = false\n    refresh_only = true\n    replace_addrs = [\"null_resource.a\"]\n  }\n",
            &["refresh_only = true cannot be combined with apply.replace_addrs"],
        ),
        (
            "a refresh-only destroy",
            "  destroy {\n    manual_confirm = false\n    refresh_only = true\n  }\n",
            &["Unsupported argument", "refresh_only"],
        ),
        (
            "an empty address",
            "  apply {\n    manual_confirm = false\n    target_addrs = [\"null_resource.a\", \" \"]\n  }\n",
            &["Invalid resource address", "target_addrs[1]"],
        ),
    ];
    for cli in all_clis() {
        for (what, body, expected) in cases {
            let s = Session::new(&emu, &cli, &overrides, &config("ws-abc123", body));
            let out = s.terraform(VALIDATE);
            check!(!out.success, s, out, "{what}: validate succeeded");
            for text in expected {
                check!(flat(&out).contains(text), s, out, "{what}: no {text:?}");
            }
        }
    }
}

#[test]
fn a_configuration_on_its_way_is_waited_for_before_queuing_within_the_timeouts() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let slug: String = cli
            .label
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        // Seeded with the knob, so its VCS configuration version arrives 4 s after the workspace.
        let ws = emu.seed_workspace_with(
            "acme",
            &format!("arriving-{slug}"),
            json!({"knobs": {"configuration_upload_ms": 4000, "plan_ms": 200, "apply_ms": 200}}),
        );
        let s = Session::new(
            &emu,
            &cli,
            &overrides,
            &config(&ws, &apply_block("    retry = false")),
        );
        emu.reset_requests();
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        let runs = emu.workspace_runs(&ws);
        // Queued before the configuration arrived, the plan would have errored (and not been retried).
        assert_eq!(statuses(&runs), ["applied"], "{}", cli.label);
        assert!(
            provider_requests(&emu, CONFIGURATION_ROUTE) >= 2,
            "{}: the configuration was not waited for",
            cli.label
        );

        // A configuration that does not arrive within the timeouts block: no run, and an error saying why.
        let ws = emu.seed_workspace_with(
            "acme",
            &format!("never-{slug}"),
            json!({"knobs": {"configuration_upload_ms": 600000}}),
        );
        let body = format!(
            "{}  timeouts {{\n    create = \"3s\"\n  }}\n",
            apply_block("")
        );
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &body));
        let started = std::time::Instant::now();
        let out = s.terraform(APPLY);
        check!(!out.success, s, out, "the apply should fail");
        check!(
            flat(&out).contains("Configuration not ready")
                && flat(&out).contains("none was queued")
                && flat(&out).contains(&ws),
            s,
            out,
            "the error does not say why"
        );
        assert!(emu.workspace_runs(&ws).is_empty(), "{}", cli.label);
        assert!(s.instance().is_none(), "{}", cli.label);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{:?}",
            started.elapsed()
        );
    }
}
