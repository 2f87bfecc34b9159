//! The emulator's shared state: what every handler, background run task and the admin API hold (the store, the
//! fault rules, the tokens, the rate-limit settings), kept apart from [`crate::spawn`] so that the modules below
//! depend on this one file rather than on the crate root.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};

use crate::faults::Faults;
use crate::knobs::Knobs;
use crate::store::Store;

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
