//! End to end, both Terraform CLIs against tfe-emulator: re-running a `tfe_workspace_run` in place
//! (hashicorp/tfe#193, #258, #1605). A changed `triggers` queues one new apply run with the apply block's
//! settings and records it, with no destroy run and no replacement (counted in the emulator's run record);
//! adding an apply block to an existing instance applies it in the same apply; the plan says a run will be
//! queued; a re-run that fails keeps the previous run in the state, destroys nothing and leaves the destroy
//! armed.

use serde_json::json;

use test_support::check;
use test_support::emulator::{RunSummary, TestEmulator};
use test_support::session::*;
use test_support::terraform::{DevOverrides, all_clis};

const PLAN: &[&str] = &["plan", "-input=false", "-no-color", "-lock=false"];
const PLAN_NO_CHANGES: &[&str] = &[
    "plan",
    "-input=false",
    "-no-color",
    "-lock=false",
    "-detailed-exitcode",
];
const WARNING: &str = "Apply run will be queued";

/// `apply:applied`, `destroy:applied`, ... in creation order.
fn kinds(runs: &[RunSummary]) -> Vec<String> {
    runs.iter()
        .map(|r| {
            let kind = if r.is_destroy { "destroy" } else { "apply" };
            format!("{kind}:{}", r.status)
        })
        .collect()
}

/// An apply block, a destroy block and `triggers = { version = "<version>" }`.
fn armed_with_trigger(ws: &str, version: &str, apply_settings: &str) -> String {
    config(
        ws,
        &format!(
            "  triggers = {{\n    version = \"{version}\"\n  }}\n{}  destroy {{\n    manual_confirm = false\n  }}\n",
            apply_block(apply_settings)
        ),
    )
}

/// Terraform's output with its line wrapping undone, to find a sentence of a diagnostic.
fn flat(out: &test_support::terraform::TerraformRun) -> String {
    out.combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn write_main(s: &Session<'_>, main_tf: &str) {
    std::fs::write(s.dir.path().join("main.tf"), main_tf).unwrap();
}

#[test]
fn a_changed_trigger_reruns_in_place_without_a_destroy_run() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "rerun", json!({"outputs": {"build": "1"}}));
        let s = Session::new(
            &emu,
            &cli,
            &overrides,
            &armed_with_trigger(&ws, "1", "    message = \"release\""),
        );
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "first apply failed");
        let first = emu.workspace_runs(&ws);
        assert_eq!(kinds(&first), ["apply:applied"], "{}", cli.label);
        let (attrs, _) = s.instance().expect("an instance");
        assert_eq!(attrs["status"], "applied", "{}", cli.label);

        // The plan says what applying will do, and queues nothing.
        write_main(
            &s,
            &armed_with_trigger(&ws, "2", "    message = \"release\""),
        );
        let out = s.terraform(PLAN);
        check!(out.success, s, out, "plan failed");
        check!(
            flat(&out).contains(WARNING)
                && flat(&out).contains(&format!("workspace {ws}"))
                && flat(&out).contains("triggers changed (version)"),
            s,
            out,
            "the plan does not say a run will be queued"
        );
        check!(
            out.stdout.contains("0 to add, 1 to change, 0 to destroy"),
            s,
            out,
            "not an update in place"
        );
        assert_eq!(
            emu.workspace_runs(&ws).len(),
            1,
            "{}: the plan queued",
            cli.label
        );

        emu.set_workspace_knobs(
            &ws,
            json!({"plan_ms": 200, "apply_ms": 200, "outputs": {"build": "2"}}),
        );
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "the re-run failed");
        check!(
            out.stdout.contains("0 added, 1 changed, 0 destroyed"),
            s,
            out,
            "not changed in place"
        );
        let runs = emu.workspace_runs(&ws);
        assert_eq!(
            kinds(&runs),
            ["apply:applied", "apply:applied"],
            "{}: one new apply run and no destroy run",
            cli.label
        );
        // The apply block's settings: its message, confirmed by the provider.
        assert!(
            runs[1]
                .message
                .starts_with("release [tfe_workspace_run apply "),
            "{}",
            runs[1].message
        );
        let (attrs, tainted) = s.instance().expect("an instance");
        assert!(!tainted, "{}", cli.label);
        assert_eq!(attrs["id"], runs[1].id.as_str(), "{}", cli.label);
        assert_eq!(attrs["triggers"]["version"], "2");
        assert!(
            attrs["url"].as_str().unwrap().ends_with(&runs[1].id),
            "{attrs}"
        );
        // What the re-run left: the workspace's outputs after it.
        assert_eq!(
            attrs["nonsensitive_outputs"]["value"],
            json!({"build": "2"}),
            "{}",
            cli.label
        );

        // Nothing changed: nothing queued.
        let out = s.terraform(PLAN_NO_CHANGES);
        check!(out.success, s, out, "a plan after the re-run is not empty");
        check!(!out.combined().contains(WARNING), s, out, "warned again");

        // The destroy is armed by the re-run's success, as by the first run's.
        let out = s.terraform(DESTROY);
        check!(out.success, s, out, "destroy failed");
        assert_eq!(
            kinds(&emu.workspace_runs(&ws)),
            ["apply:applied", "apply:applied", "destroy:applied"],
            "{}",
            cli.label
        );
    }
}

