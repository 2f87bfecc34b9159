//! End to end: the three use cases of the `tfe_workspace_run` page, as examples/use-cases/ has them, applied
//! and destroyed with both Terraform CLIs against tfe-emulator.
//!
//! The emulator stands in for the workspaces' own configurations through its server-wide knobs: every
//! workspace's apply writes the outputs of `outputs` (use case 1), every plan needs the `region` variable of
//! `required_variables` (use case 2). Each test checks what a user would see: Terraform's outcome and
//! outputs, the emulator's record of runs (their order, why one failed), and that the API token is in
//! neither the state nor the provider's log.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use test_support::emulator::{RunSummary, TestEmulator};
use test_support::terraform::{
    APPLY, DESTROY, DevOverrides, TerraformCli, TerraformRun, all_clis, run_terraform,
    workdir_from_examples,
};
use tfe_client::models::VariableCategory;

const DEPENDENT: &str = "examples/use-cases/dependent-workspaces";
const CHILD_CONFIGURATION: &str = "examples/use-cases/dependent-workspaces/child-configuration";
const QUEUE_ALL_RUNS: &str = "examples/use-cases/queue-all-runs";
const SAFE_DESTROY: &str = "examples/use-cases/safe-destroy";

const PLAN: &[&str] = &[
    "plan",
    "-input=false",
    "-no-color",
    "-lock=false",
    "-detailed-exitcode",
];

const ENDPOINT: &str = "https://cluster.example.internal:6443";
const CA_CERTIFICATE: &str = "-----BEGIN CERTIFICATE----- emulated";

/// Phases short enough for tests; the provider still polls every status.
fn fast(extra: Value) -> Value {
    let mut knobs =
        json!({"plan_ms": 200, "apply_ms": 200, "cost_estimate_ms": 50, "policy_check_ms": 50});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        knobs[k] = v;
    }
    knobs
}

/// Terraform in `dir` against `emu`, with the provider's debug log in `dir/provider.log`.
fn terraform(
    emu: &TestEmulator,
    cli: &TerraformCli,
    overrides: &DevOverrides,
    dir: &Path,
    args: &[&str],
) -> TerraformRun {
    let log = dir.join("provider.log").display().to_string();
    let mut env = emu.provider_env();
    env.push(("TF_LOG_PROVIDER".into(), "DEBUG".into()));
    env.push(("TF_LOG_PATH".into(), log));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    run_terraform(cli, dir, overrides, args, &env)
}

fn ok(cli: &TerraformCli, what: &str, out: &TerraformRun) {
    assert!(
        out.success,
        "{}: {what} failed\n{}",
        cli.label,
        out.combined()
    );
}

/// `terraform output -json` of `dir`.
fn outputs(emu: &TestEmulator, cli: &TerraformCli, o: &DevOverrides, dir: &Path) -> Value {
    let out = terraform(emu, cli, o, dir, &["output", "-json"]);
    ok(cli, "output", &out);
    serde_json::from_str(&out.stdout).expect("output -json")
}

/// The token never reaches the state or the provider's log (Terraform's log of this directory).
fn assert_no_token(emu: &TestEmulator, cli: &TerraformCli, dir: &Path) {
    for file in [
        "terraform.tfstate",
        "terraform.tfstate.backup",
        "provider.log",
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        assert!(
            !text.contains(&emu.token),
            "{}: the API token is in {file}",
            cli.label
        );
    }
    let log = std::fs::read_to_string(dir.join("provider.log")).unwrap_or_default();
    assert!(
        log.contains("tfe_variable") || log.contains("tfe_workspace"),
        "{}: the provider's log is empty, so the check above proves nothing",
        cli.label
    );
}

