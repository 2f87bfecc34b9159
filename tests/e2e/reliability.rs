//! End to end: what `tfe_workspace_run` must never do, under faults. It never queues a destroy run
//! that was not armed, never adopts a run it did not make, never leaves two of its runs competing
//! for one workspace, and never panics on what the server sends. Each test drives real Terraform
//! against tfe-emulator with faults injected through the emulator's admin API, and checks
//! Terraform's outcome, the state, the emulator's record of runs and the provider's log.
//!
//! Section 7 covers the request paths of re-runs in place, the outputs read after a run and the wait
//! for a configuration on its way, and people acting on a re-run.
//!
//! The fault matrix (one test per route and fault class) uses the Terraform CLI on PATH: the
//! behaviour under test is the provider's own. The routes only many resources at once use (the
//! organization's run list, read by the poller; its workspace list, read by the batched workspace
//! reads) have cells of ten resources; an interrupted run that would apply by itself has cells of
//! its own, with faults on the cancel that stops it. Tests of what Terraform does with the state
//! (taint, replace, destroy) run with both CLIs.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use test_support::check;
use test_support::emulator::{RunSummary, TestEmulator};
use test_support::session::*;
use test_support::terraform::{
    DevOverrides, TerraformCli, TerraformRun, all_clis, current_terraform,
};
use tfe_client::TfeClient;

/// Budgets short enough for tests: one exchange, the retries of one request.
const TUNING: &[(&str, &str)] = &[
    ("TFE_REQUEST_TIMEOUT", "2s"),
    ("TFE_RETRY_MAX_ELAPSED", "20s"),
    ("TFE_RETRY_MAX_PAUSE", "2s"),
];

/// Runs Terraform with the provider's debug log in a file; fails the test if the log shows a panic.
fn terraform_logged(s: &Session<'_>, args: &[&str]) -> TerraformRun {
    terraform_logged_with(s, args, &[])
}

/// [`terraform_logged`], with `extra` over the tuning.
fn terraform_logged_with(s: &Session<'_>, args: &[&str], extra: &[(&str, &str)]) -> TerraformRun {
    let log: PathBuf = s.dir.path().join("provider.log");
    let log_text = log.display().to_string();
    let mut env: Vec<(&str, &str)> = TUNING.to_vec();
    env.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    env.extend_from_slice(extra);
    env.push(("TF_LOG_PROVIDER", "DEBUG"));
    env.push(("TF_LOG_PATH", &log_text));
    let out = s.terraform_with(args, &env);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !text.contains("panicked") && !out.combined().contains("panicked"),
        "{}: the provider panicked\n{}\n{text}",
        s.cli.label,
        out.combined()
    );
    out
}

fn runs_of(emu: &TestEmulator, ws: &str) -> Vec<RunSummary> {
    emu.workspace_runs(ws)
}

fn kinds(runs: &[RunSummary]) -> Vec<String> {
    runs.iter()
        .map(|r| {
            format!(
                "{}:{}",
                if r.is_destroy { "destroy" } else { "apply" },
                r.status
            )
        })
        .collect()
}

/// Every `tfe_workspace_run` instance in the state: (name, id, tainted).
fn instances(s: &Session<'_>) -> Vec<(String, String, bool)> {
    let Ok(text) = std::fs::read_to_string(s.dir.path().join("terraform.tfstate")) else {
        return Vec::new();
    };
    let state: Value = serde_json::from_str(&text).expect("state JSON");
    let mut found = Vec::new();
    for resource in state["resources"].as_array().into_iter().flatten() {
        if resource["type"] != "tfe_workspace_run" {
            continue;
        }
        for instance in resource["instances"].as_array().into_iter().flatten() {
            found.push((
                resource["name"].as_str().unwrap_or_default().to_string(),
                instance["attributes"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                instance["status"] == "tainted",
            ));
        }
    }
    found
}

fn with_destroy(ws: &str, apply_settings: &str) -> String {
    config(
        ws,
        &format!(
            "{}  destroy {{\n    manual_confirm = false\n  }}\n",
            apply_block(apply_settings)
        ),
    )
}

/// The workspace knobs `workspace()` sets, with `extra` on top (knobs are replaced as a whole).
fn knobs(extra: Value) -> Value {
    let mut all =
        json!({"plan_ms": 200, "apply_ms": 200, "cost_estimate_ms": 50, "policy_check_ms": 50});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        all[k] = v;
    }
    all
}

// ------------------------------------------------------------------ 1. no destroy that was not armed

#[test]
fn an_apply_that_failed_is_replaced_by_one_new_apply_and_no_destroy_run() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "failed", json!({"plan_outcome": "error"}));
        let s = Session::new(
            &emu,
            &cli,
            &overrides,
            &with_destroy(&ws, "    retry = false"),
        );
        let out = terraform_logged(&s, APPLY);
        check!(!out.success, s, out, "the apply should fail");
        let failed = runs_of(&emu, &ws)[0].id.clone();
        assert_eq!(instances(&s), [("r".into(), failed.clone(), true)]);

        // The plan errors no more: the next apply replaces the tainted instance.
        emu.set_workspace_knobs(&ws, knobs(json!({})));
        let out = terraform_logged(&s, APPLY);
        check!(out.success, s, out, "the second apply should succeed");
        check!(
            out.combined().contains("No destroy run queued") && out.combined().contains(&failed),
            s,
            out,
            "a warning names the old run"
        );
        let runs = runs_of(&emu, &ws);
        assert_eq!(
            kinds(&runs),
            ["apply:errored", "apply:applied"],
            "{}",
            cli.label
        );
        assert_eq!(instances(&s), [("r".into(), runs[1].id.clone(), false)]);

        // Now the apply has succeeded, the destroy block is armed, as before.
        let out = terraform_logged(&s, DESTROY);
        check!(out.success, s, out, "destroy failed");
        assert_eq!(
            kinds(&runs_of(&emu, &ws)),
            ["apply:errored", "apply:applied", "destroy:applied"],
            "{}",
            cli.label
        );
    }
}

