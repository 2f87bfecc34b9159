//! A token bucket shared by every client of one host and token, so parallel resources stay under the
//! server's rate limit together (go-tfe sizing: 0.66*L requests/s, burst 0.33*L).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

/// Bounds for a server-announced limit (requests per second).
const MIN_LIMIT: f64 = 1.0;
const MAX_LIMIT: f64 = 10_000.0;

#[derive(Debug)]
struct BucketState {
    rate_per_sec: f64,
    burst: f64,
    tokens: f64,
    last_refill: Instant,
    /// Set by a 429: nobody sends before this instant.
    paused_until: Option<Instant>,
    /// Callers inside [`with_priority`] now waiting for a token: the others wait until they are served.
    priority_waiting: usize,
}

tokio::task_local! {
    static PRIORITY: ();
}

/// Runs `work` with its requests served before the others waiting for this process's tokens (the
/// run poller's reads: one of them reports many runs, so it must not queue behind hundreds of creates).
pub async fn with_priority<F: std::future::Future>(work: F) -> F::Output {
    PRIORITY.scope((), work).await
}

fn has_priority() -> bool {
    PRIORITY.try_with(|_| ()).is_ok()
}

/// Counts a priority caller as waiting while it lives.
struct Waiting<'a>(&'a Mutex<BucketState>);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut s = self.0.lock().unwrap_or_else(|p| p.into_inner());
        s.priority_waiting = s.priority_waiting.saturating_sub(1);
    }
}

/// A token bucket; unlimited until sized from `X-RateLimit-Limit`.
#[derive(Debug)]
pub struct RateLimiter {
    state: Mutex<BucketState>,
}

impl RateLimiter {
    pub(crate) fn unlimited() -> Self {
        RateLimiter {
            state: Mutex::new(BucketState {
                rate_per_sec: f64::INFINITY,
                burst: f64::INFINITY,
                tokens: f64::INFINITY,
                last_refill: Instant::now(),
                paused_until: None,
                priority_waiting: 0,
            }),
        }
    }

    /// Sizes the bucket from the server's `X-RateLimit-Limit` (requests per second). The value comes from
    /// the server, so it is held to 1..=10000: a tiny limit would stall every request for hours.
    pub fn configure_from_limit(&self, limit: f64) {
        if !(limit.is_finite() && limit > 0.0) {
            return;
        }
        let limit = limit.clamp(MIN_LIMIT, MAX_LIMIT);
        let mut s = self.state.lock().unwrap();
        s.rate_per_sec = 0.66 * limit;
        s.burst = (0.33 * limit).floor().max(1.0);
        s.tokens = s.tokens.min(s.burst);
    }

    /// Makes every user of this bucket wait until `delay` has passed (after a 429).
    pub fn pause_for(&self, delay: Duration) {
        let mut s = self.state.lock().unwrap();
        let now = Instant::now();
        // Callers cap the delay; saturating here keeps a huge one from overflowing the clock.
        let until = now
            .checked_add(delay)
            .unwrap_or_else(|| now + Duration::from_secs(86_400));
        if s.paused_until.is_none_or(|p| p < until) {
            s.paused_until = Some(until);
        }
    }

    /// Requests per second and burst, for diagnostics.
    pub fn rate(&self) -> (f64, f64) {
        let s = self.state.lock().unwrap();
        (s.rate_per_sec, s.burst)
    }

    /// Waits for a token; inside [`with_priority`], ahead of the callers outside it. Cancel-safe:
    /// dropping the future takes nothing.
    pub async fn acquire(&self) {
        let priority = has_priority();
        let _waiting = priority.then(|| {
            self.state.lock().unwrap().priority_waiting += 1;
            Waiting(&self.state)
        });
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
                        // Tokens needed by priority callers are left to them.
                        let ahead = if priority {
                            0.0
                        } else {
                            s.priority_waiting as f64
                        };
                        if s.tokens >= 1.0 + ahead {
                            s.tokens -= 1.0;
                            return;
                        }
                        Duration::try_from_secs_f64(
                            ((1.0 + ahead - s.tokens) / s.rate_per_sec).max(0.001),
                        )
                        .unwrap_or(Duration::from_secs(1))
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

    #[tokio::test(start_paused = true)]
    async fn priority_callers_are_served_before_the_queue() {
        let limiter = Arc::new(RateLimiter::unlimited());
        limiter.configure_from_limit(30.0); // 19.8/s, burst 9
        for _ in 0..9 {
            limiter.acquire().await; // the burst is used up
        }
        // Forty ordinary requests queue up, then one with priority arrives.
        let queue: Vec<_> = (0..40)
            .map(|_| {
                let l = limiter.clone();
                tokio::spawn(async move { l.acquire().await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(10)).await;
        let start = Instant::now();
        with_priority(limiter.acquire()).await;
        let waited = start.elapsed();
        // Behind the queue it would wait about 2 s (40 tokens at 19.8/s); ahead of it, one token.
        assert!(waited <= Duration::from_millis(150), "{waited:?}");
        for task in queue {
            task.await.unwrap();
        }
        assert_eq!(limiter.state.lock().unwrap().priority_waiting, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn absurd_limits_are_held_to_sane_bounds() {
        let tiny = RateLimiter::unlimited();
        tiny.configure_from_limit(1e-300);
        assert_eq!(tiny.rate(), (0.66, 1.0), "treated as 1 request/s");
        let start = Instant::now();
        for _ in 0..3 {
            tiny.acquire().await;
        }
        assert!(
            start.elapsed() <= Duration::from_secs(4),
            "{:?}",
            start.elapsed()
        );

        let huge = RateLimiter::unlimited();
        huge.configure_from_limit(1e300);
        assert_eq!(huge.rate(), (6600.0, 3300.0));
        for bad in [f64::NAN, f64::INFINITY, -1.0, 0.0] {
            huge.configure_from_limit(bad);
        }
        assert_eq!(
            huge.rate(),
            (6600.0, 3300.0),
            "unusable values change nothing"
        );
        huge.pause_for(Duration::MAX);
        // Still usable (the pause saturates instead of overflowing the clock).
        assert!(
            tokio::time::timeout(Duration::from_secs(1), huge.acquire())
                .await
                .is_err()
        );
    }
}
