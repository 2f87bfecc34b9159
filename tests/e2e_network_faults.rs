//! End to end over a bad network: the emulator runs inside a network namespace the test creates, reached
//! from the host over a veth pair in a private /30 (see `test_support::netns`), and that link is degraded
//! with `tc` (netem loss and latency; tbf, a narrow slow link) or nftables TCP resets. Terraform and the
//! provider run on the host; the test's admin checks go through a second, unshaped veth pair.
//!
//! Each test applies then destroys three `tfe_workspace_run` resources, two on the same workspace, and checks
//! what a user relies on: Terraform succeeds within a bound, the state holds one distinct run per resource,
//! the emulator saw exactly one applied apply run per resource and exactly the destroy runs asked for, no run
//! is left unfinished, and the provider never panicked.
//!
//! Needs root, iproute2 (`ip`, `tc`), the kernel's netem qdisc for the netem test and `nft` for the reset
//! test: a missing one fails that test with a message saying what is missing.
//!
//! Its own test binary, not a module of `tests/e2e/`: it changes the host's network (namespaces, veth pairs,
//! nftables rules) and its time bounds assume nothing else loads the machine.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use test_support::emulator::{EmulatorOptions, TestEmulator};
use test_support::netns::Netns;
use test_support::runs::{
    RETRY_LOG, apply_problems, destroy_problems, log_lines_with, request_figures, terraform_within,
    workspace_run_instances,
};
use test_support::terraform::{
    APPLY, DESTROY, DevOverrides, TerraformCli, all_clis, current_terraform, workdir_with,
};

/// Apply plus destroy for one CLI must finish within this, faults included.
const PER_CLI_BOUND: Duration = Duration::from_secs(230);

/// Three resources: `a` and `b` on workspace `ws1`, `c` on `ws2`; each queues an apply and a destroy run.
fn config(ws1: &str, ws2: &str) -> String {
    let mut text = String::new();
    for (name, ws) in [("a", ws1), ("b", ws1), ("c", ws2)] {
        text.push_str(&format!(
            "resource \"tfe_workspace_run\" \"{name}\" {{\n  workspace_id = \"{ws}\"\n  apply {{\n    manual_confirm = false\n  }}\n  destroy {{\n    manual_confirm = false\n    wait_for_run   = true\n  }}\n}}\n\n"
        ));
    }
    text
}

