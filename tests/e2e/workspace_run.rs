//! End to end: both Terraform CLIs apply and destroy `tfe_workspace_run` with the built provider
//! against tfe-emulator, one test per path the resource can take. Each checks what Terraform says
//! and what the emulator recorded: the runs created, their final status and the requests made.
//! The emulator's phases are a few hundred milliseconds; the provider polls after 1 s, then every 3 s.

use std::time::{Duration, Instant};

use serde_json::json;

use test_support::check;
use test_support::emulator::TestEmulator;
use test_support::session::*;
use test_support::terraform::{DevOverrides, all_clis};
use tfe_client::TfeClient;

// ------------------------------------------------------------------ the paths

#[test]
fn without_manual_confirm_the_run_applies_by_itself_once_with_few_requests() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "auto", json!({}));
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
        emu.reset_requests();
        let out = s.terraform_with(APPLY, &[("TF_LOG_PROVIDER", "INFO")]);
        check!(out.success, s, out, "apply failed");
        // Progress: each status logged once, when it changes; the token never.
        let progress: Vec<&str> = out
            .stderr
            .lines()
            .filter_map(|l| l.split("provider.terraform-provider-tfe: run is ").nth(1))
            .filter_map(|rest| rest.split([':', ' ']).next())
            .collect();
        check!(
            progress.last() == Some(&"applied"),
            s,
            out,
            "progress logs: {progress:?}"
        );
        let mut seen = progress.clone();
        seen.dedup();
        assert_eq!(seen, progress, "{}: a status logged twice", cli.label);
        check!(
            !out.combined().contains(&emu.token),
            s,
            out,
            "the token leaked"
        );
        let runs = emu.workspace_runs(&ws);
        assert_eq!(statuses(&runs), ["applied"], "{}", cli.label);
        let run = &runs[0];
        // This provider would confirm it anyway: the run is queued to apply by itself.
        assert!(run.auto_apply && !run.is_destroy, "{run:?}");
        assert!(
            run.message.contains("terraform-provider-tfe"),
            "default message: {run:?}"
        );
        assert_eq!(s.state_id().as_deref(), Some(run.id.as_str()));
        assert_eq!(provider_requests(&emu, CREATE_ROUTE), 1);
        assert_eq!(provider_requests(&emu, CONFIRM_ROUTE), 0);
        assert_eq!(provider_requests(&emu, WORKSPACE_ROUTE), 1);
        // The polls, and one read of the run with its plan once it applied.
        let polls = provider_requests(&emu, RUN_ROUTE) - 1;
        assert!((1..=5).contains(&polls), "{}: {polls} polls", cli.label);
        assert_eq!(
            provider_requests(&emu, "GET /api/v2/workspaces/{id}/current-state-version"),
            1
        );
        // Discovery and ping, workspace (its configuration included), create, the polls, the run's plan
        // and the current state with its outputs: nothing else (the run applies by itself).
        assert_eq!(
            emu.total_requests() as usize,
            polls + 6,
            "{}: {}",
            cli.label,
            emu.requests()["counters"]
        );
    }
}

#[test]
fn manual_confirm_waits_for_the_human() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "manual", json!({}));
        let block = "  apply {\n    manual_confirm = true\n    message = \"by hand\"\n  }\n";
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, block));
        emu.reset_requests();
        let child = s.spawn(APPLY);
        let run = await_run_status(&emu, &ws, "planned", Duration::from_secs(30));
        // Give the provider a few polls in which it must not confirm by itself.
        std::thread::sleep(Duration::from_millis(2500));
        assert_eq!(emu.workspace_runs(&ws)[0].status, "planned");
        let id = run.id.clone();
        human(&emu, move |c: TfeClient| async move {
            c.apply_run(&id, Some("looks good")).await
        })
        .expect("confirm");
        let out = wait_output(child);
        check!(out.success, s, out, "apply failed");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(statuses(&runs), ["applied"]);
        // The block's message, with the tag that identifies this create's run.
        assert!(
            runs[0]
                .message
                .starts_with("by hand [tfe_workspace_run apply "),
            "{}",
            runs[0].message
        );
        assert_eq!(provider_requests(&emu, CONFIRM_ROUTE), 0, "{}", cli.label);
        assert_eq!(s.state_id().as_deref(), Some(run.id.as_str()));
    }
}