#[test]
fn a_run_left_waiting_by_a_timeout_is_discarded_and_destroy_queues_nothing() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        // A person was to confirm, nobody did before the timeout: the run waits at `planned`.
        let ws = workspace(&emu, &cli, "waiting", json!({}));
        let waiting = "  apply {\n    manual_confirm = true\n  }\n  destroy {\n    manual_confirm = false\n  }\n  timeouts {\n    create = \"4s\"\n  }\n";
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, waiting));
        let out = terraform_logged(&s, APPLY);
        check!(!out.success, s, out, "the apply should time out");
        let first = runs_of(&emu, &ws);
        assert_eq!(kinds(&first), ["apply:planned"], "{}", cli.label);

        // Destroying it: nothing was applied, so no destroy run; the waiting run is discarded
        // so that it does not hold the workspace.
        let out = terraform_logged(&s, DESTROY);
        check!(out.success, s, out, "destroy failed");
        check!(
            out.combined().contains("No destroy run queued")
                && out.combined().contains(&first[0].id),
            s,
            out,
            "a warning names the old run"
        );
        assert_eq!(
            kinds(&runs_of(&emu, &ws)),
            ["apply:discarded"],
            "{}",
            cli.label
        );
        assert!(instances(&s).is_empty(), "{}", cli.label);

        // The same, replaced instead of destroyed: the old run is discarded, one new apply runs.
        let ws = workspace(&emu, &cli, "waiting-replaced", json!({}));
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, waiting));
        let out = terraform_logged(&s, APPLY);
        check!(!out.success, s, out, "the apply should time out");
        std::fs::write(s.dir.path().join("main.tf"), with_destroy(&ws, "")).unwrap();
        let out = terraform_logged(&s, APPLY);
        check!(out.success, s, out, "the replacing apply failed");
        let runs = runs_of(&emu, &ws);
        assert_eq!(
            kinds(&runs),
            ["apply:discarded", "apply:applied"],
            "{}",
            cli.label
        );
        assert_eq!(instances(&s), [("r".into(), runs[1].id.clone(), false)]);
    }
}

#[test]
fn a_discarded_or_canceled_apply_is_replaced_without_a_destroy_run() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        for (name, waits_at, act) in [
            ("discarded", "planned", "discard"),
            ("canceled", "planning", "cancel"),
        ] {
            let extra = if act == "cancel" {
                json!({"plan_ms": 20000})
            } else {
                json!({})
            };
            let ws = workspace(&emu, &cli, name, extra);
            let manual = if act == "discard" { "true" } else { "false" };
            let body = format!(
                "  apply {{\n    manual_confirm = {manual}\n  }}\n  destroy {{\n    manual_confirm = false\n  }}\n"
            );
            let s = Session::new(&emu, &cli, &overrides, &config(&ws, &body));
            let child = s.spawn(APPLY);
            let run = await_run_status(&emu, &ws, waits_at, Duration::from_secs(30));
            let id = run.id.clone();
            let act = act.to_string();
            human(&emu, move |c: TfeClient| async move {
                if act == "discard" {
                    c.discard_run(&id, Some("no")).await
                } else {
                    c.cancel_run(&id, Some("stop")).await
                }
            })
            .expect("a person acts on the run");
            let out = wait_output(child);
            check!(!out.success, s, out, "the apply should fail");
            emu.set_workspace_knobs(&ws, knobs(json!({})));
            std::fs::write(s.dir.path().join("main.tf"), with_destroy(&ws, "")).unwrap();
            let out = terraform_logged(&s, APPLY);
            check!(out.success, s, out, "the replacing apply failed");
            let runs = runs_of(&emu, &ws);
            assert_eq!(
                kinds(&runs),
                [format!("apply:{name}"), "apply:applied".to_string()],
                "{}",
                cli.label
            );
            assert_eq!(instances(&s), [("r".into(), runs[1].id.clone(), false)]);
        }
    }
}

// ------------------------------------------------------------------ 2, 3. adopt only our own run

fn one_resource(emu: &TestEmulator, cli: &TerraformCli, name: &str) -> (String, String) {
    let ws = workspace(emu, cli, name, json!({}));
    let tf = config(&ws, &apply_block(""));
    (ws, tf)
}

/// The statuses the emulator answered to the provider's creates, in order.
fn create_statuses(emu: &TestEmulator) -> Vec<u64> {
    emu.requests()["requests"]
        .as_array()
        .expect("request log")
        .iter()
        .filter(|r| r["method"] == "POST" && r["route"] == "/api/v2/runs")
        .map(|r| r["status"].as_u64().unwrap_or(0))
        .collect()
}

#[test]
fn a_replace_whose_create_got_a_503_queues_a_new_run() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let (ws, tf) = one_resource(&emu, &cli, "replace-503");
    let s = Session::new(&emu, &cli, &overrides, &tf);
    let out = terraform_logged(&s, APPLY);
    check!(out.success, s, out, "first apply failed");
    let first = runs_of(&emu, &ws)[0].id.clone();
    // Within minutes, with the same default message: the create is refused before anything
    // happens. The previous run must not be taken for the new one.
    emu.add_fault(json!({"kind": "status", "status": 503, "method": "POST", "path": "/api/v2/runs", "times": 1}));
    let mut args = APPLY.to_vec();
    args.push("-replace=tfe_workspace_run.r");
    let out = terraform_logged(&s, &args);
    emu.clear_faults();
    check!(out.success, s, out, "the replacing apply failed");
    let runs = runs_of(&emu, &ws);
    assert_eq!(kinds(&runs), ["apply:applied", "apply:applied"]);
    assert_ne!(runs[1].id, first);
    assert_eq!(create_statuses(&emu), [201, 503, 201]);
    assert_eq!(instances(&s), [("r".into(), runs[1].id.clone(), false)]);
}

#[test]
fn apply_destroy_apply_with_a_lost_answer_ends_with_the_new_run() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let ws = workspace(&emu, &cli, "ephemeral", json!({}));
    let s = Session::new(&emu, &cli, &overrides, &with_destroy(&ws, ""));
    let out = terraform_logged(&s, APPLY);
    check!(out.success, s, out, "first apply failed");
    let out = terraform_logged(&s, DESTROY);
    check!(out.success, s, out, "destroy failed");
    emu.add_fault(json!({"kind": "status", "status": 502, "when": "after", "method": "POST", "path": "/api/v2/runs", "times": 1}));
    let out = terraform_logged(&s, APPLY);
    emu.clear_faults();
    check!(out.success, s, out, "the third apply failed");
    let runs = runs_of(&emu, &ws);
    assert_eq!(
        kinds(&runs),
        ["apply:applied", "destroy:applied", "apply:applied"]
    );
    assert_eq!(instances(&s), [("r".into(), runs[2].id.clone(), false)]);
}

#[test]
fn two_resources_on_one_workspace_each_get_their_own_run_under_every_fault() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let faults = [
        ("503-before", json!({"kind": "status", "status": 503})),
        (
            "502-after",
            json!({"kind": "status", "status": 502, "when": "after"}),
        ),
        ("reset", json!({"kind": "reset"})),
        ("429", json!({"kind": "rate_limit", "reset_seconds": 0.2})),
    ];
    for (name, fault) in faults {
        let ws = workspace(&emu, &cli, &format!("pair-{name}"), json!({}));
        let tf = format!(
            "{}{}",
            config(&ws, &apply_block("")),
            config(&ws, &apply_block("")).replace("\"r\"", "\"s\"")
        );
        let s = Session::new(&emu, &cli, &overrides, &tf);
        let mut rule = fault.clone();
        rule["method"] = json!("POST");
        rule["path"] = json!("/api/v2/runs");
        rule["times"] = json!(2);
        emu.clear_faults();
        emu.add_fault(rule);
        let out = terraform_logged(&s, APPLY);
        emu.clear_faults();
        check!(out.success, s, out, "{name}: the apply failed");
        let runs = runs_of(&emu, &ws);
        assert_eq!(
            kinds(&runs),
            ["apply:applied", "apply:applied"],
            "{name}: {runs:?}"
        );
        let mut ids: Vec<String> = instances(&s).into_iter().map(|(_, id, _)| id).collect();
        ids.sort();
        let mut want: Vec<String> = runs.iter().map(|r| r.id.clone()).collect();
        want.sort();
        assert_eq!(ids, want, "{name}: each resource has its own run");
    }
}

