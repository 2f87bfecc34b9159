//! End to end under load: one hundred `tfe_workspace_run` resources applied at once (`-parallelism=100`),
//! each on its own workspace, against an emulator that enforces the advertised rate limit of 30 requests per
//! second per token (`--enforce-rate-limit`), with the organization's concurrency at 100 and 1 s plans and
//! applies; then two such applies at once, from two working directories with the same token. Each test
//! destroys what it applied too (it fits the time: about 30-40 s per command here).
//!
//! A user must see every run applied, exactly one run per resource, and no rate-limit error: the provider has
//! to pace itself and retry 429s quietly. Each test prints its wall time, request count, 429s served and the
//! retries the provider logged.
//!
//! Only the current Terraform CLI (on PATH) is used here: the load is the provider's, and running it twice
//! with 1.0.3 as well would double the time on the two shared cores without exercising anything new.
//!
//! Its own test binary, not a module of `tests/e2e/`: its tests hold a process-wide lock so that they run one
//! at a time, and their bounds assume the machine is not also running the other end-to-end tests.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use test_support::emulator::{EmulatorOptions, TestEmulator};
use test_support::runs::{
    RETRY_LOG, TerraformProcess, apply_problems, destroy_problems, log_lines_with,
    rate_limit_mentions, request_figures, workspace_run_instances,
};
use test_support::terraform::{
    APPLY, DESTROY, DevOverrides, TerraformRun, current_terraform, workdir_with,
};

const RESOURCES: usize = 100;
/// Terraform's parallelism: every resource at once.
const PARALLELISM: &str = "-parallelism=100";
/// One Terraform command under load must finish within this.
const COMMAND_BOUND: Duration = Duration::from_secs(150);

/// The two tests share two cores with other work: never run them at the same time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// An emulator enforcing 30 requests/s per token, concurrency 100 for `acme`, 1 s plans and applies.
fn loaded_emulator() -> TestEmulator {
    let emu = TestEmulator::start_with(EmulatorOptions {
        extra_args: vec![
            "--rate-limit".into(),
            "30".into(),
            "--enforce-rate-limit".into(),
        ],
        ..Default::default()
    });
    let settings = emu.admin("GET", "/_emulator/settings", None);
    assert_eq!(settings["enforce_rate_limit"], true, "{settings}");
    assert_eq!(settings["rate_limit"], 30, "{settings}");
    emu.set_default_knobs(json!({
        "plan_ms": 1000, "apply_ms": 1000, "cost_estimate_ms": 50, "policy_check_ms": 50
    }));
    emu.seed_json(json!({"organizations": [{"name": "acme"}]}));
    emu.set_org_knobs("acme", json!({"concurrency": 100}));
    emu
}

/// Seeds `RESOURCES` workspaces named `<prefix>-NNN`; returns their ids.
fn seed_workspaces(emu: &TestEmulator, prefix: &str) -> Vec<String> {
    let workspaces: Vec<Value> = (0..RESOURCES)
        .map(|i| json!({"organization": "acme", "name": format!("{prefix}-{i:03}")}))
        .collect();
    let answer = emu.seed_json(json!({"workspaces": workspaces}));
    let ids: Vec<String> = answer["workspaces"]
        .as_array()
        .expect("seeded workspaces")
        .iter()
        .map(|w| w["id"].as_str().expect("workspace id").to_string())
        .collect();
    assert_eq!(ids.len(), RESOURCES);
    ids
}

/// One `tfe_workspace_run` per workspace, through `for_each`, with an apply and a destroy.
fn config(workspace_ids: &[String]) -> String {
    let list: Vec<String> = workspace_ids.iter().map(|w| format!("\"{w}\"")).collect();
    format!(
        "resource \"tfe_workspace_run\" \"r\" {{\n  for_each     = toset([{}])\n  workspace_id = each.value\n  apply {{\n    manual_confirm = false\n  }}\n  destroy {{\n    manual_confirm = false\n    wait_for_run   = true\n  }}\n}}\n",
        list.join(", ")
    )
}

struct Workdir {
    dir: tempfile::TempDir,
    log: PathBuf,
    workspaces: Vec<String>,
}