#[test]
fn policy_override_waits_for_a_human_override_then_applies() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "policy", json!({"policy": "soft_fail"}));
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
        emu.reset_requests();
        let child = s.spawn(APPLY);
        let run = await_run_status(&emu, &ws, "policy_override", Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(emu.workspace_runs(&ws)[0].status, "policy_override");
        let id = run.id.clone();
        human(&emu, move |c: TfeClient| async move {
            for check in c.run_policy_checks(&id).await.expect("policy checks") {
                c.override_policy_check(&check.id).await.expect("override");
            }
        });
        let out = wait_output(child);
        check!(out.success, s, out, "apply failed");
        assert_eq!(statuses(&emu.workspace_runs(&ws)), ["applied"]);
        // The run applied by itself after the override; nobody confirmed it.
        assert_eq!(provider_requests(&emu, CONFIRM_ROUTE), 0, "{}", cli.label);
    }
}

#[test]
fn no_changes_is_success_without_confirming() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(
            &emu,
            &cli,
            "nochange",
            json!({"plan_outcome": "no_changes"}),
        );
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
        emu.reset_requests();
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(statuses(&runs), ["planned_and_finished"]);
        assert_eq!(provider_requests(&emu, CONFIRM_ROUTE), 0);
        assert_eq!(s.state_id().as_deref(), Some(runs[0].id.as_str()));
    }
}

#[test]
fn an_errored_run_is_retried_then_applied() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(
            &emu,
            &cli,
            "retry",
            json!({"plan_outcome": "error_first_n:1"}),
        );
        let settings =
            "    retry_attempts = 2\n    retry_backoff_min = 1\n    retry_backoff_max = 2";
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block(settings)));
        emu.reset_requests();
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(statuses(&runs), ["errored", "applied"], "{}", cli.label);
        assert_eq!(s.state_id().as_deref(), Some(runs[1].id.as_str()));
        assert_eq!(provider_requests(&emu, CREATE_ROUTE), 2);
        // One look at the errored run's policy checks decides it is worth retrying.
        assert_eq!(
            provider_requests(&emu, "GET /api/v2/runs/{id}/policy-checks"),
            1
        );
    }
}

#[test]
fn errors_past_the_retries_fail_and_keep_the_last_run_tainted() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "broken", json!({"plan_outcome": "error"}));
        let settings =
            "    retry_attempts = 1\n    retry_backoff_min = 1\n    retry_backoff_max = 1";
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block(settings)));
        let out = s.terraform(APPLY);
        check!(!out.success, s, out, "apply should fail");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(statuses(&runs), ["errored", "errored"], "{}", cli.label);
        let last = &runs[1].id;
        check!(
            out.combined().contains(last.as_str()),
            s,
            out,
            "names the last run"
        );
        check!(
            out.combined().contains("errored"),
            s,
            out,
            "names the status"
        );
        check!(
            out.combined().contains("/app/acme/workspaces/"),
            s,
            out,
            "names the URL"
        );
        let (attrs, tainted) = s.instance().expect("state keeps the run");
        assert_eq!(attrs["id"], last.as_str());
        assert!(tainted, "{}: the failed run must be tainted", cli.label);
    }
}

#[test]
fn a_run_discarded_by_a_human_fails_naming_it() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "discard", json!({}));
        let block = "  apply {\n    manual_confirm = true\n  }\n";
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, block));
        let child = s.spawn(APPLY);
        let run = await_run_status(&emu, &ws, "planned", Duration::from_secs(30));
        let id = run.id.clone();
        human(&emu, move |c: TfeClient| async move {
            c.discard_run(&id, Some("no")).await
        })
        .expect("discard");
        let out = wait_output(child);
        check!(!out.success, s, out, "apply should fail");
        check!(
            out.combined().contains("discarded"),
            s,
            out,
            "names the status"
        );
        check!(out.combined().contains(&run.id), s, out, "names the run");
        assert_eq!(statuses(&emu.workspace_runs(&ws)), ["discarded"]);
        let (attrs, tainted) = s.instance().expect("state keeps the run");
        assert_eq!(attrs["id"], run.id.as_str());
        assert!(tainted);
    }
}

