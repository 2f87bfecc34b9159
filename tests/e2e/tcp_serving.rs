//! The provider served over TCP on 127.0.0.1, as it is on Windows, made to on Linux with
//! `TFPLUGIN_NETWORK=tcp`: both Terraform CLIs apply and destroy through it with the mutual TLS
//! Terraform always asks for, and a Ctrl-C during an apply stops Terraform and the provider as it
//! does over a unix socket. Terraform's own debug log says which network and port it connected to.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use test_support::check;
use test_support::emulator::TestEmulator;
use test_support::session::*;
use test_support::terraform::{DevOverrides, all_clis};

/// The switch this test turns on, and Terraform's debug log beside it.
fn tcp_env(log: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("TFPLUGIN_NETWORK", "tcp".to_string()),
        ("TF_LOG", "TRACE".to_string()),
        ("TF_LOG_PATH", log.display().to_string()),
    ]
}

fn as_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Terraform's log, in the lines about launching the provider (the configurations here use no other
/// provider): go-plugin's "starting plugin" and "plugin process exited", and the provider's own
/// "plugin server listening" (with the network, address and whether TLS is on).
struct Launches {
    started: usize,
    exited: usize,
    listening: Vec<String>,
}

fn launches(log: &Path) -> Launches {
    let text = std::fs::read_to_string(log)
        .unwrap_or_else(|e| panic!("Terraform wrote no log at {}: {e}", log.display()));
    let count = |needle: &str| text.lines().filter(|l| l.contains(needle)).count();
    Launches {
        started: count("provider: starting plugin:"),
        exited: count("provider: plugin process exited:"),
        listening: text
            .lines()
            .filter(|l| l.contains("provider.terraform-provider-tfe: plugin server listening"))
            .map(str::to_string)
            .collect(),
    }
}

/// Every launch served TCP on 127.0.0.1, on a port within the PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT
/// Terraform sets (10000..=25000), with TLS (Terraform connected, so with its client certificate),
/// and exited by itself: none was left to be killed after Shutdown.
fn assert_tcp_with_tls(log: &Path, label: &str, what: &str) {
    let found = launches(log);
    assert!(
        found.started > 0 && found.listening.len() == found.started,
        "{label} {what}: {} launches of the provider but {} 'plugin server listening' lines in {}",
        found.started,
        found.listening.len(),
        log.display()
    );
    for line in &found.listening {
        assert!(
            line.contains("network=tcp") && line.contains("tls=true"),
            "{label} {what}: the provider did not serve TCP with TLS: {line}"
        );
        let port = line
            .split("address=127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("{label} {what}: no 127.0.0.1 port in {line}"));
        assert!(
            (10000..=25000).contains(&port),
            "{label} {what}: port {port} outside Terraform's PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT"
        );
    }
    let text = std::fs::read_to_string(log).unwrap();
    assert!(
        found.exited == found.started && !text.contains("plugin failed to exit gracefully"),
        "{label} {what}: {} launches, {} exits seen, or Terraform had to kill one; log {}",
        found.started,
        found.exited,
        log.display()
    );
}

#[test]
fn both_clis_apply_and_destroy_through_tcp_with_mutual_tls() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "tcp", json!({}));
        let blocks = format!(
            "{}  destroy {{\n    manual_confirm = false\n  }}\n",
            apply_block("")
        );
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, &blocks));
        let log = s.dir.path().join("terraform.log");
        let env = tcp_env(&log);

        let out = s.terraform_with(APPLY, &as_refs(&env));
        check!(out.success, s, out, "apply over TCP failed");
        assert_eq!(
            statuses(&emu.workspace_runs(&ws)),
            ["applied"],
            "{}",
            cli.label
        );
        assert_tcp_with_tls(&log, &cli.label, "apply");

        std::fs::remove_file(&log).unwrap();
        let out = s.terraform_with(DESTROY, &as_refs(&env));
        check!(out.success, s, out, "destroy over TCP failed");
        assert!(
            s.instance().is_none(),
            "{}: state still holds the run",
            cli.label
        );
        let runs = emu.workspace_runs(&ws);
        assert_eq!(runs.len(), 2, "{}: {runs:?}", cli.label);
        assert!(
            runs.iter().all(|r| r.status == "applied") && runs.iter().any(|r| r.is_destroy),
            "{}: no applied destroy run: {runs:?}",
            cli.label
        );
        assert_tcp_with_tls(&log, &cli.label, "destroy");
    }
}