impl Workdir {
    fn new(emu: &TestEmulator, prefix: &str) -> Workdir {
        let workspaces = seed_workspaces(emu, prefix);
        let dir = workdir_with(&[("main.tf", &config(&workspaces))]);
        let log = dir.path().join("provider.log");
        Workdir {
            dir,
            log,
            workspaces,
        }
    }

    fn env(&self, emu: &TestEmulator) -> Vec<(String, String)> {
        let mut env = emu.provider_env();
        env.push(("TF_LOG_PROVIDER".into(), "DEBUG".into()));
        env.push(("TF_LOG_PATH".into(), self.log.display().to_string()));
        env
    }

    /// Starts `args` (an apply or destroy) with every resource at once.
    fn spawn(
        &self,
        emu: &TestEmulator,
        overrides: &DevOverrides,
        args: &[&str],
        tag: &str,
    ) -> TerraformProcess {
        let args = [args, &[PARALLELISM]].concat();
        TerraformProcess::spawn(
            &current_terraform(),
            self.dir.path(),
            overrides,
            &args,
            &self.env(emu),
            tag,
        )
    }

    /// Asserts what a user relies on after this directory's apply.
    fn check_applied(&self, emu: &TestEmulator, what: &str, out: &TerraformRun) {
        assert!(out.success, "{what}: apply failed\n{}", tail(out));
        let mentions = rate_limit_mentions(out);
        assert!(
            mentions.is_empty(),
            "{what}: Terraform's output tells the user about rate limiting:\n{}",
            mentions.join("\n")
        );
        let instances = workspace_run_instances(self.dir.path());
        assert_eq!(instances.len(), RESOURCES, "{what}: instances in the state");
        let runs = emu.runs();
        let problems = apply_problems(&instances, &runs);
        assert!(
            problems.is_empty(),
            "{what}: {} problems after apply:\n{}",
            problems.len(),
            problems.join("\n")
        );
        assert_eq!(
            log_lines_with(&self.log, "panicked"),
            0,
            "{what}: the provider panicked (see {})",
            self.log.display()
        );
    }
}

/// The end of Terraform's output, enough to see an error without 100 resources' progress lines.
fn tail(out: &TerraformRun) -> String {
    let all = out.combined();
    let lines: Vec<&str> = all.lines().collect();
    lines[lines.len().saturating_sub(80)..].join("\n")
}

/// 429s served per route, from the request log (the newest 10 000 requests).
fn rate_limited_routes(emu: &TestEmulator) -> BTreeMap<String, u64> {
    let mut by_route = BTreeMap::new();
    for r in emu.requests()["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        if r["status"] == 429 {
            *by_route
                .entry(format!(
                    "{} {}",
                    r["method"].as_str().unwrap_or(""),
                    r["route"].as_str().unwrap_or("")
                ))
                .or_insert(0) += 1;
        }
    }
    by_route
}