#[test]
fn a_run_canceled_by_a_human_fails_naming_it() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "cancel", json!({"plan_ms": 20000}));
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
        let child = s.spawn(APPLY);
        let run = await_run_status(&emu, &ws, "planning", Duration::from_secs(30));
        let id = run.id.clone();
        human(&emu, move |c: TfeClient| async move {
            c.cancel_run(&id, Some("stop")).await
        })
        .expect("cancel");
        let out = wait_output(child);
        check!(!out.success, s, out, "apply should fail");
        check!(
            out.combined().contains("canceled"),
            s,
            out,
            "names the status"
        );
        check!(out.combined().contains(&run.id), s, out, "names the run");
        assert_eq!(statuses(&emu.workspace_runs(&ws)), ["canceled"]);
        assert_eq!(s.state_id().as_deref(), Some(run.id.as_str()));
    }
}

#[test]
fn without_waiting_the_run_is_queued_with_auto_apply() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "nowait", json!({"plan_ms": 2000}));
        let s = Session::new(
            &emu,
            &cli,
            &overrides,
            &config(&ws, &apply_block("    wait_for_run = false")),
        );
        emu.reset_requests();
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(runs.len(), 1);
        assert!(runs[0].auto_apply, "{:?}", runs[0]);
        assert_ne!(runs[0].status, "applied", "terraform must not have waited");
        assert_eq!(provider_requests(&emu, RUN_ROUTE), 0);
        assert_eq!(provider_requests(&emu, CONFIRM_ROUTE), 0);
        assert_eq!(s.state_id().as_deref(), Some(runs[0].id.as_str()));
        // It applies by itself.
        emu.wait_for_status(&runs[0].id, "applied", Duration::from_secs(30));
    }
}

#[test]
fn destroy_queues_a_destroy_run() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "destroy", json!({}));
        let blocks = format!(
            "{}  destroy {{\n    manual_confirm = false\n    message = \"tear down\"\n  }}\n",
            apply_block("")
        );
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &blocks));
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        emu.reset_requests();
        let out = s.terraform(DESTROY);
        check!(out.success, s, out, "destroy failed");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(statuses(&runs), ["applied", "applied"], "{}", cli.label);
        assert!(!runs[0].is_destroy && runs[1].is_destroy, "{runs:?}");
        assert!(runs[1].auto_apply, "{runs:?}");
        assert!(
            runs[1]
                .message
                .starts_with("tear down [tfe_workspace_run destroy "),
            "{}",
            runs[1].message
        );
        assert_eq!(provider_requests(&emu, CONFIRM_ROUTE), 0);
        assert!(
            s.instance().is_none(),
            "{}: state should be empty",
            cli.label
        );
    }
}

#[test]
fn destroy_of_an_empty_or_deleted_workspace_succeeds_with_a_warning() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        // No configuration version: never applied, nothing to destroy.
        let ws = emu.seed_workspace_with(
            "acme",
            &format!("empty-{}", cli.label.len()),
            json!({"vcs": false}),
        );
        let destroy_only = "  destroy {\n    manual_confirm = false\n  }\n";
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, destroy_only));
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        let placeholder = s.state_id().expect("an id");
        assert!(placeholder.parse::<u64>().is_ok(), "{placeholder}");
        let out = s.terraform(DESTROY);
        check!(out.success, s, out, "destroy failed");
        check!(
            out.combined().contains("no configuration version"),
            s,
            out,
            "warns"
        );
        assert!(emu.workspace_runs(&ws).is_empty());

        // A workspace deleted before the run resource.
        let ws = workspace(&emu, &cli, "gone", json!({}));
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, destroy_only));
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        let id = ws.clone();
        human(&emu, move |c: TfeClient| async move {
            c.delete_workspace(&id).await
        })
        .expect("delete workspace");
        let out = s.terraform(DESTROY);
        check!(out.success, s, out, "destroy failed");
        check!(out.combined().contains("was not found"), s, out, "warns");
        assert!(s.instance().is_none());
    }
}