#[test]
fn a_lookup_that_keeps_failing_is_unknown_and_the_run_is_adopted_next_time() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let (ws, tf) = one_resource(&emu, &cli, "unknown");
    // A plan long enough to be still under way at the next apply: the run is queued with auto-apply
    // (manual_confirm = false), so once its plan is done it applies by itself, and a finished run
    // cannot be told from any earlier one (reliability.md says so).
    emu.set_workspace_knobs(&ws, knobs(json!({"plan_ms": 40000})));
    let s = Session::new(&emu, &cli, &overrides, &tf);
    emu.add_fault(json!({"kind": "status", "status": 502, "when": "after", "method": "POST", "path": "/api/v2/runs", "times": 1}));
    emu.add_fault(json!({"kind": "rate_limit", "method": "GET", "path": "/api/v2/workspaces/*/runs", "reset_seconds": 0.1}));
    // Each listing gives up after 6 s, so this apply ends well within the run's plan.
    let out = terraform_logged_with(&s, APPLY, &[("TFE_RETRY_MAX_ELAPSED", "6s")]);
    emu.clear_faults();
    check!(!out.success, s, out, "the apply cannot know its outcome");
    let text = out.combined();
    check!(
        text.contains("unknown") && text.contains(&ws),
        s,
        out,
        "says the outcome is unknown, naming the workspace"
    );
    check!(
        !text.contains("no matching run"),
        s,
        out,
        "never says the run is absent"
    );
    check!(
        text.contains("[tfe_workspace_run apply "),
        s,
        out,
        "names the tag to look for"
    );
    let runs = runs_of(&emu, &ws);
    assert_eq!(runs.len(), 1, "the create did make a run: {runs:?}");
    assert!(runs[0].auto_apply, "{runs:?}");

    // The next apply sees that run through instead of queuing a second one.
    let out = terraform_logged(&s, APPLY);
    check!(out.success, s, out, "the next apply failed");
    check!(
        out.combined().contains("Adopted an unfinished apply run"),
        s,
        out,
        "says it adopted the run"
    );
    let runs = runs_of(&emu, &ws);
    assert_eq!(kinds(&runs), ["apply:applied"]);
    assert_eq!(instances(&s), [("r".into(), runs[0].id.clone(), false)]);
}

#[test]
fn a_create_committed_after_the_client_gave_up_is_never_orphaned() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    // Committed 3 s after the request, 1 s after the client gave up (TFE_REQUEST_TIMEOUT=2s):
    // found by its reference while the provider looks.
    let (ws, tf) = one_resource(&emu, &cli, "late");
    let s = Session::new(&emu, &cli, &overrides, &tf);
    emu.add_fault(json!({"kind": "late_commit", "ms": 3000, "method": "POST", "path": "/api/v2/runs", "times": 1}));
    let out = terraform_logged(&s, APPLY);
    emu.clear_faults();
    check!(out.success, s, out, "the apply failed");
    let runs = runs_of(&emu, &ws);
    assert_eq!(kinds(&runs), ["apply:applied"]);
    assert_eq!(instances(&s), [("r".into(), runs[0].id.clone(), false)]);

    // Committed 12 s after the request, well after the provider concluded (at about 6 s: the 2 s
    // timeout, then looking at +0.2, +1 and +3 s) that the server made nothing and sent the create
    // again: the late copy waits behind the new run, which still plans, and is stopped when the new
    // run moves on (discarded while it waits, or canceled once it has started planning: the runs are
    // queued with auto-apply, so the new run never pauses to be confirmed), so only one run applies.
    let (ws, tf) = one_resource(&emu, &cli, "later");
    let s = Session::new(&emu, &cli, &overrides, &tf);
    emu.set_workspace_knobs(&ws, knobs(json!({"plan_ms": 8000})));
    emu.add_fault(json!({"kind": "late_commit", "ms": 12000, "method": "POST", "path": "/api/v2/runs", "times": 1}));
    let out = terraform_logged(&s, APPLY);
    emu.clear_faults();
    check!(out.success, s, out, "the apply failed");
    // A canceled plan stops a moment after the cancel.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut runs = runs_of(&emu, &ws);
    while runs.iter().any(|r| r.status == "planning") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
        runs = runs_of(&emu, &ws);
    }
    let stopped = [
        ["apply:applied", "apply:discarded"],
        ["apply:applied", "apply:canceled"],
    ];
    assert!(
        stopped.iter().any(|want| kinds(&runs) == *want),
        "the copy is stopped: {runs:?}"
    );
    assert_eq!(instances(&s), [("r".into(), runs[0].id.clone(), false)]);
}

#[test]
fn a_person_locking_the_workspace_or_deleting_it_mid_wait() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    // Locked by a person before the apply: the run waits in the queue until they unlock.
    let (ws, tf) = one_resource(&emu, &cli, "locked");
    let s = Session::new(&emu, &cli, &overrides, &tf);
    let lock = ws.clone();
    human(&emu, move |c: TfeClient| async move {
        c.lock_workspace(&lock, "maintenance").await
    })
    .expect("lock");
    let child = s.spawn(APPLY);
    let pending = await_run_status(&emu, &ws, "pending", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(kinds(&runs_of(&emu, &ws)), ["apply:pending"]);
    let unlock = ws.clone();
    human(&emu, move |c: TfeClient| async move {
        c.unlock_workspace(&unlock).await
    })
    .expect("unlock");
    let out = wait_output(child);
    check!(out.success, s, out, "the apply failed after the unlock");
    assert_eq!(kinds(&runs_of(&emu, &ws)), ["apply:applied"]);
    assert_eq!(instances(&s), [("r".into(), pending.id.clone(), false)]);

    // Deleted by a person while the run plans: the wait ends at once with the run named, and
    // destroying the resource afterwards succeeds without queuing anything.
    let ws = workspace(&emu, &cli, "deleted", json!({"plan_ms": 30000}));
    let s = Session::new(&emu, &cli, &overrides, &with_destroy(&ws, ""));
    let child = s.spawn(APPLY);
    let run = await_run_status(&emu, &ws, "planning", Duration::from_secs(30));
    let doomed = ws.clone();
    human(&emu, move |c: TfeClient| async move {
        c.delete_workspace(&doomed).await
    })
    .expect("delete the workspace");
    let out = wait_output(child);
    check!(!out.success, s, out, "the apply cannot succeed");
    check!(out.combined().contains(&run.id), s, out, "names the run");
    let out = terraform_logged(&s, DESTROY);
    check!(
        out.success,
        s,
        out,
        "destroy of a deleted workspace's run failed"
    );
    assert!(instances(&s).is_empty());
    assert!(
        runs_of(&emu, &ws).iter().all(|r| !r.is_destroy),
        "no destroy run"
    );
}

