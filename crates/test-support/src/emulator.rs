//! Starting tfe-emulator for a test and talking to its admin API.
//!
//! ```ignore
//! let emu = TestEmulator::start();                       // HTTPS, CA in a temp file, token "test-token"
//! let ws = emu.seed_workspace("acme", "app");            // VCS-linked, so runs can start
//! emu.set_workspace_knobs(&ws, json!({"plan_ms": 50}));
//! let client = emu.client().await;                       // TfeClient trusting the emulator's CA
//! ...
//! assert_eq!(emu.runs().len(), 1);
//! assert_eq!(emu.request_count("GET /api/v2/runs/{id}"), 3);
//! ```
//! All admin helpers are blocking (they run on their own thread), so they work from sync and async tests.
//! The emulator runs in this process (`tfe_emulator::spawn`), or as the `tfe-emulator` program
//! ([`TestEmulator::start_program`], for the emulator crate's command-line tests, and in network
//! namespaces); it stops when the `TestEmulator` is dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tfe_client::{TfeClient, TfeClientConfig};

/// The token every helper-started emulator accepts.
pub const TEST_TOKEN: &str = "test-token";

/// How to start the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    /// Plain HTTP instead of HTTPS.
    pub http: bool,
    /// The API tokens it accepts; the first is the one the helpers use.
    pub tokens: Vec<String>,
    /// A scenario file (JSON) to load at start.
    pub scenario: Option<PathBuf>,
    /// More command-line arguments, e.g. `["--rate-limit", "0"]`.
    pub extra_args: Vec<String>,
}

impl Default for EmulatorOptions {
    fn default() -> Self {
        EmulatorOptions {
            http: false,
            tokens: vec![TEST_TOKEN.to_string()],
            scenario: None,
            extra_args: Vec::new(),
        }
    }
}

/// One run as the admin summary reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct RunSummary {
    /// The run's ID.
    pub id: String,
    /// Its workspace's ID.
    pub workspace_id: String,
    /// Its workspace's name.
    pub workspace: Option<String>,
    /// Its organization.
    pub organization: String,
    /// Its status now, e.g. `applied`.
    pub status: String,
    /// A destroy run.
    pub is_destroy: bool,
    /// A plan-only (speculative) run.
    pub plan_only: bool,
    /// Created with auto-apply.
    pub auto_apply: bool,
    /// Its message.
    pub message: String,
    /// Creation order.
    pub order: u64,
    /// Created as refresh-only.
    #[serde(default)]
    pub refresh_only: bool,
    /// Created allowing an apply without changes.
    #[serde(default)]
    pub allow_empty_apply: bool,
    /// The addresses it was limited to (`-target`).
    #[serde(default)]
    pub target_addrs: Option<Vec<String>>,
    /// The addresses it replaces (`-replace`).
    #[serde(default)]
    pub replace_addrs: Option<Vec<String>>,
    /// The names of its run-scoped variables (the admin API never shows their values).
    #[serde(default)]
    pub variable_keys: Vec<String>,
    /// The configuration version it was made from.
    #[serde(default)]
    pub configuration_version_id: Option<String>,
    /// When it reached each status (`<status>-at` to an RFC 3339 time).
    #[serde(default)]
    pub status_timestamps: std::collections::BTreeMap<String, String>,
}