#[test]
fn ctrl_c_stops_waiting_at_once_and_leaves_the_run_alone() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "sigint", json!({}));
        let block = "  apply {\n    manual_confirm = true\n  }\n";
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, block));
        let child = s.spawn(APPLY);
        let run = await_run_status(&emu, &ws, "planned", Duration::from_secs(30));
        // Let the provider poll once after the plan, so it is waiting for a human.
        std::thread::sleep(Duration::from_millis(1500));
        let sent = Instant::now();
        signal_group(&child, "-INT");
        let out = wait_output_within(child, Duration::from_secs(20));
        let took = sent.elapsed();
        check!(!out.success, s, out, "apply should fail");
        assert!(
            took < Duration::from_secs(5),
            "{}: terraform took {took:?} to stop",
            cli.label
        );
        check!(out.combined().contains(&run.id), s, out, "names the run");
        check!(
            out.combined().contains("planned"),
            s,
            out,
            "names the status"
        );
        check!(out.combined().contains("/runs/"), s, out, "names the URL");
        let (attrs, tainted) = s.instance().expect("state keeps the run");
        assert_eq!(attrs["id"], run.id.as_str());
        assert!(
            tainted,
            "{}: the interrupted run must be tainted",
            cli.label
        );
        // Left alone: still waiting for its confirmation.
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(statuses(&emu.workspace_runs(&ws)), ["planned"]);
        assert_eq!(provider_requests(&emu, CONFIRM_ROUTE), 0);
    }
}

#[test]
fn ctrl_c_during_the_plan_cancels_a_run_that_would_apply_by_itself() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "sigint-auto", json!({"plan_ms": 60000}));
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
        let child = s.spawn(APPLY);
        let run = await_run_status(&emu, &ws, "planning", Duration::from_secs(30));
        assert!(run.auto_apply, "{run:?}");
        std::thread::sleep(Duration::from_millis(1500));
        let sent = Instant::now();
        signal_group(&child, "-INT");
        let out = wait_output_within(child, Duration::from_secs(40));
        let took = sent.elapsed();
        check!(!out.success, s, out, "apply should fail");
        assert!(
            took < Duration::from_secs(10),
            "{}: terraform took {took:?} to stop",
            cli.label
        );
        check!(
            flat(&out).contains(&format!("run {}", run.id))
                && flat(&out).contains("canceled while planning: nothing of it is applied"),
            s,
            out,
            "says the run was canceled"
        );
        assert_eq!(
            statuses(&settled_runs(&emu, &ws)),
            ["canceled"],
            "{}",
            cli.label
        );
        let (attrs, tainted) = s.instance().expect("state keeps the run");
        assert_eq!(attrs["id"], run.id.as_str());
        assert!(tainted, "{}", cli.label);
    }
}