fn slug(cli: &TerraformCli) -> String {
    cli.label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Creates the namespace and the emulator in it, applies `shape` to the link, then for each CLI applies and
/// destroys the three-resource configuration and checks the outcome.
fn apply_and_destroy_over(
    what: &str,
    clis: Vec<TerraformCli>,
    shape: &dyn Fn(&Netns, &TestEmulator),
) {
    let ns = Netns::create();
    // Declared after `ns`, so dropped (killed) before the namespace is deleted.
    let emu = TestEmulator::start_in_netns(&ns, EmulatorOptions::default());
    assert_eq!(emu.admin("GET", "/_emulator/health", None)["ok"], true);
    shape(&ns, &emu);
    let overrides = DevOverrides::new();
    for cli in clis {
        let deadline = Instant::now() + PER_CLI_BOUND;
        let knobs =
            json!({"plan_ms": 500, "apply_ms": 500, "cost_estimate_ms": 50, "policy_check_ms": 50});
        let ws1 = emu.seed_workspace("acme", &format!("net-1-{}", slug(&cli)));
        let ws2 = emu.seed_workspace("acme", &format!("net-2-{}", slug(&cli)));
        emu.set_workspace_knobs(&ws1, knobs.clone());
        emu.set_workspace_knobs(&ws2, knobs);
        let dir = workdir_with(&[("main.tf", &config(&ws1, &ws2))]);
        let log = dir.path().join("provider.log");
        let mut env = emu.provider_env();
        env.push(("TF_LOG_PROVIDER".into(), "DEBUG".into()));
        env.push(("TF_LOG_PATH".into(), log.display().to_string()));
        emu.reset_requests();

        let (out, apply_took) = terraform_within(
            &cli,
            dir.path(),
            &overrides,
            APPLY,
            &env,
            "apply",
            deadline.saturating_duration_since(Instant::now()),
        );
        let (apply_total, apply_429, apply_5xx) = request_figures(&emu);
        let runs = emu.runs();
        assert!(
            out.success,
            "{what}, {}: apply failed after {apply_took:?}\n{}\nruns: {runs:#?}",
            cli.label,
            out.combined()
        );
        let instances = workspace_run_instances(dir.path());
        assert_eq!(
            instances.len(),
            3,
            "{what}, {}: state instances {instances:?}",
            cli.label
        );
        let problems = apply_problems(&instances, &runs);
        assert!(
            problems.is_empty(),
            "{what}, {}: after apply:\n{}\nstate: {instances:#?}\nruns: {runs:#?}",
            cli.label,
            problems.join("\n")
        );

        emu.reset_requests();
        let (out, destroy_took) = terraform_within(
            &cli,
            dir.path(),
            &overrides,
            DESTROY,
            &env,
            "destroy",
            deadline.saturating_duration_since(Instant::now()),
        );
        let (destroy_total, destroy_429, destroy_5xx) = request_figures(&emu);
        let runs = emu.runs();
        assert!(
            out.success,
            "{what}, {}: destroy failed after {destroy_took:?}\n{}\nruns: {runs:#?}",
            cli.label,
            out.combined()
        );
        let left = workspace_run_instances(dir.path());
        assert!(
            left.is_empty(),
            "{what}, {}: still in the state: {left:?}",
            cli.label
        );
        let wanted = BTreeMap::from([(ws1.clone(), 2), (ws2.clone(), 1)]);
        let problems = destroy_problems(&wanted, &runs);
        assert!(
            problems.is_empty(),
            "{what}, {}: after destroy:\n{}\nruns: {runs:#?}",
            cli.label,
            problems.join("\n")
        );

        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            log_text.contains("terraform-provider-tfe"),
            "{what}, {}: the provider log {} has no provider lines, so the panic check would prove nothing",
            cli.label,
            log.display()
        );
        let panics = log_lines_with(&log, "panicked");
        assert_eq!(
            panics,
            0,
            "{what}, {}: the provider panicked:\n{}",
            cli.label,
            log_text
                .lines()
                .filter(|l| l.contains("panicked"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            !out.combined().contains("panicked"),
            "{what}, {}: panic in Terraform's output",
            cli.label
        );
        eprintln!(
            "[{what}] {}: apply {:.1}s ({apply_total} requests, {apply_429} 429s, {apply_5xx} 5xx), \
             destroy {:.1}s ({destroy_total} requests, {destroy_429} 429s, {destroy_5xx} 5xx), \
             {} client retries logged",
            cli.label,
            apply_took.as_secs_f64(),
            destroy_took.as_secs_f64(),
            log_lines_with(&log, RETRY_LOG),
        );
    }
    eprintln!("[{what}] link statistics:\n{}", ns.qdisc_stats());
    let relayed = ns.link_stats();
    if !relayed.is_null() {
        eprintln!("[{what}] relay: {relayed}");
        assert!(
            relayed["dropped"].as_u64().unwrap_or(0) > 0,
            "{what}: the impaired link dropped no frame: {relayed}"
        );
    }
}

/// 20% loss and 500 ms of latency: each direction of the link delays every frame 250 ms (a 500 ms round
/// trip) and drops 10% (so about 19% of round trips lose a packet one way or the other). The kernel's
/// netem qdisc is missing on this project's machines, so a relay in user space does it
/// (`Netns::impair`, crates/test-support/src/impaired_link.py); the test checks that it really dropped frames.
#[test]
fn lossy_slow_link_applies_and_destroys_once_per_resource() {
    apply_and_destroy_over("500 ms, 20% loss", all_clis(), &|ns, _| {
        ns.impair(250, 10);
    });
}

/// Connection resets: inside the namespace, nftables answers 3% of the TCP segments for the emulator's port on
/// the shaped address with a RST, so established connections die mid-request.
#[test]
fn connection_resets_nft_apply_and_destroy_once_per_resource() {
    apply_and_destroy_over("tcp resets", vec![current_terraform()], &|ns, emu| {
        ns.reset_share(emu.port(), 3);
    });
}

/// A narrow slow link without netem: tbf at 32 kbit/s with a one-packet burst on both ends, queueing up to 300 ms and dropping
/// what does not fit, so TLS handshakes and answers take hundreds of milliseconds and bursts lose packets.
#[test]
fn narrow_slow_link_tbf_applies_and_destroys_once_per_resource() {
    apply_and_destroy_over("tbf 32kbit", all_clis(), &|ns, _| {
        ns.shape(&["tbf", "rate", "32kbit", "burst", "1600", "latency", "300ms"]);
    });
}

/// Connection resets without nft: the emulator itself drops every 5th TFE API connection instead of
/// answering (its `reset` fault, handler not run), over the namespace link. Not a kernel RST on an
/// established stream like the nft variant, but the provider sees the same thing: a request that got no answer.
#[test]
fn emulator_dropped_connections_apply_and_destroy_once_per_resource() {
    apply_and_destroy_over("emulator resets", all_clis(), &|_, emu| {
        emu.add_fault(json!({"kind": "reset", "path": "/api/v2/*", "every_n": 5}));
    });
}