/// Every request since the last reset was one the emulator serves: neither Terraform nor the provider asked for
/// a route it lacks (the request log marks those `unserved`).
fn assert_all_served(emu: &TestEmulator, cli: &TerraformCli) {
    let unserved: Vec<Value> = emu.requests()["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["unserved"] == true)
        .cloned()
        .collect();
    assert!(
        unserved.is_empty(),
        "{}: requests the emulator does not serve: {unserved:?}",
        cli.label
    );
}

/// Every run the emulator saw, those of deleted workspaces included, in creation order, as raw JSON (with
/// `plan_failure`, `status_timestamps`).
fn all_runs(emu: &TestEmulator) -> Vec<Value> {
    let mut runs: Vec<Value> = Vec::new();
    for path in ["/_emulator/runs", "/_emulator/runs/deleted"] {
        runs.extend(
            emu.admin("GET", path, None)["runs"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
    }
    runs.sort_by_key(|r| r["order"].as_u64());
    runs
}

/// `workspace:apply|destroy:status` of each run, in creation order.
fn run_story(runs: &[Value]) -> Vec<String> {
    runs.iter()
        .map(|r| {
            format!(
                "{}:{}:{}",
                r["workspace"].as_str().unwrap_or("?"),
                if r["is_destroy"] == true {
                    "destroy"
                } else {
                    "apply"
                },
                r["status"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// The earliest of a run's status times (RFC 3339 in UTC with milliseconds, so they sort as text).
fn first_stamp(run: &Value) -> String {
    run["status_timestamps"]
        .as_object()
        .and_then(|stamps| stamps.values().filter_map(Value::as_str).min())
        .expect("a run has status times")
        .to_string()
}

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(future)
}

// ------------------------------------------------------------------ use case 1

#[test]
fn a_child_workspace_runs_after_its_parent_and_reads_its_outputs_with_both_clis() {
    for cli in all_clis() {
        let emu = TestEmulator::start();
        // The parent's configuration outputs the cluster's endpoint and CA; its state is processed a
        // moment after the apply, as HCP Terraform does, so tfe_outputs has to wait for it.
        emu.set_default_knobs(fast(json!({
            "outputs": {"cluster_endpoint": ENDPOINT, "cluster_ca_certificate": CA_CERTIFICATE},
            "sensitive_outputs": ["cluster_ca_certificate"],
            "state_processing_ms": 1500,
        })));
        // The child configuration's terraform_remote_state takes the token as a user gives it to Terraform:
        // the CLI configuration's credentials for the host.
        let overrides = DevOverrides::with_extra(&format!(
            "credentials {:?} {{\n  token = {:?}\n}}\n",
            emu.hostname, emu.token
        ));
        let dir = workdir_from_examples(DEPENDENT);
        let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
        ok(&cli, "apply", &out);
        let shown = outputs(&emu, &cli, &overrides, dir.path());
        assert_eq!(
            shown["cluster_endpoint"]["value"], ENDPOINT,
            "{}",
            cli.label
        );

        // The parent's apply ended before the child's run was queued.
        let runs = all_runs(&emu);
        assert_eq!(
            run_story(&runs),
            ["cluster:apply:applied", "app:apply:applied"],
            "{}",
            cli.label
        );
        assert_eq!(runs[0]["id"], shown["parent_run_id"]["value"]);
        assert_eq!(runs[1]["id"], shown["child_run_id"]["value"]);
        let parent_applied = runs[0]["status_timestamps"]["applied-at"].as_str().unwrap();
        assert!(
            parent_applied <= first_stamp(&runs[1]).as_str(),
            "{}: {runs:?}",
            cli.label
        );

        // The child workspace got the parent's endpoint as a variable, set before its run.
        let child_id = runs[1]["workspace_id"].as_str().unwrap().to_string();
        let variables = block_on(async { emu.client().await.variables(&child_id).await.unwrap() });
        assert_eq!(variables.len(), 1, "{}", cli.label);
        let variable = &variables[0].attributes;
        assert_eq!(
            (variable.key.as_str(), variable.value.as_deref()),
            ("cluster_endpoint", Some(ENDPOINT))
        );
        assert_eq!(variable.category, VariableCategory::Terraform);

        // The child workspace's own configuration reads the same outputs through Terraform's remote state.
        let child = workdir_from_examples(CHILD_CONFIGURATION);
        let hostname = format!("hostname={}", emu.hostname);
        let mut args = APPLY.to_vec();
        args.extend(["-var", &hostname]);
        assert_all_served(&emu, &cli);
        emu.reset_requests();
        let out = terraform(&emu, &cli, &overrides, child.path(), &args);
        ok(&cli, "apply of the child configuration", &out);
        assert!(
            out.stdout.contains("cluster_ca_certificate = <sensitive>"),
            "{}: the parent's state marks it sensitive\n{}",
            cli.label,
            out.stdout
        );
        let read = outputs(&emu, &cli, &overrides, child.path());
        assert_eq!(read["cluster_endpoint"]["value"], ENDPOINT, "{}", cli.label);
        assert_eq!(
            read["cluster_ca_certificate"]["value"], CA_CERTIFICATE,
            "{}",
            cli.label
        );
        assert_eq!(
            emu.request_count("GET /api/v2/workspaces/{id}/current-state-version"),
            1,
            "{}: Terraform's remote backend read the parent's current state version",
            cli.label
        );

        // Nothing drifts: the variable, the runs and the outputs read back as configured.
        let out = terraform(&emu, &cli, &overrides, dir.path(), PLAN);
        ok(&cli, "plan after apply (exit 2 means changes)", &out);

        let out = terraform(&emu, &cli, &overrides, dir.path(), DESTROY);
        ok(&cli, "destroy", &out);
        assert_eq!(
            run_story(&all_runs(&emu)),
            [
                "cluster:apply:applied",
                "app:apply:applied",
                "app:destroy:applied",
                "cluster:destroy:applied"
            ],
            "{}: the child's destroy run before the parent's",
            cli.label
        );
        assert!(
            emu.runs().is_empty(),
            "{}: both workspaces deleted",
            cli.label
        );
        assert_no_token(&emu, &cli, dir.path());
        assert_all_served(&emu, &cli);
    }
}

// ------------------------------------------------------------------ use case 2

/// The position in the request log of the first request with `method` whose path ends with `path_suffix`.
fn request_position(log: &[Value], method: &str, path_suffix: &str) -> Option<usize> {
    log.iter().position(|r| {
        r["method"] == method && r["path"].as_str().is_some_and(|p| p.ends_with(path_suffix))
    })
}

#[test]
fn queue_all_runs_starts_before_its_variables_and_a_workspace_run_waits_for_them_with_both_clis() {
    for cli in all_clis() {
        let emu = TestEmulator::start();
        // Both workspaces' configuration declares `variable "region"` without a default.
        emu.set_default_knobs(fast(json!({"required_variables": ["region"]})));
        let overrides = DevOverrides::new();
        let dir = workdir_from_examples(QUEUE_ALL_RUNS);
        let out = terraform(&emu, &cli, &overrides, dir.path(), APPLY);
        ok(&cli, "apply", &out);
        let steady_run = outputs(&emu, &cli, &overrides, dir.path())["steady_run_id"]["value"]
            .as_str()
            .unwrap()
            .to_string();

        // wait_for_run = false: Terraform did not wait; the run goes on and applies.
        emu.wait_for_status(&steady_run, "applied", Duration::from_secs(30));
        let runs = all_runs(&emu);
        let eager: Vec<&Value> = runs.iter().filter(|r| r["workspace"] == "eager").collect();
        let steady: Vec<&Value> = runs.iter().filter(|r| r["workspace"] == "steady").collect();
        assert_eq!(
            run_story(&runs),
            ["eager:apply:errored", "steady:apply:applied"],
            "{}",
            cli.label
        );
        // The race, as the emulator recorded it: the initial run planned before the variable existed.
        assert_eq!(
            eager[0]["plan_failure"], "No value for required variable: region",
            "{}",
            cli.label
        );
        assert_eq!(eager[0]["message"], "Queued automatically");
        assert_eq!(steady[0]["id"], steady_run.as_str());
        assert_eq!(steady[0]["plan_failure"], Value::Null);
        assert_eq!(
            steady[0]["auto_apply"], true,
            "wait_for_run = false auto-applies"
        );

        let eager_plan = eager[0]["plan_id"].as_str().unwrap().to_string();
        let (plan_log, eager_variables, steady_variables) = block_on(async {
            let client = emu.client().await;
            let plan = client.plan(&eager_plan).await.unwrap();
            let url = plan.attributes.log_read_url.clone().expect("a plan log");
            let log = client.read_log(&url).await.unwrap().text;
            let eager = client
                .variables(eager[0]["workspace_id"].as_str().unwrap())
                .await
                .unwrap();
            let steady = client
                .variables(steady[0]["workspace_id"].as_str().unwrap())
                .await
                .unwrap();
            (log, eager, steady)
        });
        assert!(
            plan_log.contains("No value for required variable") && plan_log.contains("\"region\""),
            "{}: the plan log says why\n{plan_log}",
            cli.label
        );
        // The variable did arrive, too late for that run.
        assert_eq!(eager_variables.len(), 1, "{}", cli.label);
        let mut keys: Vec<(&str, Option<&str>, bool)> = steady_variables
            .iter()
            .map(|v| {
                (
                    v.attributes.key.as_str(),
                    v.attributes.value.as_deref(),
                    v.attributes.sensitive,
                )
            })
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                ("CLOUD_API_TOKEN", None, true),
                ("region", Some("eu-west-1"), false)
            ],
            "{}: the sensitive value is never shown",
            cli.label
        );

        // The steady run was created after both of its variables.
        let log = emu.requests()["requests"].as_array().cloned().unwrap();
        let steady_ws = steady[0]["workspace_id"].as_str().unwrap();
        let vars_path = format!("/workspaces/{steady_ws}/vars");
        let variable_creates: Vec<usize> = log
            .iter()
            .enumerate()
            .filter(|(_, r)| r["method"] == "POST" && r["path"] == format!("/api/v2{vars_path}"))
            .map(|(i, _)| i)
            .collect();
        let run_create = request_position(&log, "POST", "/api/v2/runs").expect("a run create");
        assert_eq!(variable_creates.len(), 2, "{}", cli.label);
        assert!(
            variable_creates.iter().all(|&i| i < run_create),
            "{}",
            cli.label
        );

        let out = terraform(&emu, &cli, &overrides, dir.path(), PLAN);
        ok(&cli, "plan after apply (exit 2 means changes)", &out);
        let out = terraform(&emu, &cli, &overrides, dir.path(), DESTROY);
        ok(&cli, "destroy", &out);
        assert_eq!(
            run_story(&all_runs(&emu)),
            [
                "eager:apply:errored",
                "steady:apply:applied",
                "steady:destroy:applied"
            ],
            "{}",
            cli.label
        );
        assert!(
            emu.runs().is_empty(),
            "{}: both workspaces deleted",
            cli.label
        );
        let state = std::fs::read_to_string(dir.path().join("terraform.tfstate")).unwrap();
        assert!(!state.contains("not-a-real-token"), "{}", cli.label);
        assert_no_token(&emu, &cli, dir.path());
        assert_all_served(&emu, &cli);
        let log = std::fs::read_to_string(dir.path().join("provider.log")).unwrap_or_default();
        assert!(
            !log.contains("not-a-real-token"),
            "{}: a sensitive variable's value is in the provider's log",
            cli.label
        );
    }
}

// ------------------------------------------------------------------ use case 3

/// The example without its `destroy` block.
fn without_destroy_block(dir: &Path) {
    let path = dir.join("main.tf");
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("\n  destroy {").expect("a destroy block");
    let end = start + text[start..].find("\n  }\n").expect("its end") + "\n  }\n".len();
    std::fs::write(&path, format!("{}\n{}", &text[..start], &text[end..])).unwrap();
}

#[test]
fn a_destroy_run_empties_the_workspace_before_its_safe_delete_and_without_one_the_delete_refuses() {
    for cli in all_clis() {
        let emu = TestEmulator::start();
        emu.set_default_knobs(fast(json!({})));
        let overrides = DevOverrides::new();
        let dir = workdir_from_examples(SAFE_DESTROY);
        ok(
            &cli,
            "apply",
            &terraform(&emu, &cli, &overrides, dir.path(), APPLY),
        );
        let workspace_id = emu.runs()[0].workspace_id.clone();
        let out = terraform(&emu, &cli, &overrides, dir.path(), DESTROY);
        ok(&cli, "destroy", &out);
        let runs = all_runs(&emu);
        assert_eq!(
            run_story(&runs),
            ["app:apply:applied", "app:destroy:applied"],
            "{}",
            cli.label
        );
        // The safe delete came after the destroy run had applied, and it was a safe delete.
        let destroyed_at = runs[1]["status_timestamps"]["applied-at"]
            .as_str()
            .unwrap()
            .to_string();
        let log = emu.requests()["requests"].as_array().cloned().unwrap();
        let safe_delete = log
            .iter()
            .find(|r| {
                r["method"] == "POST"
                    && r["path"] == format!("/api/v2/workspaces/{workspace_id}/actions/safe-delete")
            })
            .unwrap_or_else(|| panic!("{}: no safe delete", cli.label));
        assert_eq!(safe_delete["status"], 204, "{}", cli.label);
        assert!(
            safe_delete["at"].as_str().unwrap() >= destroyed_at.as_str(),
            "{}: deleted at {} before the destroy run applied at {destroyed_at}",
            cli.label,
            safe_delete["at"]
        );
        assert_no_token(&emu, &cli, dir.path());
        assert_all_served(&emu, &cli);

        // Without the destroy block nothing empties the workspace: the safe delete refuses and says what to do.
        let dir = workdir_from_examples(SAFE_DESTROY);
        without_destroy_block(dir.path());
        ok(
            &cli,
            "apply without a destroy block",
            &terraform(&emu, &cli, &overrides, dir.path(), APPLY),
        );
        let out = terraform(&emu, &cli, &overrides, dir.path(), DESTROY);
        assert!(
            !out.success,
            "{}: the destroy should fail\n{}",
            cli.label,
            out.combined()
        );
        let said = out.combined().replace('\n', " ");
        for words in [
            "Workspace not deleted",
            "not safe",
            "tfe_workspace_run with a destroy block",
            "force_delete = true",
        ] {
            assert!(
                said.contains(words),
                "{}: no {words:?} in {said}",
                cli.label
            );
        }
        assert!(!said.contains("deleted.."), "{}: {said}", cli.label);
        let remaining: Vec<RunSummary> = emu.runs();
        assert_eq!(
            remaining
                .iter()
                .map(|r| r.status.as_str())
                .collect::<Vec<_>>(),
            ["applied"],
            "{}: the workspace is still there, with its one apply run",
            cli.label
        );
    }
}