#[test]
fn runs_erroring_twice_are_retried_and_a_garbled_answer_is_asked_again() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let ws = workspace(
        &emu,
        &cli,
        "twice",
        json!({"plan_outcome": "error_first_n:2"}),
    );
    let settings = "    retry_backoff_min = 0\n    retry_backoff_max = 1";
    let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block(settings)));
    emu.add_fault(json!({"kind": "malformed_body", "body": "not_json", "method": "GET", "path": "/api/v2/runs/*", "times": 2}));
    emu.add_fault(json!({"kind": "huge_body", "bytes": 40000000u64, "method": "GET", "path": "/api/v2/runs/*", "times": 1}));
    let out = terraform_logged(&s, APPLY);
    emu.clear_faults();
    check!(out.success, s, out, "the apply failed");
    let runs = runs_of(&emu, &ws);
    assert_eq!(
        kinds(&runs),
        ["apply:errored", "apply:errored", "apply:applied"]
    );
    assert_eq!(instances(&s), [("r".into(), runs[2].id.clone(), false)]);
}

// ------------------------------------------------------------------ 6. runs left behind

/// The provider processes Terraform (`parent`) started.
fn provider_children(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some((comm, rest)) = stat.split_once(") ") else {
            continue;
        };
        let ppid: u32 = rest
            .split(' ')
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if ppid == parent && comm.contains("terraform-pro") {
            found.push(pid);
        }
    }
    found
}

#[test]
fn a_run_whose_provider_was_killed_is_adopted_not_queued_twice() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let ws = workspace(&emu, &cli, "killed", json!({"apply_ms": 4000}));
    let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
    let child = s.spawn(APPLY);
    let run = await_run_status(&emu, &ws, "applying", Duration::from_secs(30));
    let providers = provider_children(child.id());
    assert!(!providers.is_empty(), "no provider process under terraform");
    for pid in providers {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    let out = wait_output(child);
    check!(
        !out.success,
        s,
        out,
        "terraform cannot succeed without its provider"
    );
    assert!(instances(&s).is_empty(), "nothing was stored");

    let out = terraform_logged(&s, APPLY);
    check!(out.success, s, out, "the next apply failed");
    let runs = runs_of(&emu, &ws);
    assert_eq!(kinds(&runs), ["apply:applied"], "one apply, seen through");
    assert_eq!(instances(&s), [("r".into(), run.id.clone(), false)]);
}

// ------------------------------------------------------------------ the fault matrix

/// One cell: the fault `rules` (emulator rules, each naming its method and path) during an
/// apply and, with `destroy`, a destroy; both must succeed with exactly the runs in `want`
/// (`"apply:applied"`, ...), the state holding the last apply run.
fn cell(name: &str, knobs: Value, rules: Value, destroy: bool, want: &[&str]) {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let ws = workspace(&emu, &cli, name, knobs);
    let settings = "    retry_backoff_min = 0\n    retry_backoff_max = 1";
    let tf = if destroy {
        with_destroy(&ws, settings)
    } else {
        config(&ws, &apply_block(settings))
    };
    let s = Session::new(&emu, &cli, &overrides, &tf);
    for rule in rules.as_array().expect("a list of rules") {
        emu.add_fault(rule.clone());
    }
    let out = terraform_logged(&s, APPLY);
    check!(out.success, s, out, "{name}: the apply failed");
    let last_apply = runs_of(&emu, &ws)
        .into_iter()
        .rev()
        .find(|r| !r.is_destroy)
        .expect("an apply run");
    assert_eq!(
        instances(&s),
        [("r".into(), last_apply.id.clone(), false)],
        "{name}"
    );
    if destroy {
        let out = terraform_logged(&s, DESTROY);
        check!(out.success, s, out, "{name}: the destroy failed");
        assert!(instances(&s).is_empty(), "{name}");
    }
    emu.clear_faults();
    assert_eq!(
        kinds(&runs_of(&emu, &ws)),
        want,
        "{name}: exactly the runs asked for"
    );
}

macro_rules! matrix {
    ($($test:ident: $knobs:tt $rules:tt $destroy:literal => [$($want:literal),+];)+) => {
        $(
            #[test]
            fn $test() {
                cell(stringify!($test), json!($knobs), json!($rules), $destroy, &[$($want),+]);
            }
        )+
    };
}

