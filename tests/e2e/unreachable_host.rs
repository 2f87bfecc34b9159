//! A provider pointed at a host that refuses connections, as a new user might point it (`hostname =
//! "127.0.0.1:1"`, or the same in TFE_HOSTNAME): the apply must fail within about 15 s, not sit in
//! "Still creating..." for the five-minute retry budget, with an error naming the host and what to check.
//! A host that answered before and then refuses is an outage and keeps the whole budget: the client's own
//! tests show that (crates/tfe-client, `a_host_that_answered_before_keeps_its_whole_retry_budget`).

use std::time::{Duration, Instant};

use test_support::terraform::{
    DevOverrides, TerraformCli, current_terraform, run_terraform, terraform_1_0_3, workdir_with,
};

const RESOURCE: &str = r#"
resource "tfe_workspace_run" "r" {
  workspace_id = "ws-nowhere"
  apply {
    manual_confirm = false
  }
}
"#;

/// Applies one run against a refusing host; checks the time it took and what the user reads.
fn refused(cli: &TerraformCli, provider_block: &str, env: &[(&str, &str)]) {
    let dir = workdir_with(&[("main.tf", &format!("{provider_block}{RESOURCE}"))]);
    let overrides = DevOverrides::new();
    let started = Instant::now();
    let out = run_terraform(
        cli,
        dir.path(),
        &overrides,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
        env,
    );
    let took = started.elapsed();
    let text = out.combined();
    assert!(!out.success, "{}: the apply must fail\n{text}", cli.label);
    assert!(
        took <= Duration::from_secs(30),
        "{}: failed only after {took:?} (the retry budget for a host that never answered is 15 s)\n{text}",
        cli.label
    );
    // Terraform wraps long lines of the diagnostic: read it as one line.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for what in [
        "Cannot reach the TFE API",
        "127.0.0.1:1 does not answer",
        "refused",
        "`hostname`",
        "TFE_HOSTNAME",
        "port",
    ] {
        assert!(
            flat.contains(what),
            "{}: {what:?} missing in\n{text}",
            cli.label
        );
    }
    assert!(!flat.contains("panicked"), "{text}");
    println!("{}: failed after {took:.1?}", cli.label);
}

#[test]
fn a_hostname_that_refuses_connections_fails_the_apply_within_seconds_naming_it() {
    refused(
        &current_terraform(),
        "provider \"tfe\" {\n  hostname = \"127.0.0.1:1\"\n  token    = \"some-token\"\n}\n",
        &[],
    );
}

#[test]
fn tfe_hostname_that_refuses_connections_fails_the_same_way_with_terraform_1_0_3() {
    refused(
        &terraform_1_0_3(),
        "",
        &[("TFE_HOSTNAME", "127.0.0.1:1"), ("TFE_TOKEN", "some-token")],
    );
}