#[test]
fn the_timeouts_bound_the_waits() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "timeout", json!({"plan_ms": 3600000}));
        let blocks = format!(
            "{}  timeouts {{\n    create = \"3s\"\n  }}\n",
            apply_block("")
        );
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &blocks));
        let started = Instant::now();
        let out = s.terraform(APPLY);
        let took = started.elapsed();
        check!(!out.success, s, out, "apply should time out");
        check!(
            out.combined().contains("timeout"),
            s,
            out,
            "says it timed out"
        );
        assert!(
            took < Duration::from_secs(10),
            "{}: took {took:?}",
            cli.label
        );
        // Queued with auto-apply, it would apply by itself once planned: it is canceled.
        let runs = settled_runs(&emu, &ws);
        assert_eq!(statuses(&runs), ["canceled"], "{}", cli.label);
        check!(
            out.combined().contains(&runs[0].id),
            s,
            out,
            "names the run"
        );
        check!(
            flat(&out).contains("nothing of it is applied"),
            s,
            out,
            "says it was stopped"
        );
        let (attrs, tainted) = s.instance().expect("state keeps the run");
        assert_eq!(attrs["id"], runs[0].id.as_str());
        assert!(tainted);

        // The delete timeout: the destroy run, which would apply by itself, is canceled; the resource
        // stays in state.
        let ws = workspace(&emu, &cli, "timeout-delete", json!({"plan_ms": 3600000}));
        let blocks = "  destroy {\n    manual_confirm = false\n  }\n  timeouts {\n    delete = \"2s\"\n  }\n";
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, blocks));
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        let started = Instant::now();
        let out = s.terraform(DESTROY);
        let took = started.elapsed();
        check!(!out.success, s, out, "destroy should time out");
        check!(
            out.combined().contains("timeout"),
            s,
            out,
            "says it timed out"
        );
        assert!(
            took < Duration::from_secs(10),
            "{}: took {took:?}",
            cli.label
        );
        let runs = settled_runs(&emu, &ws);
        assert_eq!(statuses(&runs), ["canceled"], "{}", cli.label);
        assert!(runs[0].is_destroy);
        check!(
            out.combined().contains(&runs[0].id),
            s,
            out,
            "names the run"
        );
        assert!(s.instance().is_some(), "{}: the resource stays", cli.label);
    }
}

#[test]
fn import_by_run_id_fills_workspace_id_and_queues_nothing() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "import", json!({}));
        let id = ws.clone();
        let run = human(&emu, move |c: TfeClient| async move {
            c.create_run(tfe_client::CreateRun {
                workspace_id: id,
                auto_apply: Some(true),
                ..Default::default()
            })
            .await
        })
        .expect("a run to import");
        emu.wait_for_status(&run.id, "applied", Duration::from_secs(30));
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
        let out = s.terraform(&[
            "import",
            "-input=false",
            "-no-color",
            "-lock=false",
            "tfe_workspace_run.r",
            "run-nope",
        ]);
        check!(!out.success, s, out, "an unknown run cannot be imported");
        check!(out.combined().contains("run-nope"), s, out, "names the ID");

        let out = s.terraform(&[
            "import",
            "-input=false",
            "-no-color",
            "-lock=false",
            "tfe_workspace_run.r",
            &run.id,
        ]);
        check!(out.success, s, out, "import failed");
        let (attrs, _) = s.instance().expect("imported");
        assert_eq!(attrs["id"], run.id.as_str());
        assert_eq!(attrs["workspace_id"], ws.as_str());
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply after import failed");
        check!(
            out.stdout.contains("0 to add, 1 to change, 0 to destroy"),
            s,
            out,
            "settings change in place"
        );
        assert_eq!(emu.workspace_runs(&ws).len(), 1, "nothing queued");
    }
}

#[test]
fn a_refresh_drops_a_run_that_no_longer_exists_and_update_queues_nothing() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "refresh", json!({}));
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "apply failed");
        std::fs::write(
            s.dir.path().join("main.tf"),
            config(&ws, &apply_block("    retry = false")),
        )
        .unwrap();
        let out = s.terraform(APPLY);
        check!(out.success, s, out, "update failed");
        check!(
            out.stdout.contains("0 to add, 1 to change, 0 to destroy"),
            s,
            out,
            "in place"
        );
        assert_eq!(emu.workspace_runs(&ws).len(), 1, "an update queues nothing");

        // State pointing at a run the server does not know: refresh removes it, plan creates it.
        let state_path = s.dir.path().join("terraform.tfstate");
        let text = std::fs::read_to_string(&state_path).unwrap();
        let real = s.state_id().unwrap();
        std::fs::write(&state_path, text.replace(&real, "run-doesnotexist")).unwrap();
        let out = s.terraform(&["plan", "-input=false", "-no-color", "-lock=false"]);
        check!(out.success, s, out, "plan failed");
        check!(
            out.stdout.contains("1 to add, 0 to change, 0 to destroy"),
            s,
            out,
            "re-create"
        );
    }
}

