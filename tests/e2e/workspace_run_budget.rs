//! The request budget of one `tfe_workspace_run` apply, measured with the emulator's request
//! counters, with a plan and an apply of 4 s each. `make bench` measures the documented figure for
//! a 60 s plan and a 60 s apply (about two minutes), which does not belong in the test suite.

use std::time::{Duration, Instant};

use serde_json::json;

use test_support::emulator::TestEmulator;
use test_support::terraform::{
    APPLY, DevOverrides, current_terraform, run_terraform, workdir_with,
};

/// Applies one run whose plan and apply each take `phase_ms`; returns (requests by route, total, seconds).
fn measure(phase_ms: u64) -> (serde_json::Value, u64, f64) {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace("acme", "budget");
    emu.set_workspace_knobs(&ws, json!({"plan_ms": phase_ms, "apply_ms": phase_ms}));
    let main_tf = format!(
        "resource \"tfe_workspace_run\" \"r\" {{\n  workspace_id = \"{ws}\"\n  apply {{\n    manual_confirm = false\n  }}\n}}\n"
    );
    let dir = workdir_with(&[("main.tf", &main_tf)]);
    let overrides = DevOverrides::new();
    let env = emu.provider_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    emu.reset_requests();
    let started = Instant::now();
    let out = run_terraform(&current_terraform(), dir.path(), &overrides, APPLY, &env);
    let took = started.elapsed().as_secs_f64();
    assert!(out.success, "apply failed\n{}", out.combined());
    assert_eq!(emu.runs()[0].status, "applied");
    let counters = emu.requests()["counters"].clone();
    let total = counters["total"].as_u64().unwrap();
    (counters["by_route"].clone(), total, took)
}

/// Polls one phase of `phase` needs in a new workspace (no earlier run to time it by): after 1 s,
/// then every 0.9 s (so that a first run's changes are noticed within a second), until the phase is
/// over.
fn polls_for(phase: Duration) -> u64 {
    1 + (phase.as_secs_f64() - 1.0).max(0.0).div_euclid(0.9) as u64 + 1
}

fn check(phase_ms: u64) {
    let (by_route, total, took) = measure(phase_ms);
    println!("{phase_ms} ms + {phase_ms} ms: {total} requests in {took:.1} s: {by_route}");
    // After it applied, the run is read once more with its plan (for the computed attributes).
    let reads = by_route["GET /api/v2/runs/{id}"].as_u64().unwrap_or(0);
    let polls = reads - 1;
    // One poll per 0.9 s at most, plus the first quick poll of each wait and one for the phase edges.
    let budget = 2 * polls_for(Duration::from_millis(phase_ms)) + 2;
    assert!(
        polls <= budget,
        "{polls} polls, budget {budget}: {by_route}"
    );
    // Everything else: discovery, ping, the workspace read (its latest configuration included), the
    // create (the run applies by itself: manual_confirm = false), the run's plan and the workspace's
    // current state with its outputs.
    assert_eq!(
        by_route["GET /api/v2/workspaces/{id}/current-state-version"],
        1
    );
    assert_eq!(total, polls + 6, "{by_route}");
}

#[test]
fn a_run_costs_one_request_per_poll_and_six_more() {
    check(4000);
}
