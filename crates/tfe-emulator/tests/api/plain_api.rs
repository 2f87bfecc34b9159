//! An in-process emulator over plain HTTP and the raw API calls the emulator's answer-shape tests make
//! (reference_shapes.rs, derived_fields.rs): status-checked JSON requests, and polling a run to a status.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use serde_json::Value;

/// An emulator serving plain HTTP on a free port, with one token ([`TOKEN`]), named `app_name`
/// (`--app-name`).
pub(crate) struct Emulator {
    _running: tfe_emulator::RunningEmulator,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// A client for it.
    pub(crate) http: reqwest::Client,
}

pub(crate) const TOKEN: &str = "shape-token";

/// A client for plain HTTP; reqwest wants a TLS provider all the same.
fn plain_http_client() -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client")
}

impl Emulator {
    pub(crate) async fn start(app_name: &str) -> Emulator {
        let options = tfe_emulator::options::Options::from_args([
            "--listen",
            "127.0.0.1:0",
            "--http",
            "--token",
            TOKEN,
            "--app-name",
            app_name,
        ])
        .expect("options");
        let running = tfe_emulator::spawn(options).await.expect("spawn emulator");
        Emulator {
            base: running.base_url.clone(),
            _running: running,
            http: plain_http_client(),
        }
    }

    /// A request to the API (`path` under `/api/v2`, or `/_emulator/...`); the answer's JSON, after checking
    /// its status.
    pub(crate) async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let url = if path.starts_with("/_") {
            format!("{}{path}", self.base)
        } else {
            format!("{}/api/v2{path}", self.base)
        };
        let mut request = self
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                &url,
            )
            .bearer_auth(TOKEN)
            .header("content-type", "application/vnd.api+json");
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.expect("request");
        let got = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(got, status, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub(crate) async fn get(&self, path: &str) -> Value {
        self.call("GET", path, None, 200).await
    }

    /// Polls the run until its status is one of `statuses`; fails after 20 s.
    pub(crate) async fn wait_for(&self, run_id: &str, statuses: &[&str]) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let run = self.get(&format!("/runs/{run_id}")).await;
            let status = run["data"]["attributes"]["status"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if statuses.contains(&status.as_str()) {
                return run;
            }
            assert!(
                Instant::now() < deadline,
                "run {run_id} is {status}, not {statuses:?}, after 20 s"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}
