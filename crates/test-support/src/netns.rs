//! A network namespace of the test's own, joined to the host by two veth pairs, each in a private
//! /30 that exists only between the host and that namespace:
//!
//! - the *shaped* link (`10.200.X.1` on the host, `10.200.X.2` inside), which a test slows down or breaks
//!   with `tc` (netem, tbf) or nftables rules, and which Terraform and the provider use;
//! - the *control* link (`10.200.X.5` on the host, `10.200.X.6` inside), never shaped, which the test's
//!   own admin requests to the emulator use, so that checking the outcome does not depend on the faults.
//!
//! Traffic goes only to those addresses. Everything is removed when the [`Netns`] is dropped, also when the
//! test fails: processes left in the namespace (only ones the test started: the namespace is new) are
//! killed by pid, then both veth pairs and the namespace are deleted.
//!
//! Needs root and `ip` (iproute2); shaping needs `tc` and the kernel's qdisc, and resets need `nft`. A
//! missing one fails the test with a message saying what is missing and how to get it.

use std::net::Ipv4Addr;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Runs a command, returning its output; panics with `what_missing` if the program cannot be started.
fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run `{program}` ({e}): these tests need {program} (Debian/Ubuntu: `apt-get install {}`) and root",
            match program {
                "ip" | "tc" => "iproute2",
                "nft" => "nftables",
                other => other,
            }
        )
    })
}