matrix! {
    discovery_429_burst: {} [{"method": "GET", "path": "/.well-known/terraform.json", "kind": "rate_limit", "reset_seconds": 0.2, "times": 3}] false => ["apply:applied"];
    discovery_503: {} [{"method": "GET", "path": "/.well-known/terraform.json", "kind": "status", "status": 503, "times": 3}] false => ["apply:applied"];
    discovery_reset: {} [{"method": "GET", "path": "/.well-known/terraform.json", "kind": "reset", "times": 2}] false => ["apply:applied"];
    discovery_slow: {} [{"method": "GET", "path": "/.well-known/terraform.json", "kind": "delay", "ms": 3000, "times": 1}] false => ["apply:applied"];
    ping_429_burst: {} [{"method": "GET", "path": "/api/v2/ping", "kind": "rate_limit", "reset_seconds": 0.2, "times": 3}] false => ["apply:applied"];
    ping_503: {} [{"method": "GET", "path": "/api/v2/ping", "kind": "status", "status": 503, "times": 3}] false => ["apply:applied"];
    ping_reset: {} [{"method": "GET", "path": "/api/v2/ping", "kind": "reset", "times": 2}] false => ["apply:applied"];
    workspace_read_429_burst: {} [{"method": "GET", "path": "/api/v2/workspaces/*", "kind": "rate_limit", "reset_seconds": 0.1, "times": 12}] true => ["apply:applied", "destroy:applied"];
    workspace_read_503: {} [{"method": "GET", "path": "/api/v2/workspaces/*", "kind": "status", "status": 503, "times": 3}] true => ["apply:applied", "destroy:applied"];
    workspace_read_reset: {} [{"method": "GET", "path": "/api/v2/workspaces/*", "kind": "reset", "times": 2}] false => ["apply:applied"];
    workspace_read_slow: {} [{"method": "GET", "path": "/api/v2/workspaces/*", "kind": "delay", "ms": 3000, "times": 1}] false => ["apply:applied"];
    create_429_burst: {} [{"method": "POST", "path": "/api/v2/runs", "kind": "rate_limit", "reset_seconds": 0.1, "times": 12}] false => ["apply:applied"];
    create_503_before: {} [{"method": "POST", "path": "/api/v2/runs", "kind": "status", "status": 503, "times": 1}] false => ["apply:applied"];
    create_502_after: {} [{"method": "POST", "path": "/api/v2/runs", "kind": "status", "status": 502, "when": "after", "times": 1}] false => ["apply:applied"];
    create_500_after_twice: {} [{"method": "POST", "path": "/api/v2/runs", "kind": "status", "status": 500, "when": "after", "times": 2}] true => ["apply:applied", "destroy:applied"];
    create_reset: {} [{"method": "POST", "path": "/api/v2/runs", "kind": "reset", "times": 1}] false => ["apply:applied"];
    create_slow: {} [{"method": "POST", "path": "/api/v2/runs", "kind": "delay", "ms": 3000, "times": 1}] false => ["apply:applied"];
    run_read_429_burst: {} [{"method": "GET", "path": "/api/v2/runs/*", "kind": "rate_limit", "reset_seconds": 0.1, "times": 12}] false => ["apply:applied"];
    run_read_503: {} [{"method": "GET", "path": "/api/v2/runs/*", "kind": "status", "status": 503, "times": 4}] false => ["apply:applied"];
    run_read_reset: {} [{"method": "GET", "path": "/api/v2/runs/*", "kind": "reset", "times": 3}] false => ["apply:applied"];
    run_read_slow: {} [{"method": "GET", "path": "/api/v2/runs/*", "kind": "delay", "ms": 3000, "times": 1}] false => ["apply:applied"];
    run_list_429_burst_after_a_lost_create: {} [
        {"method": "POST", "path": "/api/v2/runs", "kind": "status", "status": 502, "when": "after", "times": 1},
        {"method": "GET", "path": "/api/v2/workspaces/*/runs", "kind": "rate_limit", "reset_seconds": 0.1, "times": 6}] false => ["apply:applied"];
    run_list_503_after_a_lost_create: {} [
        {"method": "POST", "path": "/api/v2/runs", "kind": "status", "status": 504, "when": "after", "times": 1},
        {"method": "GET", "path": "/api/v2/workspaces/*/runs", "kind": "status", "status": 503, "times": 3}] false => ["apply:applied"];
    run_list_reset_after_a_lost_create: {} [
        {"method": "POST", "path": "/api/v2/runs", "kind": "status", "status": 502, "when": "after", "times": 1},
        {"method": "GET", "path": "/api/v2/workspaces/*/runs", "kind": "reset", "times": 2}] false => ["apply:applied"];
    policy_check_read_503_after_an_error: {"plan_outcome": "error_first_n:1"} [
        {"method": "GET", "path": "/api/v2/runs/*/policy-checks", "kind": "status", "status": 503, "times": 3}] false => ["apply:errored", "apply:applied"];
    policy_check_read_429_after_an_error: {"plan_outcome": "error_first_n:1"} [
        {"method": "GET", "path": "/api/v2/runs/*/policy-checks", "kind": "rate_limit", "reset_seconds": 0.1, "times": 6}] false => ["apply:errored", "apply:applied"];
}

// ------------------------------------------------------------------ 7. re-runs, outputs, configurations

/// A configuration with one `tfe_workspace_run.r` re-run by `triggers = { v = "<version>" }`, with a
/// destroy block armed and retry backoff short enough for tests.
fn rerun_config(ws: &str, version: &str, apply_settings: &str) -> String {
    config(
        ws,
        &format!(
            "  triggers = {{\n    v = \"{version}\"\n  }}\n{}  destroy {{\n    manual_confirm = false\n  }}\n",
            apply_block(&format!(
                "    retry_backoff_min = 0\n    retry_backoff_max = 1\n{apply_settings}"
            ))
        ),
    )
}

/// A re-run under each fault class on its create (a lost answer, a 429 burst, a reset before the server
/// saw it): exactly one new apply run, recorded in place, and never a destroy run.
#[test]
fn a_rerun_whose_create_meets_a_fault_queues_exactly_one_run() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let faults = [
        (
            "lost-answer",
            json!({"kind": "status", "status": 502, "when": "after"}),
        ),
        (
            "429-burst",
            json!({"kind": "rate_limit", "reset_seconds": 0.1, "times": 6}),
        ),
        ("reset", json!({"kind": "reset"})),
        ("reset-after", json!({"kind": "reset", "when": "after"})),
    ];
    for (name, fault) in faults {
        let ws = workspace(&emu, &cli, &format!("rerun-{name}"), json!({}));
        let s = Session::new(&emu, &cli, &overrides, &rerun_config(&ws, "1", ""));
        let out = terraform_logged(&s, APPLY);
        check!(out.success, s, out, "{name}: first apply failed");
        std::fs::write(s.dir.path().join("main.tf"), rerun_config(&ws, "2", "")).unwrap();
        let mut rule = fault;
        rule["method"] = json!("POST");
        rule["path"] = json!("/api/v2/runs");
        if rule.get("times").is_none() {
            rule["times"] = json!(1);
        }
        emu.add_fault(rule);
        let out = terraform_logged(&s, APPLY);
        emu.clear_faults();
        check!(out.success, s, out, "{name}: the re-run failed");
        let runs = runs_of(&emu, &ws);
        assert_eq!(
            kinds(&runs),
            ["apply:applied", "apply:applied"],
            "{name}: {runs:?}"
        );
        assert_eq!(
            instances(&s),
            [("r".into(), runs[1].id.clone(), false)],
            "{name}"
        );
    }
}

/// A person acting on a re-run mid-wait: discarding it fails the update and keeps the previous run
/// recorded (no destroy run, not tainted); locking the workspace holds it in the queue until unlocked.
#[test]
fn a_person_discarding_or_holding_a_rerun_mid_wait() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let ws = workspace(&emu, &cli, "rerun-discarded", json!({}));
    let s = Session::new(&emu, &cli, &overrides, &rerun_config(&ws, "1", ""));
    let out = terraform_logged(&s, APPLY);
    check!(out.success, s, out, "first apply failed");
    let first = runs_of(&emu, &ws)[0].id.clone();
    let manual = "    manual_confirm = true\n";
    std::fs::write(
        s.dir.path().join("main.tf"),
        rerun_config(&ws, "2", "").replace(
            "    manual_confirm = false\n    retry_backoff_min",
            &format!("{manual}    retry_backoff_min"),
        ),
    )
    .unwrap();
    let child = s.spawn(APPLY);
    let waiting = await_run_status(&emu, &ws, "planned", Duration::from_secs(30));
    let id = waiting.id.clone();
    human(&emu, move |c: TfeClient| async move {
        c.discard_run(&id, Some("not now")).await
    })
    .expect("discard");
    let out = wait_output(child);
    check!(!out.success, s, out, "a discarded re-run fails the update");
    check!(
        out.combined().contains(&waiting.id),
        s,
        out,
        "the error names the discarded run"
    );
    assert_eq!(instances(&s), [("r".into(), first.clone(), false)]);
    assert_eq!(
        kinds(&runs_of(&emu, &ws)),
        ["apply:applied", "apply:discarded"]
    );

    // Held by a person's lock: the re-run waits in the queue and applies once they unlock.
    let lock = ws.clone();
    human(&emu, move |c: TfeClient| async move {
        c.lock_workspace(&lock, "maintenance").await
    })
    .expect("lock");
    std::fs::write(s.dir.path().join("main.tf"), rerun_config(&ws, "3", "")).unwrap();
    let child = s.spawn(APPLY);
    let pending = await_run_status(&emu, &ws, "pending", Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(2));
    let unlock = ws.clone();
    human(&emu, move |c: TfeClient| async move {
        c.unlock_workspace(&unlock).await
    })
    .expect("unlock");
    let out = wait_output(child);
    check!(
        out.success,
        s,
        out,
        "the held re-run failed after the unlock"
    );
    assert_eq!(instances(&s), [("r".into(), pending.id.clone(), false)]);
    let out = terraform_logged(&s, DESTROY);
    check!(out.success, s, out, "destroy failed");
    assert_eq!(
        kinds(&runs_of(&emu, &ws)),
        [
            "apply:applied",
            "apply:discarded",
            "apply:applied",
            "destroy:applied"
        ]
    );
}