#[test]
fn one_hundred_runs_in_one_apply_under_the_rate_limit() {
    let _serial = serial();
    let emu = loaded_emulator();
    let overrides = DevOverrides::new();
    let work = Workdir::new(&emu, "load");
    emu.reset_requests();

    let (out, took) = work
        .spawn(&emu, &overrides, APPLY, "apply")
        .wait_within(COMMAND_BOUND);
    let (total, served_429, served_5xx) = request_figures(&emu);
    let routes_429 = rate_limited_routes(&emu);
    let retries = log_lines_with(&work.log, RETRY_LOG);
    eprintln!(
        "[load 1x{RESOURCES}] apply: {:.1}s, {total} requests ({:.1}/s), {served_429} 429s served {routes_429:?}, \
         {served_5xx} 5xx, {retries} retries logged by the provider",
        took.as_secs_f64(),
        total as f64 / took.as_secs_f64()
    );
    work.check_applied(&emu, "1x100 apply", &out);

    // The destroy: one destroy run per workspace, each applied.
    emu.reset_requests();
    let (out, took) = work
        .spawn(&emu, &overrides, DESTROY, "destroy")
        .wait_within(COMMAND_BOUND);
    let (total, served_429, _) = request_figures(&emu);
    eprintln!(
        "[load 1x{RESOURCES}] destroy: {:.1}s, {total} requests, {served_429} 429s served, {} retries logged in all",
        took.as_secs_f64(),
        log_lines_with(&work.log, RETRY_LOG)
    );
    assert!(out.success, "1x100 destroy failed\n{}", tail(&out));
    let mentions = rate_limit_mentions(&out);
    assert!(
        mentions.is_empty(),
        "1x100 destroy: rate limiting shown to the user:\n{}",
        mentions.join("\n")
    );
    assert!(workspace_run_instances(work.dir.path()).is_empty());
    let wanted: BTreeMap<String, usize> = work.workspaces.iter().map(|w| (w.clone(), 1)).collect();
    let problems = destroy_problems(&wanted, &emu.runs());
    assert!(
        problems.is_empty(),
        "1x100 destroy: {} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn two_concurrent_applies_of_one_hundred_share_the_rate_limit() {
    let _serial = serial();
    let emu = loaded_emulator();
    let overrides = DevOverrides::new();
    let first = Workdir::new(&emu, "left");
    let second = Workdir::new(&emu, "right");
    emu.reset_requests();

    let started = Instant::now();
    let a = first.spawn(&emu, &overrides, APPLY, "apply");
    let b = second.spawn(&emu, &overrides, APPLY, "apply");
    // Each bounded from its own start; if one panics, the other's guard kills its process group.
    let (out_a, took_a) = a.wait_within(COMMAND_BOUND);
    let (out_b, took_b) = b.wait_within(COMMAND_BOUND);
    let wall = started.elapsed();
    let (total, served_429, served_5xx) = request_figures(&emu);
    let routes_429 = rate_limited_routes(&emu);
    let retries_a = log_lines_with(&first.log, RETRY_LOG);
    let retries_b = log_lines_with(&second.log, RETRY_LOG);
    eprintln!(
        "[load 2x{RESOURCES}] wall {:.1}s (left {:.1}s, right {:.1}s), {total} requests ({:.1}/s), \
         {served_429} 429s served {routes_429:?}, {served_5xx} 5xx, retries logged: left {retries_a}, right {retries_b}",
        wall.as_secs_f64(),
        took_a.as_secs_f64(),
        took_b.as_secs_f64(),
        total as f64 / wall.as_secs_f64()
    );
    first.check_applied(&emu, "2x100, left apply", &out_a);
    second.check_applied(&emu, "2x100, right apply", &out_b);

    // Both destroys at once: one destroy run per workspace, nothing shown about rate limiting.
    emu.reset_requests();
    let started = Instant::now();
    let a = first.spawn(&emu, &overrides, DESTROY, "destroy");
    let b = second.spawn(&emu, &overrides, DESTROY, "destroy");
    let (out_a, _) = a.wait_within(COMMAND_BOUND);
    let (out_b, _) = b.wait_within(COMMAND_BOUND);
    let (total, served_429, _) = request_figures(&emu);
    eprintln!(
        "[load 2x{RESOURCES}] destroy: wall {:.1}s, {total} requests, {served_429} 429s served, retries logged \
         in all: left {}, right {}",
        started.elapsed().as_secs_f64(),
        log_lines_with(&first.log, RETRY_LOG),
        log_lines_with(&second.log, RETRY_LOG)
    );
    let runs = emu.runs();
    for (what, work, out) in [("left", &first, &out_a), ("right", &second, &out_b)] {
        assert!(out.success, "2x100 {what} destroy failed\n{}", tail(out));
        let mentions = rate_limit_mentions(out);
        assert!(
            mentions.is_empty(),
            "2x100 {what} destroy: rate limiting shown to the user:\n{}",
            mentions.join("\n")
        );
        assert!(workspace_run_instances(work.dir.path()).is_empty());
        let wanted: BTreeMap<String, usize> =
            work.workspaces.iter().map(|w| (w.clone(), 1)).collect();
        let problems = destroy_problems(&wanted, &runs);
        assert!(
            problems.is_empty(),
            "2x100 {what} destroy: {} problems:\n{}",
            problems.len(),
            problems.join("\n")
        );
    }
}
