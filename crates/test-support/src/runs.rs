//! Shared by the network-fault and load tests: running Terraform within a time bound, reading the
//! `tfe_workspace_run` instances from a state file, and checking them against the emulator's run list.

use std::collections::{BTreeMap, HashSet};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::emulator::{RunSummary, TestEmulator};
use crate::terraform::{DevOverrides, TerraformCli, TerraformRun, command};

/// Statuses after which a run never changes.
pub const FINAL_STATUSES: &[&str] = &[
    "applied",
    "planned_and_finished",
    "errored",
    "discarded",
    "canceled",
    "force_canceled",
    "policy_soft_failed",
];

/// A started Terraform whose process group is killed if it is dropped while still running.
pub struct TerraformProcess {
    child: Option<Child>,
    /// The CLI's label, for messages.
    pub label: String,
    stdout: PathBuf,
    stderr: PathBuf,
    /// When it was started.
    pub started: Instant,
}

impl TerraformProcess {
    /// Starts `cli args...` in `workdir` through [`command`] (dev overrides, no TFE_*/TF_* from the caller,
    /// `env` on top), in its own process group, output to files in `workdir` (`<tag>.stdout` / `.stderr`).
    pub fn spawn(
        cli: &TerraformCli,
        workdir: &Path,
        overrides: &DevOverrides,
        args: &[&str],
        env: &[(String, String)],
        tag: &str,
    ) -> TerraformProcess {
        let stdout = workdir.join(format!("{tag}.stdout"));
        let stderr = workdir.join(format!("{tag}.stderr"));
        let mut command = command(cli, workdir, overrides, args, env.iter().cloned());
        command
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).expect("stdout file"))
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .process_group(0);
        let child = command.spawn().unwrap_or_else(|e| {
            panic!("could not run {} ({}): {e}", cli.label, cli.path.display())
        });
        TerraformProcess {
            child: Some(child),
            label: cli.label.clone(),
            stdout,
            stderr,
            started: Instant::now(),
        }
    }

    /// Waits until it exits; past `limit` since the start, kills its process group and panics with its output.
    pub fn wait_within(mut self, limit: Duration) -> (TerraformRun, Duration) {
        let mut child = self.child.take().expect("not waited yet");
        let until = self.started + limit;
        let status = loop {
            if let Some(status) = child.try_wait().expect("poll terraform") {
                break status;
            }
            if Instant::now() > until {
                kill_group(&child);
                let _ = child.wait();
                panic!(
                    "{} ran over {limit:?} and was killed\n{}",
                    self.label,
                    self.output(false).combined()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let elapsed = self.started.elapsed();
        (self.output(status.success()), elapsed)
    }

    fn output(&self, success: bool) -> TerraformRun {
        TerraformRun {
            success,
            stdout: std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.stderr).unwrap_or_default(),
        }
    }
}

impl Drop for TerraformProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if child.try_wait().ok().flatten().is_none() {
                kill_group(&child);
            }
            let _ = child.wait();
        }
    }
}

/// SIGKILL to the process group of a child started in its own group (Terraform and its provider processes).
fn kill_group(child: &Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status();
}

/// Runs Terraform and waits for it within `limit` (see [`TerraformProcess`]).
pub fn terraform_within(
    cli: &TerraformCli,
    workdir: &Path,
    overrides: &DevOverrides,
    args: &[&str],
    env: &[(String, String)],
    tag: &str,
    limit: Duration,
) -> (TerraformRun, Duration) {
    TerraformProcess::spawn(cli, workdir, overrides, args, env, tag).wait_within(limit)
}

/// One `tfe_workspace_run` instance in a state file.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Its address, e.g. `tfe_workspace_run.r[3]`.
    pub address: String,
    /// The run ID it records.
    pub id: String,
    /// Its workspace.
    pub workspace_id: String,
}