/// The reads of the workspace's outputs after a run (the current state version with its outputs, a
/// sensitive output's value) under a 429 burst, a 503, a reset: read all the same. A body that cannot be
/// read (not JSON, the wrong shape) never panics and never fails the apply: the run is recorded, the
/// outputs are null with a warning, and the next refresh reads them.
#[test]
fn the_outputs_read_under_faults() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let outputs = json!({"outputs": {"endpoint": "https://app", "token": "t0k"}, "sensitive_outputs": ["token"],
                         "state_processing_ms": 1500});
    let state_route = "/api/v2/workspaces/*/current-state-version";
    let sensitive_route = "/api/v2/state-version-outputs/*";
    let read_anyway = [
        (
            "state-429",
            state_route,
            json!({"kind": "rate_limit", "reset_seconds": 0.1, "times": 6}),
        ),
        (
            "state-503",
            state_route,
            json!({"kind": "status", "status": 503, "times": 3}),
        ),
        (
            "state-reset",
            state_route,
            json!({"kind": "reset", "times": 2}),
        ),
        (
            "sensitive-503",
            sensitive_route,
            json!({"kind": "status", "status": 503, "times": 2}),
        ),
        (
            "sensitive-reset",
            sensitive_route,
            json!({"kind": "reset", "times": 1}),
        ),
    ];
    for (name, path, fault) in read_anyway {
        let ws = workspace(&emu, &cli, &format!("outputs-{name}"), outputs.clone());
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
        let mut rule = fault;
        rule["method"] = json!("GET");
        rule["path"] = json!(path);
        emu.add_fault(rule);
        let out = terraform_logged(&s, APPLY);
        emu.clear_faults();
        check!(out.success, s, out, "{name}: the apply failed");
        check!(
            !out.combined().contains("Outputs not read"),
            s,
            out,
            "{name}: outputs not read"
        );
        let (attrs, tainted) = s.instance().expect("an instance");
        assert!(!tainted, "{name}");
        assert_eq!(
            attrs["nonsensitive_outputs"]["value"],
            json!({"endpoint": "https://app"}),
            "{name}"
        );
        assert_eq!(attrs["outputs"]["value"]["token"], "t0k", "{name}");
        assert_eq!(kinds(&runs_of(&emu, &ws)), ["apply:applied"], "{name}");
    }
    // Processed at once, so the refresh right after finds them.
    let mut at_once = outputs.clone();
    at_once["state_processing_ms"] = json!(0);
    for body in ["not_json", "wrong_shape"] {
        let ws = workspace(&emu, &cli, &format!("outputs-{body}"), at_once.clone());
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
        emu.add_fault(
            json!({"kind": "malformed_body", "body": body, "method": "GET", "path": state_route}),
        );
        let out = terraform_logged(&s, APPLY);
        emu.clear_faults();
        check!(
            out.success,
            s,
            out,
            "{body}: the run applied; the apply must not fail"
        );
        check!(
            out.combined().contains("Outputs not read"),
            s,
            out,
            "{body}: no warning"
        );
        let (attrs, tainted) = s.instance().expect("an instance");
        let runs = runs_of(&emu, &ws);
        assert!(!tainted, "{body}");
        assert_eq!(attrs["id"], runs[0].id.as_str(), "{body}");
        assert!(attrs["outputs"].is_null(), "{body}: {attrs}");
        // The next refresh reads them; nothing is queued.
        let out = terraform_logged(
            &s,
            &[
                "apply",
                "-refresh-only",
                "-auto-approve",
                "-input=false",
                "-no-color",
                "-lock=false",
            ],
        );
        check!(out.success, s, out, "{body}: refresh failed");
        let (attrs, _) = s.instance().expect("an instance");
        assert_eq!(
            attrs["nonsensitive_outputs"]["value"],
            json!({"endpoint": "https://app"}),
            "{body}"
        );
        assert_eq!(kinds(&runs_of(&emu, &ws)), ["apply:applied"], "{body}");
    }
}

/// The wait for a configuration still on its way, with its reads under a 429 burst, a 503 and a reset:
/// still waited for (one run, applied with retries off). A body that cannot be read ends the wait (the
/// create that follows is what it always was): no panic, and the runs end applied.
#[test]
fn the_configuration_wait_under_faults() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let route = "/api/v2/configuration-versions/*";
    let cells = [
        (
            "429",
            json!({"kind": "rate_limit", "reset_seconds": 0.1, "times": 6}),
        ),
        ("503", json!({"kind": "status", "status": 503, "times": 3})),
        ("reset", json!({"kind": "reset", "times": 2})),
    ];
    for (name, fault) in cells {
        let ws = emu.seed_workspace_with(
            "acme",
            &format!("arriving-{name}"),
            json!({"knobs": {"configuration_upload_ms": 3000, "plan_ms": 200, "apply_ms": 200}}),
        );
        let s = Session::new(
            &emu,
            &cli,
            &overrides,
            &config(&ws, &apply_block("    retry = false")),
        );
        let mut rule = fault;
        rule["method"] = json!("GET");
        rule["path"] = json!(route);
        emu.add_fault(rule);
        let out = terraform_logged(&s, APPLY);
        emu.clear_faults();
        check!(out.success, s, out, "{name}: the apply failed");
        assert_eq!(kinds(&runs_of(&emu, &ws)), ["apply:applied"], "{name}");
    }
    let ws = emu.seed_workspace_with(
        "acme",
        "arriving-garbled",
        json!({"knobs": {"configuration_upload_ms": 3000, "plan_ms": 200, "apply_ms": 200}}),
    );
    let s = Session::new(
        &emu,
        &cli,
        &overrides,
        &config(
            &ws,
            &apply_block("    retry_backoff_min = 2\n    retry_backoff_max = 2"),
        ),
    );
    emu.add_fault(
        json!({"kind": "malformed_body", "body": "wrong_shape", "method": "GET", "path": route}),
    );
    let out = terraform_logged(&s, APPLY);
    emu.clear_faults();
    check!(out.success, s, out, "the apply failed");
    let runs = runs_of(&emu, &ws);
    assert_eq!(
        kinds(&runs).last().map(String::as_str),
        Some("apply:applied"),
        "{runs:?}"
    );
    assert!(runs.iter().all(|r| !r.is_destroy), "{runs:?}");
}

