//! One Terraform CLI against one emulator, for the end-to-end tests of `tfe_workspace_run`:
//! working directories, spawning and signalling Terraform, reading the state, acting as a person
//! through the API, and the emulator's record of what the provider asked.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::emulator::{RunSummary, TestEmulator};
pub use crate::terraform::{APPLY, DESTROY};
use crate::terraform::{
    DevOverrides, TerraformCli, TerraformRun, command, run_terraform, workdir_with,
};
use tfe_client::{TfeClient, TfeClientConfig};

/// The emulator's route of a run read, as its request log names it.
pub const RUN_ROUTE: &str = "GET /api/v2/runs/{id}";
/// The route of a run create.
pub const CREATE_ROUTE: &str = "POST /api/v2/runs";
/// The route of a run action (apply, discard, cancel).
pub const CONFIRM_ROUTE: &str = "POST /api/v2/runs/{id}/actions/{action}";
/// The route of a workspace read.
pub const WORKSPACE_ROUTE: &str = "GET /api/v2/workspaces/{id}";

/// One CLI against one emulator, in its own working directory.
pub struct Session<'a> {
    /// The emulator the provider talks to.
    pub emu: &'a TestEmulator,
    /// The CLI that runs.
    pub cli: &'a TerraformCli,
    /// The CLI configuration pointing at the built provider.
    pub overrides: &'a DevOverrides,
    /// The working directory, holding `main.tf` and the state.
    pub dir: tempfile::TempDir,
}

impl<'a> Session<'a> {
    /// A working directory with `main_tf` as its `main.tf`.
    pub fn new(
        emu: &'a TestEmulator,
        cli: &'a TerraformCli,
        overrides: &'a DevOverrides,
        main_tf: &str,
    ) -> Self {
        Session {
            emu,
            cli,
            overrides,
            dir: workdir_with(&[("main.tf", main_tf)]),
        }
    }

    /// The provider's environment: the emulator's address, token and CA.
    pub fn env(&self) -> Vec<(String, String)> {
        self.emu.provider_env()
    }

    /// Runs `terraform args...` to the end.
    pub fn terraform(&self, args: &[&str]) -> TerraformRun {
        self.terraform_with(args, &[])
    }

    /// Like [`terraform`](Self::terraform), with more environment.
    pub fn terraform_with(&self, args: &[&str], extra_env: &[(&str, &str)]) -> TerraformRun {
        let env = self.env();
        let mut env: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        env.extend_from_slice(extra_env);
        run_terraform(self.cli, self.dir.path(), self.overrides, args, &env)
    }

    /// Starts `terraform args...` without waiting, output captured, environment as `terraform`.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.spawn_with(args, &[])
    }

    /// Like [`spawn`](Self::spawn), with more environment.
    pub fn spawn_with(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Child {
        let env = self.env();
        let env = env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(extra_env.iter().copied());
        command(self.cli, self.dir.path(), self.overrides, args, env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, like a foreground job: Ctrl-C reaches the whole group.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", self.cli.label))
    }

    /// The single tfe_workspace_run instance in the state: (attributes, tainted?), or None.
    pub fn instance(&self) -> Option<(Value, bool)> {
        let text = std::fs::read_to_string(self.dir.path().join("terraform.tfstate")).ok()?;
        let state: Value = serde_json::from_str(&text).expect("state JSON");
        let instance = state["resources"]
            .as_array()?
            .iter()
            .find(|r| r["type"] == "tfe_workspace_run")?["instances"][0]
            .clone();
        if instance.is_null() {
            return None;
        }
        Some((
            instance["attributes"].clone(),
            instance["status"] == "tainted",
        ))
    }

    /// The run ID the instance records.
    pub fn state_id(&self) -> Option<String> {
        self.instance()
            .and_then(|(attrs, _)| attrs["id"].as_str().map(str::to_string))
    }
}

/// Sends `signal` to the process group of a child started by [`Session::spawn`].
pub fn signal_group(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, "--", &format!("-{}", child.id())])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} failed");
}

