//! End to end: the seed page's manual-confirmation example (examples/resources/tfe_workspace_run/
//! manual_confirm.tf, "a person confirms each plan in the UI") applied with Terraform against tfe-emulator,
//! while a real headless Chromium (Debian's `chromium`), driven by playwright-core (tests/browser/
//! confirm_run.cjs), walks the emulator's page to the run and clicks "Confirm & apply". Terraform must then
//! finish. Screenshots stay in target/e2e-web-page/ as the test's artifacts.
//!
//! Needs `make browser-tools` (chromium from apt, playwright-core into .tools/node); a missing piece fails the
//! test with what to run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use test_support::emulator::TestEmulator;
use test_support::runs::TerraformProcess;
use test_support::terraform::{APPLY, DevOverrides, current_terraform, repo_root, workdir_with};

const CHROMIUM: &str = "/usr/bin/chromium";

fn playwright_core() -> PathBuf {
    repo_root().join(".tools/node/node_modules/playwright-core")
}

/// Chromium, node and playwright-core, or a panic naming what is missing and how to install it.
fn browser_tools() -> (PathBuf, PathBuf) {
    let mut missing = Vec::new();
    if !Path::new(CHROMIUM).is_file() {
        missing.push(format!("Debian's chromium at {CHROMIUM}"));
    }
    let node = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("node"))
            .find(|p| p.is_file())
    });
    if node.is_none() {
        missing.push("node on PATH".to_string());
    }
    let pw = playwright_core();
    if !pw.join("package.json").is_file() {
        missing.push(format!("playwright-core in {}", pw.display()));
    }
    assert!(
        missing.is_empty(),
        "the web page test needs {}: run `make browser-tools` (installs chromium and nodejs with apt, \
         playwright-core with npm)",
        missing.join(", ")
    );
    (node.expect("checked above"), pw)
}

#[test]
fn a_person_confirms_the_manual_confirmation_example_on_the_page() {
    let (node, playwright) = browser_tools();
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace("acme", "app");
    // Long enough that the page shows the run planning before it needs confirmation.
    emu.set_workspace_knobs(&ws, json!({"plan_ms": 600, "apply_ms": 600}));

    let example = std::fs::read_to_string(
        repo_root().join("examples/resources/tfe_workspace_run/manual_confirm.tf"),
    )
    .expect("the manual-confirmation example");
    let dir = workdir_with(&[
        ("manual_confirm.tf", &example),
        ("variables.tf", "variable \"parent_workspace_id\" {}\n"),
    ]);
    let overrides = DevOverrides::new();
    let var = format!("-var=parent_workspace_id={ws}");
    let terraform = TerraformProcess::spawn(
        &current_terraform(),
        dir.path(),
        &overrides,
        &[APPLY, &[var.as_str()]].concat(),
        &emu.provider_env(),
        "apply",
    );

    let shots = repo_root().join("target/e2e-web-page");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let browser = Command::new(node)
        .arg(repo_root().join("tests/browser/confirm_run.cjs"))
        .env("TFE_EMULATOR_URL", &emu.base_url)
        .env("ORGANIZATION", "acme")
        .env("WORKSPACE", "app")
        .env("CHROMIUM", CHROMIUM)
        .env("PLAYWRIGHT_CORE", &playwright)
        .env("SCREENSHOT_DIR", &shots)
        .output()
        .expect("run node");
    let browser_out = format!(
        "{}{}",
        String::from_utf8_lossy(&browser.stdout),
        String::from_utf8_lossy(&browser.stderr)
    );
    assert!(
        browser.status.success(),
        "the browser could not confirm the run:\n{browser_out}"
    );

    let (out, _) = terraform.wait_within(Duration::from_secs(120));
    assert!(out.success, "terraform apply failed\n{}", out.combined());
    assert!(
        out.stdout.contains("1 added"),
        "terraform apply: {}",
        out.stdout
    );

    let runs = emu.workspace_runs(&ws);
    assert_eq!(runs.len(), 1, "one run: {runs:?}");
    assert_eq!(runs[0].status, "applied", "{runs:?}");
    assert!(
        browser_out.contains(&format!("confirmed: {}", runs[0].id)),
        "the page confirmed the run Terraform waited for:\n{browser_out}"
    );
    for shot in ["run-needs-confirmation.png", "run-applied.png"] {
        let len = std::fs::metadata(shots.join(shot)).map_or(0, |m| m.len());
        assert!(len > 10_000, "screenshot {shot} is missing or empty");
    }
}