/// Runs a command that must succeed; the panic names the command and its stderr.
fn must(program: &str, args: &[&str]) {
    let out = run(program, args);
    assert!(
        out.status.success(),
        "`{program} {}` failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// A namespace with a shaped and a control link to the host; see the module docs.
pub struct Netns {
    /// The namespace's name, for `ip netns exec`.
    pub name: String,
    /// Host end of the shaped link.
    pub host_dev: String,
    /// Namespace end of the shaped link.
    pub ns_dev: String,
    /// Host end of the control link.
    pub ctl_host_dev: String,
    /// The namespace's address on the shaped link (what the provider connects to).
    pub ns_ip: Ipv4Addr,
    /// The host's address on the shaped link.
    pub host_ip: Ipv4Addr,
    /// The namespace's address on the control link (what the admin helpers connect to).
    pub ctl_ns_ip: Ipv4Addr,
    created_links: Vec<String>,
    created_ns: bool,
    /// Set by [`Netns::impair`]: the relay process and its namespace, removed on drop.
    impaired: std::sync::Mutex<Option<Impairment>>,
}

/// A user-space relay standing in the shaped link (see [`Netns::impair`]).
struct Impairment {
    relay: std::process::Child,
    wire_ns: String,
    stats_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Netns {
    /// Creates a fresh namespace `tfnl-<pid>-<n>` and its two links, with a /24 `10.200.X.0` that no
    /// interface on the host uses yet. Panics (after cleaning up) if `ip netns` does not work here.
    pub fn create() -> Netns {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let name = format!("tfnl-{pid}-{n}");
        // Interface names are at most 15 bytes.
        let tag = format!("{:x}{n}", pid % 0xfffff);
        let host_dev = format!("nl{tag}h");
        let ns_dev = format!("nl{tag}n");
        let ctl_host_dev = format!("nc{tag}h");
        let ctl_ns_dev = format!("nc{tag}n");
        let x = free_subnet(pid, n);
        let mut me = Netns {
            name: name.clone(),
            host_dev: host_dev.clone(),
            ns_dev: ns_dev.clone(),
            ctl_host_dev: ctl_host_dev.clone(),
            ns_ip: Ipv4Addr::new(10, 200, x, 2),
            host_ip: Ipv4Addr::new(10, 200, x, 1),
            ctl_ns_ip: Ipv4Addr::new(10, 200, x, 6),
            created_links: Vec::new(),
            created_ns: false,
            impaired: std::sync::Mutex::new(None),
        };
        let out = run("ip", &["netns", "add", &name]);
        assert!(
            out.status.success(),
            "`ip netns add {name}` failed: {}. These tests create their own network namespace and need root \
             (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2's `ip`",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        me.created_ns = true;
        for (h, inner, host_addr, ns_addr) in [
            (
                &host_dev,
                &ns_dev,
                format!("10.200.{x}.1/30"),
                format!("10.200.{x}.2/30"),
            ),
            (
                &ctl_host_dev,
                &ctl_ns_dev,
                format!("10.200.{x}.5/30"),
                format!("10.200.{x}.6/30"),
            ),
        ] {
            must(
                "ip",
                &["link", "add", h, "type", "veth", "peer", "name", inner],
            );
            me.created_links.push(h.clone());
            must("ip", &["link", "set", inner, "netns", &name]);
            must("ip", &["addr", "add", &host_addr, "dev", h]);
            must("ip", &["link", "set", h, "up"]);
            me.exec_ok(&["ip", "addr", "add", &ns_addr, "dev", inner]);
            me.exec_ok(&["ip", "link", "set", inner, "up"]);
        }
        me.exec_ok(&["ip", "link", "set", "lo", "up"]);
        me
    }

    /// Puts latency and packet loss on the shaped link without the kernel's netem (which these machines
    /// lack): the link is rebuilt as host end <-> relay <-> namespace end, the relay being
    /// `impaired_link.py` (beside this file) in a second namespace of the test's own, forwarding raw Ethernet
    /// frames in both directions, each dropped with `loss_percent` or delivered `delay_ms` later. The
    /// addresses stay the same, so a server listening on all addresses in the namespace keeps serving.
    /// Offloads are turned off (`ethtool`) so frames stay within the MTU. Needs python3 and ethtool.
    pub fn impair(&self, delay_ms: u32, loss_percent: u32) {
        let mut slot = self.impaired.lock().unwrap();
        assert!(slot.is_none(), "the link is impaired already");
        let wire_ns = format!("{}-w", self.name);
        let (wire_a, wire_b) = (
            format!("{}a", &self.host_dev[..self.host_dev.len() - 1]),
            format!("{}b", &self.host_dev[..self.host_dev.len() - 1]),
        );
        must("ip", &["netns", "add", &wire_ns]);
        // From here on the relay's namespace is cleaned up by Drop, even if a step fails.
        let dir = tempfile::tempdir().expect("temp dir for the relay");
        let stats_file = dir.path().join("link-stats.json");
        let host_addr = format!("{}/30", self.host_ip);
        let ns_addr = format!("{}/30", self.ns_ip);
        // Deleting one end of the old pair deletes both.
        must("ip", &["link", "del", &self.host_dev]);
        must(
            "ip",
            &[
                "link",
                "add",
                &self.host_dev,
                "type",
                "veth",
                "peer",
                "name",
                &wire_a,
            ],
        );
        must(
            "ip",
            &[
                "link",
                "add",
                &self.ns_dev,
                "type",
                "veth",
                "peer",
                "name",
                &wire_b,
            ],
        );
        must("ip", &["link", "set", &wire_a, "netns", &wire_ns]);
        must("ip", &["link", "set", &wire_b, "netns", &wire_ns]);
        must("ip", &["link", "set", &self.ns_dev, "netns", &self.name]);
        must("ip", &["addr", "add", &host_addr, "dev", &self.host_dev]);
        must("ip", &["link", "set", &self.host_dev, "up"]);
        self.exec_ok(&["ip", "addr", "add", &ns_addr, "dev", &self.ns_dev]);
        self.exec_ok(&["ip", "link", "set", &self.ns_dev, "up"]);
        let offloads = ["tso", "off", "gso", "off", "gro", "off", "tx", "off"];
        let mut host_ethtool = vec!["-K", self.host_dev.as_str()];
        host_ethtool.extend_from_slice(&offloads);
        must("ethtool", &host_ethtool);
        let mut inside = vec!["ethtool", "-K", self.ns_dev.as_str()];
        inside.extend_from_slice(&offloads);
        self.exec_ok(&inside);
        for dev in [&wire_a, &wire_b] {
            must(
                "ip",
                &["netns", "exec", &wire_ns, "ip", "link", "set", dev, "up"],
            );
            let mut args = vec![
                "netns",
                "exec",
                wire_ns.as_str(),
                "ethtool",
                "-K",
                dev.as_str(),
            ];
            args.extend_from_slice(&offloads);
            must("ip", &args);
        }
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/impaired_link.py");
        let mut relay = Command::new("ip")
            .args(["netns", "exec", &wire_ns, "python3"])
            .arg(&script)
            .args([
                &wire_a,
                &wire_b,
                &delay_ms.to_string(),
                &loss_percent.to_string(),
            ])
            .arg(&stats_file)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the link relay (python3 is needed): {e}"));
        let mut ready = String::new();
        let stdout = relay.stdout.take().expect("relay stdout");
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut ready);
        *slot = Some(Impairment {
            relay,
            wire_ns,
            stats_file,
            _dir: dir,
        });
        assert_eq!(ready.trim(), "ready", "the link relay did not start");
    }

    /// What the relay of [`Netns::impair`] did so far: frames seen, dropped, delivered.
    pub fn link_stats(&self) -> serde_json::Value {
        let slot = self.impaired.lock().unwrap();
        let Some(imp) = slot.as_ref() else {
            return serde_json::Value::Null;
        };
        std::fs::read_to_string(&imp.stats_file)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// `ip netns exec NAME args...`, which must succeed.
    pub fn exec_ok(&self, args: &[&str]) {
        let mut all = vec!["netns", "exec", self.name.as_str()];
        all.extend_from_slice(args);
        must("ip", &all);
    }

    /// The same `tc qdisc add ... root <qdisc>` on both ends of the shaped link (each direction).
    /// Fails with a clear message if the kernel lacks the qdisc (e.g. netem: CONFIG_NET_SCH_NETEM / sch_netem).
    pub fn shape(&self, qdisc: &[&str]) {
        for inside in [false, true] {
            let dev = if inside { &self.ns_dev } else { &self.host_dev };
            let mut args = vec!["qdisc", "add", "dev", dev.as_str(), "root"];
            args.extend_from_slice(qdisc);
            let out = if inside {
                let mut all = vec!["netns", "exec", self.name.as_str(), "tc"];
                all.extend_from_slice(&args);
                run("ip", &all)
            } else {
                run("tc", &args)
            };
            if !out.status.success() {
                let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
                let hint = if qdisc.first() == Some(&"netem") {
                    format!(
                        "the kernel ({}) has no netem qdisc: it needs CONFIG_NET_SCH_NETEM (`modprobe sch_netem`, \
                         package linux-modules-extra-$(uname -r) on Ubuntu), or run the test on a kernel that has it",
                        kernel_release()
                    )
                } else {
                    format!("the kernel ({}) or tc refused this qdisc", kernel_release())
                };
                panic!("`tc {}` failed: {stderr}; {hint}", args.join(" "));
            }
        }
    }

    /// Inside the namespace, answers a share of the TCP segments arriving for `port` on the shaped address
    /// with a TCP reset (nftables `reject with tcp reset`). Needs `nft`; the table goes with the namespace.
    pub fn reset_share(&self, port: u16, percent: u32) {
        let has_nft = Command::new("nft").arg("--version").output().is_ok();
        assert!(
            has_nft,
            "`nft` (nftables) was not found: the connection-reset variant needs it to add a \
             `reject with tcp reset` rule inside the test's namespace (Debian/Ubuntu: `apt-get install nftables`)"
        );
        let ip = self.ns_ip.to_string();
        let port = port.to_string();
        let percent = percent.to_string();
        self.exec_ok(&["nft", "add", "table", "inet", "tfnl"]);
        self.exec_ok(&[
            "nft",
            "add",
            "chain",
            "inet",
            "tfnl",
            "input",
            "{ type filter hook input priority 0 ; policy accept ; }",
        ]);
        self.exec_ok(&[
            "nft", "add", "rule", "inet", "tfnl", "input", "ip", "daddr", &ip, "tcp", "dport",
            &port, "numgen", "random", "mod", "100", "<", &percent, "reject", "with", "tcp",
            "reset",
        ]);
    }

    /// The pids of processes in the namespace.
    pub fn pids(&self) -> Vec<u32> {
        let out = run("ip", &["netns", "pids", &self.name]);
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// Statistics of both ends of the shaped link (`tc -s qdisc show`), for reports.
    pub fn qdisc_stats(&self) -> String {
        let host = run("tc", &["-s", "qdisc", "show", "dev", &self.host_dev]);
        let inside = run(
            "ip",
            &[
                "netns",
                "exec",
                &self.name,
                "tc",
                "-s",
                "qdisc",
                "show",
                "dev",
                &self.ns_dev,
            ],
        );
        format!(
            "host end (requests):\n{}\nnamespace end (answers):\n{}",
            String::from_utf8_lossy(&host.stdout).trim(),
            String::from_utf8_lossy(&inside.stdout).trim()
        )
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Some(mut imp) = self.impaired.lock().unwrap().take() {
            let _ = imp.relay.kill();
            let _ = imp.relay.wait();
            let _ = Command::new("ip")
                .args(["netns", "del", &imp.wire_ns])
                .output();
        }
        if self.created_ns {
            // Only processes this test started can be in its fresh namespace; end them by pid, bounded.
            let until = Instant::now() + Duration::from_secs(5);
            loop {
                let pids = self.pids();
                if pids.is_empty() || Instant::now() > until {
                    break;
                }
                for pid in pids {
                    let _ = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        for link in self.created_links.drain(..) {
            let _ = Command::new("ip").args(["link", "del", &link]).output();
        }
        if self.created_ns {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.name])
                .output();
        }
    }
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// A third octet X such that no host interface has an address in 10.200.X.0/24 (bounded: 250 tries).
fn free_subnet(pid: u32, n: u32) -> u8 {
    let out = run("ip", &["-o", "-4", "addr", "show"]);
    let used = String::from_utf8_lossy(&out.stdout).to_string();
    let start = (pid.wrapping_mul(7).wrapping_add(n.wrapping_mul(13))) % 250;
    for i in 0..250 {
        let x = ((start + i) % 250 + 1) as u8;
        if !used.contains(&format!(" 10.200.{x}.")) {
            return x;
        }
    }
    panic!("no free 10.200.X.0/24 for the test's namespace: every one is in use on this host");
}