/// Collects a spawned terraform's output; kills its process group if it runs over `limit`.
pub fn wait_output(child: Child) -> TerraformRun {
    wait_output_within(child, Duration::from_secs(90))
}

/// Like [`wait_output`], within `limit`.
pub fn wait_output_within(mut child: Child, limit: Duration) -> TerraformRun {
    let until = Instant::now() + limit;
    while child.try_wait().expect("poll terraform").is_none() {
        if Instant::now() > until {
            signal_group(&child, "-KILL");
            let out: TerraformRun = child.wait_with_output().expect("terraform output").into();
            panic!("terraform ran over {limit:?}; killed\n{}", out.combined());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("terraform output").into()
}

/// A configuration with one `tfe_workspace_run.r`; `blocks` is the body after `workspace_id`.
pub fn config(workspace_id: &str, blocks: &str) -> String {
    format!(
        "resource \"tfe_workspace_run\" \"r\" {{\n  workspace_id = \"{workspace_id}\"\n{blocks}\n}}\n"
    )
}

/// An `apply` block with `manual_confirm = false` and `settings` (more lines of the block).
pub fn apply_block(settings: &str) -> String {
    format!("  apply {{\n    manual_confirm = false\n{settings}\n  }}\n")
}

/// A workspace for this CLI, with fast phases and `knobs` on top.
pub fn workspace(emu: &TestEmulator, cli: &TerraformCli, name: &str, knobs: Value) -> String {
    let slug: String = cli
        .label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let ws = emu.seed_workspace("acme", &format!("{name}-{slug}"));
    let mut all =
        json!({"plan_ms": 200, "apply_ms": 200, "cost_estimate_ms": 50, "policy_check_ms": 50});
    for (k, v) in knobs.as_object().cloned().unwrap_or_default() {
        all[k] = v;
    }
    emu.set_workspace_knobs(&ws, all);
    ws
}

/// Acts as a person in the UI, through the TFE API with its own User-Agent.
pub fn human<T, F, Fut>(emu: &TestEmulator, act: F) -> T
where
    T: Send + 'static,
    F: FnOnce(TfeClient) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T>,
{
    let config = TfeClientConfig {
        user_agent: Some("a-human".into()),
        ..emu.client_config()
    };
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(async move {
                let client = TfeClient::connect(config).await.expect("human connects");
                act(client).await
            })
    })
    .join()
    .expect("human thread")
}

/// Requests the provider (not the human or the admin API) made, by route.
pub fn provider_requests(emu: &TestEmulator, route: &str) -> usize {
    emu.requests()["requests"]
        .as_array()
        .expect("request log")
        .iter()
        .filter(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap_or(""),
                r["route"].as_str().unwrap_or("")
            ) == route
                && r["user_agent"]
                    .as_str()
                    .is_some_and(|ua| ua.starts_with("terraform-provider-tfe/"))
        })
        .count()
}

/// The runs' statuses, in order.
pub fn statuses(runs: &[RunSummary]) -> Vec<&str> {
    runs.iter().map(|r| r.status.as_str()).collect()
}

/// Waits until the workspace has a run in `status`; returns it.
pub fn await_run_status(
    emu: &TestEmulator,
    ws: &str,
    status: &str,
    within: Duration,
) -> RunSummary {
    let until = Instant::now() + within;
    loop {
        if let Some(run) = emu
            .workspace_runs(ws)
            .into_iter()
            .find(|r| r.status == status)
        {
            return run;
        }
        assert!(
            Instant::now() < until,
            "no run of {ws} reached {status} within {within:?}: {:?}",
            emu.workspace_runs(ws)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `assert!` that names the Terraform CLI and shows its whole output on failure.
#[macro_export]
macro_rules! check {
    ($cond:expr, $session:expr, $out:expr, $($what:tt)+) => {
        assert!($cond, "{}: {}\n{}", $session.cli.label, format!($($what)+), $out.combined())
    };
}