// ------------------------------------------------------------------ the batched paths

/// Resources in a cell over the batched paths: enough for the poller to read the organization's run
/// list and for the workspace reads to use its workspace list.
const MANY: usize = 10;

/// `MANY` resources (`r0`, `r1`, ...) on as many new workspaces of one organization, with apply and
/// destroy blocks.
fn many(emu: &TestEmulator, cli: &TerraformCli, name: &str, knobs: Value) -> (Vec<String>, String) {
    let ids: Vec<String> = (0..MANY)
        .map(|i| workspace(emu, cli, &format!("{name}-{i}"), knobs.clone()))
        .collect();
    let settings =
        "    manual_confirm = false\n    retry_backoff_min = 0\n    retry_backoff_max = 1\n";
    let tf: String = ids
        .iter()
        .enumerate()
        .map(|(i, ws)| {
            format!(
                "resource \"tfe_workspace_run\" \"r{i}\" {{\n  workspace_id = \"{ws}\"\n  apply {{\n{settings}  }}\n  destroy {{\n{settings}  }}\n}}\n"
            )
        })
        .collect();
    (ids, tf)
}

/// Requests the provider made on `route` (e.g. `GET /api/v2/organizations/{org}/runs`).
fn route_count(emu: &TestEmulator, route: &str) -> u64 {
    emu.requests()["counters"]["by_route"][route]
        .as_u64()
        .unwrap_or(0)
}

/// A cell over the batched paths: the fault `rules` during an apply and a destroy of `MANY`
/// resources; both must succeed with one apply and one destroy run per workspace, each applied, the
/// state holding each resource's own apply run, and `route` really used.
fn many_cell(name: &str, rules: Value, route: &str) {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    // Plans long enough for a few rounds of the poller.
    let (ids, tf) = many(&emu, &cli, name, json!({"plan_ms": 2500, "apply_ms": 1000}));
    let s = Session::new(&emu, &cli, &overrides, &tf);
    emu.reset_requests();
    for rule in rules.as_array().expect("a list of rules") {
        emu.add_fault(rule.clone());
    }
    let out = terraform_logged(&s, &[APPLY, &["-parallelism=10"]].concat());
    check!(out.success, s, out, "{name}: the apply failed");
    assert!(
        route_count(&emu, route) > 0,
        "{name}: {route} was never read: {}",
        emu.requests()["counters"]
    );
    let mut recorded: Vec<String> = instances(&s)
        .into_iter()
        .map(|(_, id, tainted)| {
            assert!(!tainted, "{name}: nothing is tainted");
            id
        })
        .collect();
    recorded.sort();
    let mut applied: Vec<String> = ids
        .iter()
        .flat_map(|ws| runs_of(&emu, ws))
        .map(|r| r.id)
        .collect();
    applied.sort();
    assert_eq!(
        recorded, applied,
        "{name}: each resource holds its own run, and no other run was made"
    );
    let out = terraform_logged(&s, &[DESTROY, &["-parallelism=10"]].concat());
    check!(out.success, s, out, "{name}: the destroy failed");
    assert!(instances(&s).is_empty(), "{name}");
    emu.clear_faults();
    for ws in &ids {
        assert_eq!(
            kinds(&runs_of(&emu, ws)),
            ["apply:applied", "destroy:applied"],
            "{name}: exactly the runs asked for in {ws}"
        );
    }
}

const ORG_RUNS: &str = "GET /api/v2/organizations/{org}/runs";
const ORG_WORKSPACES: &str = "GET /api/v2/organizations/{org}/workspaces";

macro_rules! many_matrix {
    ($($test:ident: $rules:tt $route:expr;)+) => {
        $(
            #[test]
            fn $test() {
                many_cell(stringify!($test), json!($rules), $route);
            }
        )+
    };
}

many_matrix! {
    org_run_list_503: [{"method": "GET", "path": "/api/v2/organizations/*/runs", "kind": "status", "status": 503, "times": 3}] ORG_RUNS;
    org_run_list_429_burst: [{"method": "GET", "path": "/api/v2/organizations/*/runs", "kind": "rate_limit", "reset_seconds": 0.2, "times": 6}] ORG_RUNS;
    org_run_list_reset: [{"method": "GET", "path": "/api/v2/organizations/*/runs", "kind": "reset", "times": 3}] ORG_RUNS;
    org_run_list_slow: [{"method": "GET", "path": "/api/v2/organizations/*/runs", "kind": "delay", "ms": 3000, "times": 1}] ORG_RUNS;
    org_workspace_list_503: [{"method": "GET", "path": "/api/v2/organizations/*/workspaces", "kind": "status", "status": 503, "times": 3}] ORG_WORKSPACES;
    org_workspace_list_429_burst: [{"method": "GET", "path": "/api/v2/organizations/*/workspaces", "kind": "rate_limit", "reset_seconds": 0.2, "times": 6}] ORG_WORKSPACES;
    org_workspace_list_reset: [{"method": "GET", "path": "/api/v2/organizations/*/workspaces", "kind": "reset", "times": 2}] ORG_WORKSPACES;
    org_workspace_list_slow: [{"method": "GET", "path": "/api/v2/organizations/*/workspaces", "kind": "delay", "ms": 3000, "times": 1}] ORG_WORKSPACES;
}

/// A cell over the read of what runs ending together did (their organization's workspace list, with
/// each one's run, plan, state version and outputs): the fault `rule` is added once every run is
/// planning, so it hits those pages; the apply succeeds and every instance holds its own run's final
/// status, plan counts and outputs, whatever the pages answered.
fn results_cell(name: &str, rule: Value) {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let knobs = json!({"plan_ms": 2500, "apply_ms": 1000,
                       "outputs": {"endpoint": "https://svc.example", "nodes": 3}});
    let (ids, tf) = many(&emu, &cli, name, knobs);
    let s = Session::new(&emu, &cli, &overrides, &tf);
    let child = s.spawn(&[APPLY, &["-parallelism=10"]].concat());
    for ws in &ids {
        await_run_status(&emu, ws, "planning", Duration::from_secs(30));
    }
    emu.reset_requests();
    emu.add_fault(rule);
    let out = wait_output(child);
    check!(out.success, s, out, "{name}: the apply failed");
    assert!(
        route_count(&emu, ORG_WORKSPACES) > 0,
        "{name}: the workspace list was never read for the results: {}",
        emu.requests()["counters"]
    );
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(s.dir.path().join("terraform.tfstate")).expect("state"),
    )
    .expect("state JSON");
    let mut seen = 0;
    for resource in state["resources"].as_array().into_iter().flatten() {
        for instance in resource["instances"].as_array().into_iter().flatten() {
            let attrs = &instance["attributes"];
            let ws = attrs["workspace_id"].as_str().expect("workspace_id");
            let run = runs_of(&emu, ws).pop().expect("a run");
            assert_eq!(attrs["id"], run.id.as_str(), "{name}: {attrs}");
            assert_eq!(attrs["status"], "applied", "{name}: {attrs}");
            assert!(attrs["resource_additions"].is_number(), "{name}: {attrs}");
            assert_eq!(
                attrs["nonsensitive_outputs"]["value"],
                json!({"endpoint": "https://svc.example", "nodes": 3}),
                "{name}: {attrs}"
            );
            seen += 1;
        }
    }
    assert_eq!(seen, MANY, "{name}");
}