#[test]
fn an_apply_block_added_to_an_existing_instance_applies_in_the_same_apply() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "added", json!({}));
        let destroy_only = "  destroy {\n    manual_confirm = false\n  }\n";
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, destroy_only));
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "the destroy-only apply failed");
        assert!(emu.workspace_runs(&ws).is_empty(), "{}", cli.label);
        let placeholder = s.state_id().expect("an ID");
        assert!(!placeholder.starts_with("run-"), "{placeholder}");

        // hashicorp/tfe#1605: the official resource needs a second apply (and then drops the instance).
        write_main(
            &s,
            &config(&ws, &format!("{}{destroy_only}", apply_block(""))),
        );
        let out = s.terraform(PLAN);
        check!(
            out.success && flat(&out).contains("an apply block was added"),
            s,
            out,
            "the plan does not say the apply run will be queued"
        );
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "adding the apply block failed");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(kinds(&runs), ["apply:applied"], "{}", cli.label);
        assert_eq!(s.state_id().as_deref(), Some(runs[0].id.as_str()));
        let out = s.terraform(PLAN_NO_CHANGES);
        check!(
            out.success,
            s,
            out,
            "a second apply would still change something"
        );
        assert_eq!(emu.workspace_runs(&ws).len(), 1, "{}", cli.label);
    }
}

#[test]
fn a_rerun_that_fails_keeps_the_previous_run_and_destroys_nothing() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "rerun-fails", json!({}));
        let no_retry = "    retry = false";
        let s = Session::new(
            &emu,
            &cli,
            &overrides,
            &armed_with_trigger(&ws, "1", no_retry),
        );
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "first apply failed");
        let first = emu.workspace_runs(&ws)[0].id.clone();

        emu.set_workspace_knobs(
            &ws,
            json!({"plan_ms": 200, "apply_ms": 200, "plan_outcome": "error"}),
        );
        write_main(&s, &armed_with_trigger(&ws, "2", no_retry));
        let out = s.terraform(APPLY);
        check!(!out.success, s, out, "the re-run should fail");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(
            kinds(&runs),
            ["apply:applied", "apply:errored"],
            "{}",
            cli.label
        );
        check!(
            out.combined().contains(&runs[1].id) && out.combined().contains(&first),
            s,
            out,
            "the error names the failed run and the one kept"
        );
        check!(
            flat(&out).contains("Nothing was replaced or destroyed"),
            s,
            out,
            "the error does not say what happens next"
        );
        let (attrs, tainted) = s.instance().expect("the instance stays");
        assert!(!tainted, "{}: a failed re-run taints nothing", cli.label);
        assert_eq!(attrs["id"], first.as_str(), "{}", cli.label);
        assert_eq!(attrs["status"], "applied", "{}", cli.label);

        // The change is still to be made: the next apply queues the re-run again (not a replacement).
        emu.set_workspace_knobs(&ws, json!({"plan_ms": 200, "apply_ms": 200}));
        let out = s.terraform(PLAN);
        check!(
            out.combined().contains(WARNING) && !out.stdout.contains("must be replaced"),
            s,
            out,
            "the plan after a failed re-run"
        );
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "the second re-run failed");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(
            kinds(&runs),
            ["apply:applied", "apply:errored", "apply:applied"],
            "{}",
            cli.label
        );
        assert_eq!(s.state_id().as_deref(), Some(runs[2].id.as_str()));

        let out = s.terraform(DESTROY);
        check!(out.success, s, out, "destroy failed");
        assert_eq!(
            kinds(&emu.workspace_runs(&ws)).last().map(String::as_str),
            Some("destroy:applied"),
            "{}",
            cli.label
        );
    }
}

/// A re-run whose destroy block is armed and fails: destroying afterwards still queues the destroy run,
/// because the state still records the run that succeeded.
#[test]
fn a_destroy_after_a_failed_rerun_is_still_armed() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "armed-after", json!({}));
        let no_retry = "    retry = false";
        let s = Session::new(
            &emu,
            &cli,
            &overrides,
            &armed_with_trigger(&ws, "1", no_retry),
        );
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "first apply failed");
        emu.set_workspace_knobs(
            &ws,
            json!({"plan_ms": 200, "apply_ms": 200, "plan_outcome": "error_first_n:1"}),
        );
        write_main(&s, &armed_with_trigger(&ws, "2", no_retry));
        let out = s.terraform(APPLY);
        check!(!out.success, s, out, "the re-run should fail");
        let out = s.terraform(DESTROY);
        check!(out.success, s, out, "destroy failed");
        assert_eq!(
            kinds(&emu.workspace_runs(&ws)),
            ["apply:applied", "apply:errored", "destroy:applied"],
            "{}",
            cli.label
        );
        assert!(s.instance().is_none(), "{}", cli.label);
    }
}