#[test]
fn ctrl_c_over_tcp_stops_terraform_and_the_provider_as_over_a_socket() {
    let emu = TestEmulator::start();
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        let ws = workspace(&emu, &cli, "tcp-sigint", json!({}));
        let block = "  apply {\n    manual_confirm = true\n  }\n";
        let s = Session::new(&emu, &cli, &overrides, &config(&ws, block));
        let log = s.dir.path().join("terraform.log");
        let env = tcp_env(&log);
        let child = s.spawn_with(APPLY, &as_refs(&env));
        let run = await_run_status(&emu, &ws, "planned", Duration::from_secs(30));
        // Let the provider poll once after the plan, so it is waiting for a person.
        std::thread::sleep(Duration::from_millis(1500));
        let sent = Instant::now();
        // The whole group, provider included: it must ignore it and let Terraform stop it.
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
        let (attrs, tainted) = s.instance().expect("state keeps the run");
        assert_eq!(attrs["id"], run.id.as_str());
        assert!(
            tainted,
            "{}: the interrupted run must be tainted",
            cli.label
        );
        assert_eq!(statuses(&emu.workspace_runs(&ws)), ["planned"]);
        assert_eq!(provider_requests(&emu, CONFIRM_ROUTE), 0);

        assert_tcp_with_tls(&log, &cli.label, "interrupted apply");
        let text = std::fs::read_to_string(&log).unwrap();
        // StopProvider, then Shutdown answered: go-plugin saw the process exit on its own.
        assert!(
            text.contains("plugin process exited")
                && !text.contains("plugin failed to exit gracefully"),
            "{}: the provider did not exit by itself after the Ctrl-C; log {}",
            cli.label,
            log.display()
        );
    }
}

/// The provider launched as Terraform launches it, with `env` on top; its exit status and stderr.
fn launch_and_fail(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_terraform-provider-tfe"));
    for (key, _) in std::env::vars() {
        if key.starts_with("TF_") || key.starts_with("PLUGIN_") || key.starts_with("TFPLUGIN_") {
            command.env_remove(key);
        }
    }
    let out = command
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("start the provider");
    assert!(
        out.stdout.is_empty(),
        "a handshake line was printed: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_network_settings_stop_the_provider_with_a_message_naming_them() {
    let (code, stderr) = launch_and_fail(&[("TFPLUGIN_NETWORK", "pipe")]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(r#"TFPLUGIN_NETWORK="pipe" is not a network this plugin serves on: use "unix" (the default) or "tcp""#),
        "{stderr}"
    );

    let (code, stderr) = launch_and_fail(&[
        ("TFPLUGIN_NETWORK", "tcp"),
        ("PLUGIN_MIN_PORT", "25000"),
        ("PLUGIN_MAX_PORT", "10000"),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("PLUGIN_MIN_PORT=\"25000\" is greater than PLUGIN_MAX_PORT=10000"),
        "{stderr}"
    );

    // Every port of the range taken: the error names the range.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, stderr) = launch_and_fail(&[
        ("TFPLUGIN_NETWORK", "tcp"),
        ("PLUGIN_MIN_PORT", &port),
        ("PLUGIN_MAX_PORT", &port),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "could not listen on 127.0.0.1, every port from {port} to {port}"
        )),
        "{stderr}"
    );
}
