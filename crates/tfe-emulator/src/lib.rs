//! tfe-emulator: a local stand-in for the TFE API v2, with behaviour knobs, fault injection and an admin API.
//!
//! - [`store`]: in-memory records; [`run_machine`]: run states and queues; [`render`]: JSON:API output;
//!   [`logs`]: the plan and apply logs behind `log-read-url`.
//! - [`routes`]: the TFE API; [`http`]: auth, faults and the request log around it; [`admin`]: `/_emulator/`.
//! - [`knobs`], [`faults`], [`scenario`]: behaviour settings; [`server`]: listening, TLS and shutdown.
//! - [`ui`]: the web page at the base URL, where a person watches runs and confirms them.
//! - [`options`]: the settings (the binary's command line); [`spawn`]: an emulator inside the caller's process,
//!   as the provider's end-to-end tests start it; [`fuzzing`]: the scenario fuzz target's entry.

pub(crate) mod admin;
pub(crate) mod faults;
pub mod fuzzing;
pub(crate) mod http;
pub mod knobs;
pub(crate) mod logs;
pub mod options;
pub(crate) mod render;
pub(crate) mod routes;
pub(crate) mod run_machine;
pub(crate) mod scenario;
pub mod server;
pub(crate) mod store;
pub(crate) mod terraform_versions;
pub(crate) mod ui;

use std::path::PathBuf;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};

use faults::Faults;
use knobs::Knobs;
use store::Store;

/// The emulator's shared state.
#[derive(Debug)]
pub struct Emulator {
    /// Organizations, workspaces, runs and the rest of the API's objects.
    pub store: Mutex<Store>,
    /// The fault rules the admin API installed (status codes, delays, resets).
    pub faults: Mutex<Faults>,
    /// Accepted API tokens; token N (from 1) belongs to user `user-emulator-N`.
    pub tokens: Vec<String>,
    /// When set, the admin API requires `Authorization: Bearer <admin_token>`.
    pub admin_token: Option<String>,
    /// The `X-RateLimit-Limit` header value; `None` leaves the header out.
    pub rate_limit_header: Option<u32>,
    /// Answer 429 when a token sends more than `rate_limit_header` requests per second (burst of the same size).
    pub enforce_rate_limit: AtomicBool,
    /// Per-user token buckets for `enforce_rate_limit`: (tokens, last refill).
    pub rate_buckets: Mutex<HashMap<String, (f64, std::time::Instant)>>,
    /// The `TFP-AppName` header: "Terraform Enterprise" (default) or "HCP Terraform".
    pub app_name: String,
    /// Set once the listener is bound.
    pub base_url: OnceLock<String>,
}

/// What a user's bucket says after one request: whether it may go on, and what is left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateBudget {
    /// False when the enforced limit refuses the request (a 429).
    pub allowed: bool,
    /// Whole requests left in the bucket (`X-RateLimit-Remaining`).
    pub remaining: u32,
    /// Seconds until one more request is allowed (`X-RateLimit-Reset`); 0 when the bucket is full.
    pub reset_seconds: f64,
}

/// The emulator as every handler and background task holds it.
pub type Shared = Arc<Emulator>;

impl Emulator {
    /// An emulator accepting `tokens`, with `defaults` over the built-in knobs; not yet listening.
    pub fn new(tokens: Vec<String>, defaults: Knobs) -> Emulator {
        let mut knobs = Knobs::defaults();
        knobs.merge(&defaults);
        Emulator {
            store: Mutex::new(Store::new(knobs)),
            faults: Mutex::new(Faults::default()),
            tokens,
            admin_token: None,
            rate_limit_header: Some(30),
            enforce_rate_limit: AtomicBool::new(false),
            app_name: "Terraform Enterprise".into(),
            rate_buckets: Mutex::new(HashMap::new()),
            base_url: OnceLock::new(),
        }
    }

    /// The user a bearer token belongs to.
    pub fn user_for_token(&self, token: &str) -> Option<String> {
        self.tokens
            .iter()
            .position(|t| t == token)
            .map(|i| format!("user-emulator-{}", i + 1))
    }

    /// Takes one request from the user's bucket (30 a second by default, a burst of the same size) and says
    /// what is left, as the `X-RateLimit-*` headers of the answer will; `None` when the server advertises
    /// no limit. The bucket is kept whether or not the limit is enforced, so the headers always tell the
    /// truth; only an enforced limit refuses a request (`allowed: false`) when the bucket is empty.
    pub fn take_rate_token(&self, user: &str) -> Option<RateBudget> {
        let limit = self.rate_limit_header.map(f64::from)?;
        let enforced = self
            .enforce_rate_limit
            .load(std::sync::atomic::Ordering::Relaxed);
        let now = std::time::Instant::now();
        let mut buckets = self.rate_buckets.lock().unwrap();
        let (tokens, last) = buckets.entry(user.to_string()).or_insert((limit, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * limit).min(limit);
        *last = now;
        let allowed = *tokens >= 1.0 || !enforced;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
        }
        // Until one more whole request is allowed: the wait a 429 asks for, and 0 when the bucket is full.
        let reset_seconds = if *tokens >= limit {
            0.0
        } else {
            (tokens.floor() + 1.0 - *tokens) / limit
        };
        Some(RateBudget {
            allowed,
            remaining: tokens.floor() as u32,
            reset_seconds,
        })
    }

    /// The URL clients reach it at (scheme, host and bound port), empty until the listener is bound.
    pub fn base_url(&self) -> &str {
        self.base_url.get().map(String::as_str).unwrap_or("")
    }
}

/// An emulator serving inside this process, on the runtime [`spawn`] was called on. Dropping it stops
/// accepting connections.
pub struct RunningEmulator {
    /// `https://127.0.0.1:PORT` (or `http://…`).
    pub base_url: String,
    /// The CA certificate (PEM) to trust; `None` in plain HTTP mode.
    pub ca_file: Option<PathBuf>,
    /// The emulator's state, for in-process inspection.
    pub emulator: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), String>>>,
}

impl RunningEmulator {
    /// Stops accepting connections and waits for the server loop to end.
    pub async fn shutdown(mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(|e| e.to_string())?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Builds the emulator `options` describe, binds its listener (HTTPS with a fresh CA written to
/// `options.ca_file` unless `options.http`) and serves it on a task of the current runtime. Nothing is
/// printed: the caller reads [`RunningEmulator::base_url`]. Without `ca_file` the CA goes to a file named
/// for this process in the temp directory, so give each in-process emulator its own `ca_file`.
pub async fn spawn(options: options::Options) -> Result<RunningEmulator, String> {
    let (emulator, serve_options) = options.build()?;
    let bound = server::bind(emulator.clone(), serve_options).await?;
    let base_url = bound.base_url.clone();
    let ca_file = bound.ca_file.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(bound.run(async move {
        // A dropped sender stops the server too.
        let _ = stopped.await;
    }));
    Ok(RunningEmulator {
        base_url,
        ca_file,
        emulator,
        stop: Some(stop),
        task: Some(task),
    })
}