/// Where a [`TestEmulator`] runs.
enum Server {
    /// The `tfe-emulator` program.
    Process(Child),
    /// In this process on a thread of its own; dropping `stop` ends it.
    InProcess {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
}

/// A running tfe-emulator, in this process or as a program.
pub struct TestEmulator {
    server: Server,
    /// `https://127.0.0.1:PORT` (or `http://…`).
    pub base_url: String,
    /// `127.0.0.1:PORT`: what the provider's `hostname` takes.
    pub hostname: String,
    /// The CA certificate (PEM) to trust; only written in HTTPS mode.
    pub ca_file: PathBuf,
    /// The token the helpers send.
    pub token: String,
    /// Plain HTTP.
    pub http: bool,
    stderr_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestEmulator {
    /// HTTPS with a fresh CA, accepting [`TEST_TOKEN`].
    pub fn start() -> TestEmulator {
        Self::start_with(EmulatorOptions::default())
    }

    /// Plain HTTP, accepting [`TEST_TOKEN`].
    pub fn start_http() -> TestEmulator {
        Self::start_with(EmulatorOptions {
            http: true,
            ..Default::default()
        })
    }

    /// Starts an emulator with `options` in this process, through `tfe_emulator::spawn`, with the arguments
    /// the program would get.
    pub fn start_with(options: EmulatorOptions) -> TestEmulator {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = dir.path().join("emulator-ca.pem");
        let stderr_file = dir.path().join("emulator.stderr");
        std::fs::File::create(&stderr_file).expect("stderr file");
        // The same arguments the program would get, so both ways configure the emulator alike.
        let mut args: Vec<std::ffi::OsString> = vec!["--listen".into(), "127.0.0.1:0".into()];
        args.push("--ca-file".into());
        args.push(ca_file.clone().into());
        if options.http {
            args.push("--http".into());
        }
        for t in &options.tokens {
            args.push("--token".into());
            args.push(t.into());
        }
        if let Some(s) = &options.scenario {
            args.push("--scenario".into());
            args.push(s.clone().into());
        }
        args.extend(options.extra_args.iter().map(Into::into));
        let settings = tfe_emulator::options::Options::from_args(args)
            .unwrap_or_else(|e| panic!("tfe-emulator options: {e}"));
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        // A runtime of its own, so the emulator outlives any test runtime and serves sync tests too.
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("emulator runtime");
            runtime.block_on(async move {
                match tfe_emulator::spawn(settings).await {
                    Ok(running) => {
                        let _ = ready_tx.send(Ok(running.base_url.clone()));
                        let _ = stopped.await;
                        let _ = running.shutdown().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
        });
        let base_url = match ready_rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Ok(url)) => url,
            other => panic!("tfe-emulator did not start: {other:?}"),
        };
        let hostname = base_url.split_once("://").expect("scheme").1.to_string();
        TestEmulator {
            server: Server::InProcess {
                stop: Some(stop),
                thread: Some(thread),
            },
            base_url,
            hostname,
            ca_file,
            token: options.tokens.first().cloned().unwrap_or_default(),
            http: options.http,
            stderr_file,
            _dir: dir,
        }
    }

    /// Starts the `tfe-emulator` program `binary` with `options`, so that its command line, ready line and
    /// signals are what is tested (the emulator crate's command-line tests pass
    /// `env!("CARGO_BIN_EXE_tfe-emulator")`).
    pub fn start_program(binary: &Path, options: EmulatorOptions) -> TestEmulator {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = dir.path().join("emulator-ca.pem");
        let stderr_file = dir.path().join("emulator.stderr");
        let mut cmd = Command::new(binary);
        cmd.args(["--listen", "127.0.0.1:0", "--ca-file"])
            .arg(&ca_file);
        if options.http {
            cmd.arg("--http");
        }
        for t in &options.tokens {
            cmd.args(["--token", t]);
        }
        if let Some(s) = &options.scenario {
            cmd.arg("--scenario").arg(s);
        }
        cmd.args(&options.extra_args);
        cmd.env_remove("TFE_EMULATOR_TOKEN");
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
        cmd.stderr(std::fs::File::create(&stderr_file).expect("stderr file"));
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = tx.send(first);
            for _ in lines {} // keep draining so the emulator never blocks on stdout
        });
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = std::fs::read_to_string(&stderr_file).unwrap_or_default();
                panic!("tfe-emulator printed no ready line ({other:?}); stderr:\n{stderr}");
            }
        };
        let base_url = line
            .strip_prefix("tfe-emulator ready at ")
            .unwrap_or_else(|| panic!("unexpected ready line {line:?}"))
            .trim()
            .to_string();
        let hostname = base_url.split_once("://").expect("scheme").1.to_string();
        TestEmulator {
            server: Server::Process(child),
            base_url,
            hostname,
            ca_file,
            token: options.tokens.first().cloned().unwrap_or_default(),
            http: options.http,
            stderr_file,
            _dir: dir,
        }
    }

    /// The emulator program's stderr so far (for failure messages); empty in process.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_file).unwrap_or_default()
    }

    /// The OS process id of the emulator program (this process's own when it runs in process).
    pub fn pid(&self) -> u32 {
        match &self.server {
            Server::Process(child) => child.id(),
            Server::InProcess { .. } => std::process::id(),
        }
    }

    /// A client configuration for this emulator: HTTPS trusting its CA, or `http://` in HTTP mode.
    pub fn client_config(&self) -> TfeClientConfig {
        TfeClientConfig {
            hostname: if self.http {
                format!("http://{}", self.hostname)
            } else {
                self.hostname.clone()
            },
            token: self.token.clone(),
            ca_file: (!self.http).then(|| self.ca_file.clone()),
            request_timeout: Duration::from_secs(5),
            max_retry_time: Duration::from_secs(10),
            ..Default::default()
        }
    }

    /// Environment for a provider process pointed at this emulator: `TFE_HOSTNAME`, `TFE_TOKEN` and (HTTPS)
    /// `SSL_CERT_FILE` trusting the emulator's CA.
    pub fn provider_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("TFE_HOSTNAME".to_string(), self.hostname.clone()),
            ("TFE_TOKEN".to_string(), self.token.clone()),
        ];
        if !self.http {
            env.push((
                "SSL_CERT_FILE".to_string(),
                self.ca_file.display().to_string(),
            ));
        }
        env
    }

    /// A connected client (discovery + ping done).
    pub async fn client(&self) -> TfeClient {
        TfeClient::connect(self.client_config())
            .await
            .expect("connect to tfe-emulator")
    }

    // ---------- admin API ----------

    /// Sends one admin request and returns the JSON answer (`null` for 204). Panics on an error status.
    pub fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.admin_raw(method, path, body);
        assert!(
            status < 300,
            "admin {method} {path} answered {status}: {value}"
        );
        value
    }

    /// Like [`admin`](Self::admin) but returns the status instead of panicking.
    pub fn admin_raw(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base_url);
        let ca = (!self.http).then(|| self.ca_file.clone());
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        blocking(async move {
            let client = http_client(ca.as_deref());
            let mut req = client.request(method, &url);
            if let Some(b) = body {
                req = req
                    .header("content-type", "application/json")
                    .body(b.to_string());
            }
            let resp = req
                .send()
                .await
                .unwrap_or_else(|e| panic!("admin request {url}: {e}"));
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            let value = if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            };
            (status, value)
        })
    }

    /// Seeds organizations and VCS-linked workspaces from a raw body (see docs/emulator.md).
    pub fn seed_json(&self, body: Value) -> Value {
        self.admin("POST", "/_emulator/seed", Some(body))
    }

    /// Creates the organization (if needed) and a VCS-linked workspace; returns the workspace id.
    pub fn seed_workspace(&self, org: &str, name: &str) -> String {
        self.seed_workspace_with(org, name, json!({}))
    }

    /// Like [`seed_workspace`](Self::seed_workspace) with extra workspace fields
    /// (`auto_apply`, `vcs`, `resource_count`, `knobs`).
    pub fn seed_workspace_with(&self, org: &str, name: &str, fields: Value) -> String {
        let mut ws = json!({"organization": org, "name": name});
        for (k, v) in fields.as_object().cloned().unwrap_or_default() {
            ws[k] = v;
        }
        let answer = self.seed_json(json!({"organizations": [{"name": org}], "workspaces": [ws]}));
        answer["workspaces"][0]["id"]
            .as_str()
            .expect("seeded workspace id")
            .to_string()
    }

    /// Replaces a workspace's knobs, e.g. `json!({"plan_ms": 50, "policy": "soft_fail"})`.
    pub fn set_workspace_knobs(&self, workspace_id: &str, knobs: Value) {
        self.admin(
            "PUT",
            &format!("/_emulator/knobs/workspaces/{workspace_id}"),
            Some(knobs),
        );
    }

    /// Replaces an organization's knobs, e.g. `json!({"concurrency": 1})`.
    pub fn set_org_knobs(&self, org: &str, knobs: Value) {
        self.admin(
            "PUT",
            &format!("/_emulator/knobs/organizations/{org}"),
            Some(knobs),
        );
    }

    /// Merges into the server-wide default knobs.
    pub fn set_default_knobs(&self, knobs: Value) {
        self.admin("PUT", "/_emulator/knobs", Some(knobs));
    }

    /// Adds a fault rule (see docs/emulator.md); returns its id.
    pub fn add_fault(&self, rule: Value) -> u64 {
        self.admin("POST", "/_emulator/faults", Some(rule))["id"]
            .as_u64()
            .expect("fault id")
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.admin("DELETE", "/_emulator/faults", None);
    }

    /// Every run in creation order.
    pub fn runs(&self) -> Vec<RunSummary> {
        serde_json::from_value(self.admin("GET", "/_emulator/runs", None)["runs"].clone())
            .expect("run summary")
    }

    /// The runs of one workspace in creation order.
    pub fn workspace_runs(&self, workspace_id: &str) -> Vec<RunSummary> {
        self.runs()
            .into_iter()
            .filter(|r| r.workspace_id == workspace_id)
            .collect()
    }

    /// The request log: `{"requests": [...], "counters": {"total", "by_route", "by_status", "served_429", "served_5xx"}}`.
    pub fn requests(&self) -> Value {
        self.admin("GET", "/_emulator/requests", None)
    }

    /// How many requests hit `"METHOD /route/{template}"`, e.g. `"GET /api/v2/runs/{id}"`.
    pub fn request_count(&self, method_and_route: &str) -> u64 {
        self.requests()["counters"]["by_route"][method_and_route]
            .as_u64()
            .unwrap_or(0)
    }

    /// Total requests logged since the last reset.
    pub fn total_requests(&self) -> u64 {
        self.requests()["counters"]["total"].as_u64().unwrap_or(0)
    }

    /// Empties the request log and its counters.
    pub fn reset_requests(&self) {
        self.admin("POST", "/_emulator/requests/reset", None);
    }

    /// Polls the admin summary until the run reaches `status` (or panics after `timeout`).
    pub fn wait_for_status(&self, run_id: &str, status: &str, timeout: Duration) -> RunSummary {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let run = self
                .runs()
                .into_iter()
                .find(|r| r.id == run_id)
                .unwrap_or_else(|| panic!("no run {run_id}"));
            if run.status == status {
                return run;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "run {run_id} is {} after {timeout:?}, wanted {status}",
                run.status
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for TestEmulator {
    fn drop(&mut self) {
        match &mut self.server {
            Server::Process(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Server::InProcess { stop, thread } => {
                drop(stop.take());
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
        }
    }
}

/// `tfe-emulator` in the target directory these tests run from (`cargo build --workspace --bins` builds it;
/// a network namespace needs a program).
pub fn binary() -> PathBuf {
    crate::terraform::built_binary("tfe-emulator")
}

/// Runs a future to completion on a private thread and runtime (works inside and outside async tests).
fn blocking<T: Send + 'static>(future: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(future)
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// A plain reqwest client (rustls with aws-lc-rs) that trusts only `ca`; `None` is fine for plain HTTP.
pub fn http_client(ca: Option<&Path>) -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).expect("CA file");
        for cert in pem_certs::certificates(&pem) {
            roots.add(cert.expect("CA PEM")).expect("CA cert");
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("admin HTTP client")
}

impl TestEmulator {
    /// Starts the emulator inside the test's network namespace `ns` (through `ip netns exec`), listening on
    /// every address of the namespace. [`hostname`](Self::hostname) (what the provider gets) is the
    /// namespace's address on the shaped link; [`base_url`](Self::base_url) (what the admin helpers use) is
    /// its address on the unshaped control link, so the test's checks do not suffer the faults. The server
    /// certificate names both addresses. HTTPS only.
    pub fn start_in_netns(ns: &crate::netns::Netns, options: EmulatorOptions) -> TestEmulator {
        assert!(!options.http, "start_in_netns serves HTTPS only");
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = dir.path().join("emulator-ca.pem");
        let stderr_file = dir.path().join("emulator.stderr");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &ns.name])
            .arg(binary())
            .args(["--listen", "0.0.0.0:0", "--ca-file"])
            .arg(&ca_file)
            .args(["--tls-name", &ns.ns_ip.to_string()])
            .args(["--tls-name", &ns.ctl_ns_ip.to_string()]);
        for t in &options.tokens {
            cmd.args(["--token", t]);
        }
        if let Some(s) = &options.scenario {
            cmd.arg("--scenario").arg(s);
        }
        cmd.args(&options.extra_args);
        cmd.env_remove("TFE_EMULATOR_TOKEN");
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
        cmd.stderr(std::fs::File::create(&stderr_file).expect("stderr file"));
        // `ip netns exec` enters the namespace and execs the emulator, so the child is the emulator itself.
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot run `ip netns exec` (iproute2 `ip` is needed, as root): {e}")
        });
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = std::fs::read_to_string(&stderr_file).unwrap_or_default();
                panic!(
                    "tfe-emulator in namespace {} printed no ready line ({other:?}); stderr:\n{stderr}",
                    ns.name
                );
            }
        };
        let port = line
            .strip_prefix("tfe-emulator ready at https://0.0.0.0:")
            .unwrap_or_else(|| panic!("unexpected ready line {line:?}"))
            .trim()
            .to_string();
        TestEmulator {
            server: Server::Process(child),
            base_url: format!("https://{}:{port}", ns.ctl_ns_ip),
            hostname: format!("{}:{port}", ns.ns_ip),
            ca_file,
            token: options.tokens.first().cloned().unwrap_or_default(),
            http: false,
            stderr_file,
            _dir: dir,
        }
    }

    /// The port the emulator listens on.
    pub fn port(&self) -> u16 {
        self.hostname
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .expect("hostname ends in :PORT")
    }
}