/// Every `tfe_workspace_run` instance in `dir/terraform.tfstate` (none if there is no state).
pub fn workspace_run_instances(dir: &Path) -> Vec<Instance> {
    let Ok(text) = std::fs::read_to_string(dir.join("terraform.tfstate")) else {
        return Vec::new();
    };
    let state: Value = serde_json::from_str(&text).expect("state JSON");
    let mut found = Vec::new();
    for resource in state["resources"].as_array().cloned().unwrap_or_default() {
        if resource["type"] != "tfe_workspace_run" || resource["mode"] != "managed" {
            continue;
        }
        for instance in resource["instances"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let key = match &instance["index_key"] {
                Value::Null => String::new(),
                k => format!("[{k}]"),
            };
            found.push(Instance {
                address: format!(
                    "tfe_workspace_run.{}{key}",
                    resource["name"].as_str().unwrap_or("")
                ),
                id: instance["attributes"]["id"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                workspace_id: instance["attributes"]["workspace_id"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            });
        }
    }
    found
}

/// What is wrong after an apply of `instances`, judged by the emulator's `runs` of those workspaces (runs of
/// other workspaces are ignored): each instance has its own non-empty run id; that run is an apply run of its
/// workspace and `applied`; each workspace has exactly as many apply runs as instances on it; no run is left
/// non-final. Empty when all holds.
pub fn apply_problems(instances: &[Instance], runs: &[RunSummary]) -> Vec<String> {
    let mut problems = Vec::new();
    let workspaces: HashSet<&str> = instances.iter().map(|i| i.workspace_id.as_str()).collect();
    let runs: Vec<&RunSummary> = runs
        .iter()
        .filter(|r| workspaces.contains(r.workspace_id.as_str()))
        .collect();
    let mut ids = HashSet::new();
    for i in instances {
        if i.id.is_empty() {
            problems.push(format!("{} has no run id in the state", i.address));
            continue;
        }
        if !ids.insert(i.id.as_str()) {
            problems.push(format!(
                "{} shares run id {} with another resource",
                i.address, i.id
            ));
        }
        match runs.iter().find(|r| r.id == i.id) {
            None => problems.push(format!("{}: the emulator has no run {}", i.address, i.id)),
            Some(r) => {
                if r.is_destroy || r.plan_only {
                    problems.push(format!(
                        "{}: run {} is not an apply run: {r:?}",
                        i.address, r.id
                    ));
                }
                if r.status != "applied" {
                    problems.push(format!(
                        "{}: run {} is {}, not applied",
                        i.address, r.id, r.status
                    ));
                }
                if r.workspace_id != i.workspace_id {
                    problems.push(format!(
                        "{}: run {} is in {}, the state says {}",
                        i.address, r.id, r.workspace_id, i.workspace_id
                    ));
                }
            }
        }
    }
    let mut wanted: BTreeMap<&str, usize> = BTreeMap::new();
    for i in instances {
        *wanted.entry(i.workspace_id.as_str()).or_default() += 1;
    }
    for (ws, want) in wanted {
        let got: Vec<String> = runs
            .iter()
            .filter(|r| r.workspace_id == ws && !r.is_destroy && !r.plan_only)
            .map(|r| format!("{}={}", r.id, r.status))
            .collect();
        if got.len() != want {
            problems.push(format!(
                "workspace {ws}: {} apply runs ({}), wanted {want}",
                got.len(),
                got.join(", ")
            ));
        }
    }
    problems.extend(non_final(&runs));
    problems
}

/// What is wrong after a destroy, given how many destroy runs each workspace should have got: exactly that
/// many destroy runs, each successful (`applied`, or `planned_and_finished` with nothing left to destroy), at
/// least one `applied`, and no run of those workspaces left non-final.
pub fn destroy_problems(wanted: &BTreeMap<String, usize>, runs: &[RunSummary]) -> Vec<String> {
    let mut problems = Vec::new();
    let runs: Vec<&RunSummary> = runs
        .iter()
        .filter(|r| wanted.contains_key(&r.workspace_id))
        .collect();
    for (ws, want) in wanted {
        let destroys: Vec<&&RunSummary> = runs
            .iter()
            .filter(|r| &r.workspace_id == ws && r.is_destroy)
            .collect();
        if destroys.len() != *want {
            problems.push(format!(
                "workspace {ws}: {} destroy runs ({:?}), wanted {want}",
                destroys.len(),
                destroys
                    .iter()
                    .map(|r| (&r.id, &r.status))
                    .collect::<Vec<_>>()
            ));
        }
        // A destroy run after the workspace was emptied has nothing to destroy and ends
        // `planned_and_finished`; that is success too, but one of them must have applied.
        if *want > 0 && !destroys.iter().any(|r| r.status == "applied") {
            problems.push(format!("workspace {ws}: no destroy run applied"));
        }
        for r in destroys {
            if r.status != "applied" && r.status != "planned_and_finished" {
                problems.push(format!(
                    "workspace {ws}: destroy run {} is {}",
                    r.id, r.status
                ));
            }
        }
    }
    problems.extend(non_final(&runs));
    problems
}

fn non_final(runs: &[&RunSummary]) -> Vec<String> {
    runs.iter()
        .filter(|r| !FINAL_STATUSES.contains(&r.status.as_str()))
        .map(|r| format!("run {} of {} is left {}", r.id, r.workspace_id, r.status))
        .collect()
}

/// Request figures from the emulator's counters: (total, served 429s, served 5xx).
pub fn request_figures(emu: &TestEmulator) -> (u64, u64, u64) {
    let counters = emu.requests()["counters"].clone();
    (
        counters["total"].as_u64().unwrap_or(0),
        counters["served_429"].as_u64().unwrap_or(0),
        counters["served_5xx"].as_u64().unwrap_or(0),
    )
}

/// Lines in a provider log (TF_LOG_PATH) containing `needle`.
pub fn log_lines_with(log: &Path, needle: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(needle))
        .count()
}

/// What the provider's client logs before each retry (crates/tfe-client/src/client/transport.rs).
pub const RETRY_LOG: &str = "retrying TFE request";

/// Text of Terraform's output that would tell the user about rate limiting.
pub fn rate_limit_mentions(out: &TerraformRun) -> Vec<String> {
    out.combined()
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            // "429" as a word, not inside a run or workspace id.
            l.split(|c: char| !c.is_ascii_alphanumeric())
                .any(|w| w == "429")
                || l.contains("rate limit")
                || l.contains("rate-limit")
                || l.contains("too many requests")
        })
        .map(str::to_string)
        .collect()
}