macro_rules! results_matrix {
    ($($test:ident: $rule:tt;)+) => {
        $(
            #[test]
            fn $test() {
                results_cell(stringify!($test), json!($rule));
            }
        )+
    };
}

results_matrix! {
    results_list_503: {"method": "GET", "path": "/api/v2/organizations/*/workspaces", "kind": "status", "status": 503, "times": 3};
    results_list_429_burst: {"method": "GET", "path": "/api/v2/organizations/*/workspaces", "kind": "rate_limit", "reset_seconds": 0.2, "times": 6};
    results_list_reset: {"method": "GET", "path": "/api/v2/organizations/*/workspaces", "kind": "reset", "times": 2};
    results_list_slow: {"method": "GET", "path": "/api/v2/organizations/*/workspaces", "kind": "delay", "ms": 3000, "times": 1};
}

#[test]
fn a_person_discarding_a_run_while_its_status_comes_through_the_run_list() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let (ids, tf) = many(
        &emu,
        &cli,
        "discard",
        json!({"plan_ms": 3000, "apply_ms": 500}),
    );
    // A person holds one workspace locked: its run waits there, discardable, while the provider reads
    // it with the others from the organization's run list.
    let locked = ids[3].clone();
    {
        let id = locked.clone();
        human(&emu, move |c: TfeClient| async move {
            c.lock_workspace(&id, "a person is looking").await
        })
        .expect("lock");
    }
    let s = Session::new(&emu, &cli, &overrides, &tf);
    emu.reset_requests();
    let child = s.spawn(&[APPLY, &["-parallelism=10"]].concat());
    let waiting = await_run_status(&emu, &locked, "pending", Duration::from_secs(30));
    // Long enough for the provider to see it waiting through the list.
    std::thread::sleep(Duration::from_millis(2500));
    let id = waiting.id.clone();
    human(&emu, move |c: TfeClient| async move {
        c.discard_run(&id, Some("not this one")).await
    })
    .expect("discard");
    let out = wait_output(child);
    check!(!out.success, s, out, "the discarded run fails its resource");
    check!(
        out.combined().contains("ended discarded") && out.combined().contains(&waiting.id),
        s,
        out,
        "names the discarded run"
    );
    assert!(
        route_count(&emu, ORG_RUNS) > 0,
        "{}",
        emu.requests()["counters"]
    );
    // The others applied; the discarded one is kept, tainted.
    let held = instances(&s);
    assert_eq!(held.len(), MANY, "{held:?}");
    for (_, id, tainted) in &held {
        assert_eq!(*tainted, *id == waiting.id, "{held:?}");
    }
    // Once the person unlocks, the next apply replaces only that one, with no destroy run for it.
    {
        let id = locked.clone();
        human(&emu, move |c: TfeClient| async move {
            c.unlock_workspace(&id).await
        })
        .expect("unlock");
    }
    let out = terraform_logged(&s, &[APPLY, &["-parallelism=10"]].concat());
    check!(out.success, s, out, "the next apply failed");
    let all: Vec<String> = ids
        .iter()
        .flat_map(|ws| kinds(&runs_of(&emu, ws)))
        .collect();
    let count = |k: &str| all.iter().filter(|x| x.as_str() == k).count();
    assert_eq!(count("apply:applied"), MANY, "{all:?}");
    assert_eq!(count("apply:discarded"), 1, "{all:?}");
    assert_eq!(all.len(), MANY + 1, "{all:?}");
}

// ------------------------------------------------------------------ an interrupted run that would apply by itself

/// Ctrl-C while a run queued with auto-apply plans, with the fault `rules` on the requests that stop
/// it: the apply fails at once naming the run, the run ends canceled (nothing applied), the state
/// keeps it tainted, and the next apply queues exactly one new run.
fn interrupted_cell(name: &str, rules: Value) {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    let cli = current_terraform();
    let ws = workspace(&emu, &cli, name, json!({"plan_ms": 60000}));
    let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
    for rule in rules.as_array().expect("a list of rules") {
        emu.add_fault(rule.clone());
    }
    let child = s.spawn(APPLY);
    let run = await_run_status(&emu, &ws, "planning", Duration::from_secs(30));
    assert!(run.auto_apply, "{run:?}");
    std::thread::sleep(Duration::from_millis(1500));
    signal_group(&child, "-INT");
    let out = wait_output_within(child, Duration::from_secs(45));
    emu.clear_faults();
    check!(!out.success, s, out, "{name}: the apply was interrupted");
    let flat = out
        .combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    check!(
        flat.contains(&run.id) && flat.contains("nothing of it is applied"),
        s,
        out,
        "{name}: says the run was canceled"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while runs_of(&emu, &ws)[0].status == "planning" && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(kinds(&runs_of(&emu, &ws)), ["apply:canceled"], "{name}");
    assert_eq!(
        instances(&s),
        [("r".into(), run.id.clone(), true)],
        "{name}"
    );
    // The next apply: one new run, no destroy run for the canceled one.
    emu.set_workspace_knobs(&ws, knobs(json!({})));
    let out = terraform_logged(&s, APPLY);
    check!(out.success, s, out, "{name}: the next apply failed");
    assert_eq!(
        kinds(&runs_of(&emu, &ws)),
        ["apply:canceled", "apply:applied"],
        "{name}"
    );
}

macro_rules! interrupted_matrix {
    ($($test:ident: $rules:tt;)+) => {
        $(
            #[test]
            fn $test() {
                interrupted_cell(stringify!($test), json!($rules));
            }
        )+
    };
}

interrupted_matrix! {
    interrupted_auto_apply_plan: [];
    interrupted_auto_apply_cancel_503_before: [{"method": "POST", "path": "/api/v2/runs/*/actions/cancel", "kind": "status", "status": 503, "times": 2}];
    interrupted_auto_apply_cancel_502_after: [{"method": "POST", "path": "/api/v2/runs/*/actions/cancel", "kind": "status", "status": 502, "when": "after", "times": 1}];
    interrupted_auto_apply_cancel_429_burst: [{"method": "POST", "path": "/api/v2/runs/*/actions/cancel", "kind": "rate_limit", "reset_seconds": 0.2, "times": 4}];
    interrupted_auto_apply_cancel_reset: [{"method": "POST", "path": "/api/v2/runs/*/actions/cancel", "kind": "reset", "times": 1}];
    interrupted_auto_apply_look_503: [{"method": "GET", "path": "/api/v2/runs/*", "kind": "status", "status": 503, "times": 3}];
}