#[test]
fn api_errors_502_on_create_429_and_401_while_polling() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        // A create answered 502 after the run was made, and rate limits while polling: the run
        // is found and seen through, not orphaned nor queued twice.
        // A plan long enough for a few polls, so the rate limits are met.
        let ws = workspace(&emu, &cli, "flaky", json!({"plan_ms": 1500}));
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
        emu.clear_faults();
        emu.add_fault(
            json!({"kind": "status", "status": 502, "when": "after", "method": "POST",
            "path": "/api/v2/runs", "times": 1}),
        );
        emu.add_fault(
            json!({"kind": "rate_limit", "method": "GET", "path": "/api/v2/runs/*",
            "every_n": 2, "reset_seconds": 0.2}),
        );
        emu.reset_requests();
        let out = s.terraform(APPLY);
        emu.clear_faults();
        check!(out.success, s, out, "the apply should recover");
        let runs = emu.workspace_runs(&ws);
        assert_eq!(statuses(&runs), ["applied"], "{}", cli.label);
        assert_eq!(s.state_id().as_deref(), Some(runs[0].id.as_str()));
        let log = emu.requests();
        assert!(log["counters"]["served_429"].as_u64().unwrap() > 0, "{log}");
        // One create, whose answer was lost: the provider found the run instead of creating another.
        let creates: Vec<u64> = log["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["method"] == "POST" && r["route"] == "/api/v2/runs")
            .map(|r| r["status"].as_u64().unwrap_or(0))
            .collect();
        assert_eq!(creates, [502], "{}", cli.label);

        let ws = workspace(&emu, &cli, "unauthorized", json!({}));
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
        emu.clear_faults();
        emu.add_fault(json!({"kind": "status", "status": 401, "method": "GET",
            "path": "/api/v2/runs/*", "times": 1}));
        emu.reset_requests();
        let out = s.terraform(APPLY);
        emu.clear_faults();
        check!(!out.success, s, out, "a 401 while polling must fail");
        check!(out.combined().contains("401"), s, out, "names the status");
        check!(
            out.combined().contains("token"),
            s,
            out,
            "says what to check"
        );
        // At once: one failed poll, no retries of it; then one look at the run, which would apply
        // by itself, to stop it if it had not applied yet (here its phases are shorter than a poll).
        assert_eq!(provider_requests(&emu, RUN_ROUTE), 2, "{}", cli.label);
        let runs = emu.workspace_runs(&ws);
        assert_eq!(s.state_id().as_deref(), Some(runs[0].id.as_str()));
        let said = format!("It has since ended ({})", runs[0].status);
        let flat = out
            .combined()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        check!(
            flat.contains(&said) || flat.contains("nothing of it is applied"),
            s,
            out,
            "says what became of the run"
        );
    }
}

#[test]
fn a_hard_policy_failure_is_not_retried() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "hardfail", json!({"policy": "hard_fail"}));
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &apply_block("")));
        let out = s.terraform(APPLY);
        check!(!out.success, s, out, "apply should fail");
        check!(
            out.combined().contains("hard-mandatory"),
            s,
            out,
            "says why"
        );
        let runs = emu.workspace_runs(&ws);
        assert_eq!(statuses(&runs), ["errored"], "{}: retried", cli.label);
        assert_eq!(s.state_id().as_deref(), Some(runs[0].id.as_str()));
    }
}

/// The workspace's runs once none is planning any more (a canceled plan stops a moment after the
/// cancel), within 10 s.
fn settled_runs(emu: &TestEmulator, ws: &str) -> Vec<test_support::emulator::RunSummary> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let runs = emu.workspace_runs(ws);
        if runs.iter().all(|r| r.status != "planning") || Instant::now() > deadline {
            return runs;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Terraform's output as one line (it wraps long diagnostics).
fn flat(out: &test_support::terraform::TerraformRun) -> String {
    out.combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
