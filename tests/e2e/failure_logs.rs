//! End to end, both Terraform CLIs against tfe-emulator: when a run errors, the error Terraform
//! shows has the `Error:` summary and the last lines of the failed phase's log (read through its
//! `log-read-url`) and the run's URL.

use serde_json::json;

use test_support::check;
use test_support::emulator::TestEmulator;
use test_support::session::*;
use test_support::terraform::{DevOverrides, all_clis};

/// Terraform wraps diagnostics to the terminal width; the text is compared with whitespace collapsed.
fn flat(text: &str) -> String {
    text.split_whitespace()
        .map(|w| w.trim_start_matches('│'))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn an_errored_plan_or_apply_shows_why_from_its_log() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        for (phase, knob) in [("plan", "plan_outcome"), ("apply", "apply_outcome")] {
            let message = format!("Unsupported argument in the {phase} of this workspace");
            let ws = workspace(
                &emu,
                &cli,
                &format!("{phase}-log"),
                json!({knob: "error", "error_message": message}),
            );
            let s = Session::new(
                &emu,
                &cli,
                &overrides,
                &config(&ws, &apply_block("    retry = false")),
            );
            let out = s.terraform(APPLY);
            check!(
                !out.success,
                s,
                out,
                "the {phase} error did not fail the apply"
            );
            let runs = emu.workspace_runs(&ws);
            assert_eq!(statuses(&runs), ["errored"], "{}", cli.label);
            let shown = flat(&out.combined());
            for expected in [
                format!("Error in the {phase}: {message}"),
                format!("Last lines of the {phase} log:"),
                format!("tfe-emulator failed this {phase} as its {knob} knob asks."),
                format!("/runs/{}", runs[0].id),
            ] {
                check!(
                    shown.contains(&flat(&expected)),
                    s,
                    out,
                    "{expected:?} is not in the error"
                );
            }
        }
    }
}

/// A log that cannot be read (the server answers 503 for it) still leaves an error naming the run: the
/// apply fails for the run's error, once, and the provider does not crash over the missing log.
#[test]
fn an_unreadable_log_still_fails_naming_the_run() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    emu.add_fault(
        json!({"kind": "status", "status": 503, "method": "GET", "path": "/_archivist/*"}),
    );
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "no-log", json!({"plan_outcome": "error"}));
        let s = Session::new(
            &emu,
            &cli,
            &overrides,
            &config(&ws, &apply_block("    retry = false")),
        );
        let out = s.terraform(APPLY);
        check!(
            !out.success,
            s,
            out,
            "the plan error did not fail the apply"
        );
        let runs = emu.workspace_runs(&ws);
        assert_eq!(statuses(&runs), ["errored"], "{}", cli.label);
        let shown = flat(&out.combined());
        check!(
            shown.contains(&format!("/runs/{}", runs[0].id)),
            s,
            out,
            "the run is not named"
        );
        check!(
            !shown.contains("Last lines of the plan log:"),
            s,
            out,
            "a log was shown"
        );
        check!(!shown.contains("panic"), s, out, "the provider panicked");
    }
}
