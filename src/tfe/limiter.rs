//! A token bucket shared by every client of one host and token, so parallel resources stay under the
//! server's rate limit together (go-tfe sizing: 0.66*L requests/s, burst 0.33*L).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
struct BucketState {
    rate_per_sec: f64,
    burst: f64,
    tokens: f64,
    last_refill: Instant,
    /// Set by a 429: nobody sends before this instant.
    paused_until: Option<Instant>,
}

/// A token bucket; unlimited until sized from `X-RateLimit-Limit`.
#[derive(Debug)]
pub struct RateLimiter {
    state: Mutex<BucketState>,
}

impl RateLimiter {
    fn unlimited() -> Self {
        RateLimiter {
            state: Mutex::new(BucketState {
                rate_per_sec: f64::INFINITY,
                burst: f64::INFINITY,
                tokens: f64::INFINITY,
                last_refill: Instant::now(),
                paused_until: None,
            }),
        }
    }

    /// Sizes the bucket from the server's `X-RateLimit-Limit` (requests per second).
    pub fn configure_from_limit(&self, limit: f64) {
        if !(limit.is_finite() && limit > 0.0) {
            return;
        }
        let mut s = self.state.lock().unwrap();
        s.rate_per_sec = 0.66 * limit;
        s.burst = (0.33 * limit).floor().max(1.0);
        s.tokens = s.tokens.min(s.burst);
    }

    /// Makes every user of this bucket wait until `delay` has passed (after a 429).
    pub fn pause_for(&self, delay: Duration) {
        let mut s = self.state.lock().unwrap();
        let until = Instant::now() + delay;
        if s.paused_until.is_none_or(|p| p < until) {
            s.paused_until = Some(until);
        }
    }

    /// Requests per second and burst, for diagnostics.
    pub fn rate(&self) -> (f64, f64) {
        let s = self.state.lock().unwrap();
        (s.rate_per_sec, s.burst)
    }

    /// Waits for a token. Cancel-safe: dropping the future takes nothing.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = self.state.lock().unwrap();
                let now = Instant::now();
                match s.paused_until {
                    Some(until) if until > now => until - now,
                    _ => {
                        if s.rate_per_sec.is_infinite() {
                            return;
                        }
                        let elapsed = now.duration_since(s.last_refill).as_secs_f64();
                        s.tokens = (s.tokens + elapsed * s.rate_per_sec).min(s.burst);
                        s.last_refill = now;
                        if s.tokens >= 1.0 {
                            s.tokens -= 1.0;
                            return;
                        }
                        Duration::from_secs_f64((1.0 - s.tokens) / s.rate_per_sec)
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

type Registry = Mutex<HashMap<(String, u64), Arc<RateLimiter>>>;

/// The process-wide limiter for (host, token). The token is only hashed, never stored.
pub fn shared_limiter(host: &str, token: &str) -> Arc<RateLimiter> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    let mut hasher = DefaultHasher::new();
    token.hash(&mut hasher);
    let key = (host.to_ascii_lowercase(), hasher.finish());
    let mut map = REGISTRY.get_or_init(Default::default).lock().unwrap();
    map.entry(key)
        .or_insert_with(|| Arc::new(RateLimiter::unlimited()))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_host_and_token_share_one_bucket() {
        let a = shared_limiter("Example.com:1", "t1");
        let b = shared_limiter("example.com:1", "t1");
        let c = shared_limiter("example.com:1", "t2");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[tokio::test(start_paused = true)]
    async fn bucket_limits_to_rate_after_burst() {
        let limiter = RateLimiter::unlimited();
        limiter.configure_from_limit(30.0); // 19.8/s, burst 9
        let start = Instant::now();
        for _ in 0..29 {
            limiter.acquire().await;
        }
        // 9 from the burst, 20 more at 19.8/s take about 1 s.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
        assert!(elapsed <= Duration::from_millis(1100), "{elapsed:?}");
    }
}
