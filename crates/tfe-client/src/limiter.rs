//! The request budget of one host and token, shared by every client of the process: a first-come queue in
//! front of a model of the server's own bucket.
//!
//! TFE states its budget on every answer (`X-RateLimit-Limit` requests a second, `X-RateLimit-Remaining`
//! left now, `X-RateLimit-Reset` until the next one). The model starts from what an answer said, takes one
//! for every request sent since, and refills at the stated limit, so it never believes in more than the
//! server has: one process alone spends nearly all of the budget, and processes sharing a token see each
//! other's spending in the next answer and slow down to their share. A small reserve is left unspent for
//! the others' requests already on their way. A server that states no remaining budget gets go-tfe's
//! sizing (0.66 of the limit, a burst of a third): nothing tells the process what others spend.
//!
//! Waiters are served in arrival order (a request that waited longer goes first), and the run poller's
//! reads ([`with_priority`]) before the others.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

/// Bounds for a server-announced limit (requests per second).
const MIN_LIMIT: f64 = 1.0;
const MAX_LIMIT: f64 = 10_000.0;
/// Without a stated remaining budget: go-tfe's share of the limit and burst.
const GUESSED_RATE_SHARE: f64 = 0.66;
const GUESSED_BURST_SHARE: f64 = 0.33;
/// With one: the part of the server's bucket left unspent, for other processes' requests on their way.
const RESERVE_SHARE: f64 = 0.2;
/// The others' spending is what the answers of this long showed missing, spread over it.
const OTHERS_WINDOW: Duration = Duration::from_secs(2);
/// How much more a process that spends more than the others keeps back, per share of the limit it is
/// ahead (at most another reserve).
const FAIRNESS_SHARE: f64 = 0.5;
/// The others' spending is believed up to this share of the limit: a process always keeps some pace.
const MAX_OTHERS_SHARE: f64 = 0.9;
/// The longest an answer that says "nothing left" stops everyone (a 429 asks through its own path).
const MAX_EMPTY_PAUSE: Duration = Duration::from_secs(2);

/// What one answer said of the budget (the `X-RateLimit-*` headers), each part when usable.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ServerBudget {
    /// `X-RateLimit-Limit`: requests per second.
    pub limit: Option<f64>,
    /// `X-RateLimit-Remaining`: requests left now, this one counted.
    pub remaining: Option<f64>,
    /// `X-RateLimit-Reset`: until the server allows more, already capped by the client.
    pub reset: Option<Duration>,
}

/// One request's permission to leave, for [`RateLimiter::observe`] to place its answer among the others
/// (which send it was). Dropping it without an answer (the request failed) counts it as no longer on its
/// way.
#[derive(Debug)]
pub struct Ticket<'a> {
    limiter: &'a RateLimiter,
    seq: u64,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        lock(&self.limiter.budget).in_flight.remove(&self.seq);
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Pacing {
    /// No limit known: nothing waits.
    Unlimited,
    /// A limit but no stated remaining budget: a local bucket at go-tfe's sizing.
    Guessed,
    /// The server states what is left: `tokens` models its bucket.
    Stated,
}

#[derive(Debug)]
struct Budget {
    pacing: Pacing,
    /// The server's `X-RateLimit-Limit`, held to 1..=10000.
    limit: f64,
    /// Refill per second and the most the bucket holds.
    rate_per_sec: f64,
    capacity: f64,
    /// Kept for others: a request leaves only when more than this is left.
    reserve: f64,
    /// Requests that may leave now (may be negative after a correction: then wait for the refill).
    tokens: f64,
    /// What other users of the token (other processes) spend, in requests per second, as the answers
    /// of the last [`OTHERS_WINDOW`] showed it: `tokens` refills at the limit less this.
    others_per_sec: f64,
    /// The same bucket as if nobody else spent (refilled at the full limit, less only this process's
    /// requests), corrected by the same answers: what it holds beyond the stated budget, others spent.
    alone: f64,
    /// What each answer showed others spent: (when, requests).
    others_seen: VecDeque<(Instant, f64)>,
    /// When this process's requests of the window left.
    own_sent: VecDeque<Instant>,
    last_refill: Instant,
    /// Tickets handed out so far, and those not yet answered or dropped.
    sent: u64,
    in_flight: BTreeSet<u64>,
    /// The newest ticket whose answer corrected `tokens`; older answers say less.
    corrected_by: u64,
    /// Set by a 429 or an empty budget: nobody sends before this instant.
    paused_until: Option<Instant>,
    /// Callers inside [`with_priority`] now waiting for a token: the others wait until they are served.
    priority_waiting: usize,
}

impl Budget {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.duration_since(self.last_refill).as_secs_f64();
        self.forget_others_before(now);
        let own_rate = self.rate_per_sec - self.others_per_sec;
        self.tokens = (self.tokens + elapsed * own_rate).min(self.capacity);
        self.alone = (self.alone + elapsed * self.rate_per_sec).min(self.capacity);
        self.last_refill = now;
    }

    /// Takes one request from the budget.
    fn spend(&mut self, now: Instant) {
        self.tokens -= 1.0;
        self.alone -= 1.0;
        if self.pacing == Pacing::Stated {
            self.own_sent.push_back(now);
        }
    }

    /// What a request must leave in the bucket: the reserve, and more when this process spends more
    /// than all the others together, so that they win the race for what refills until the shares even out.
    fn keep_back(&self) -> f64 {
        let own = self.own_sent.len() as f64 / OTHERS_WINDOW.as_secs_f64();
        let ahead = ((own - self.others_per_sec) / self.limit).clamp(0.0, 1.0);
        self.reserve + (FAIRNESS_SHARE * self.capacity * ahead).min(self.reserve)
    }

    /// The others' spending over the window ending `now`.
    fn forget_others_before(&mut self, now: Instant) {
        let before = self.others_seen.len();
        while self
            .others_seen
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > OTHERS_WINDOW)
        {
            self.others_seen.pop_front();
        }
        if self.others_seen.len() != before {
            self.others_per_sec = self.others_rate();
        }
        while self
            .own_sent
            .front()
            .is_some_and(|at| now.duration_since(*at) > OTHERS_WINDOW)
        {
            self.own_sent.pop_front();
        }
    }

    fn others_rate(&self) -> f64 {
        let seen: f64 = self.others_seen.iter().map(|(_, n)| n).sum();
        (seen / OTHERS_WINDOW.as_secs_f64()).clamp(0.0, MAX_OTHERS_SHARE * self.limit)
    }

    fn set_limit(&mut self, limit: f64) {
        let limit = limit.clamp(MIN_LIMIT, MAX_LIMIT);
        if self.pacing != Pacing::Unlimited && self.limit == limit {
            return;
        }
        self.limit = limit;
        match self.pacing {
            Pacing::Unlimited | Pacing::Guessed => {
                self.pacing = Pacing::Guessed;
                self.rate_per_sec = GUESSED_RATE_SHARE * limit;
                self.capacity = (GUESSED_BURST_SHARE * limit).floor().max(1.0);
                self.reserve = 0.0;
                self.tokens = self.tokens.min(self.capacity);
                self.alone = self.tokens;
            }
            // A bucket larger than the new limit shows again in the next stated remaining budget.
            Pacing::Stated => self.state_sizes(limit),
        }
    }

    /// Sizes for a server that states its budget: it refills at its limit and holds at least that much.
    fn state_sizes(&mut self, capacity: f64) {
        self.rate_per_sec = self.limit;
        self.capacity = capacity.clamp(1.0, MAX_LIMIT);
        self.reserve = (RESERVE_SHARE * self.capacity).floor();
    }
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
struct Waiting<'a>(&'a Mutex<Budget>);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut s = lock(self.0);
        s.priority_waiting = s.priority_waiting.saturating_sub(1);
    }
}

fn lock(budget: &Mutex<Budget>) -> std::sync::MutexGuard<'_, Budget> {
    budget.lock().unwrap_or_else(|p| p.into_inner())
}

/// The budget of one host and token; unlimited until an answer states a limit.
#[derive(Debug)]
pub struct RateLimiter {
    budget: Mutex<Budget>,
    /// Ordinary callers line up here (tokio's mutex is first-come, first-served); only the first waits
    /// for a token.
    queue: tokio::sync::Mutex<()>,
    /// The same line for callers inside [`with_priority`].
    priority_queue: tokio::sync::Mutex<()>,
    /// Whether the host ever answered (any status): a refused connection then is a passing outage, not a
    /// wrong address.
    answered: AtomicBool,
}

impl RateLimiter {
    pub(crate) fn unlimited() -> Self {
        RateLimiter {
            budget: Mutex::new(Budget {
                pacing: Pacing::Unlimited,
                limit: f64::INFINITY,
                rate_per_sec: f64::INFINITY,
                capacity: f64::INFINITY,
                reserve: 0.0,
                tokens: f64::INFINITY,
                others_per_sec: 0.0,
                alone: f64::INFINITY,
                others_seen: VecDeque::new(),
                own_sent: VecDeque::new(),
                last_refill: Instant::now(),
                sent: 0,
                in_flight: BTreeSet::new(),
                corrected_by: 0,
                paused_until: None,
                priority_waiting: 0,
            }),
            queue: tokio::sync::Mutex::new(()),
            priority_queue: tokio::sync::Mutex::new(()),
            answered: AtomicBool::new(false),
        }
    }

    /// Sizes the budget from the server's `X-RateLimit-Limit` (requests per second). The value comes from
    /// the server, so it is held to 1..=10000: a tiny limit would stall every request for hours.
    pub fn configure_from_limit(&self, limit: f64) {
        if limit.is_finite() && limit > 0.0 {
            lock(&self.budget).set_limit(limit);
        }
    }

    /// Takes in what the answer to `ticket` said of the budget. The remaining budget it states replaces
    /// the model's, less every request of ours the server may not have counted yet: those sent after this
    /// one, and those sent before it that are still unanswered (a new connection can make an earlier
    /// request arrive later). An answer older than one already taken in is ignored.
    pub fn observe(&self, ticket: Ticket<'_>, said: ServerBudget) {
        let seq = ticket.seq;
        drop(ticket);
        self.answered.store(true, Ordering::Relaxed);
        let mut s = lock(&self.budget);
        if let Some(limit) = said.limit.filter(|l| l.is_finite() && *l > 0.0) {
            s.set_limit(limit);
        }
        let Some(remaining) = said.remaining.filter(|r| r.is_finite() && *r >= 0.0) else {
            return;
        };
        if s.pacing == Pacing::Unlimited || seq < s.corrected_by {
            return;
        }
        let remaining = remaining.min(MAX_LIMIT);
        if s.pacing == Pacing::Guessed {
            s.pacing = Pacing::Stated;
            let limit = s.limit;
            s.state_sizes(limit);
        }
        if remaining + 1.0 > s.capacity {
            // The bucket is larger than its refill rate: it held this one and what is left.
            s.state_sizes(remaining + 1.0);
        }
        let now = Instant::now();
        s.refill(now);
        // The requests sent after this one: the server had not counted them (in the order sent).
        let after = s.sent.saturating_sub(seq) as f64;
        if s.corrected_by > 0 {
            let others = s.alone - (remaining - after);
            s.others_seen.push_back((now, others));
            s.others_per_sec = s.others_rate();
        }
        s.alone = remaining - after;
        // Pacing also keeps back the earlier requests still on their way.
        let unanswered_before = s.in_flight.range(..seq).count();
        let stated = remaining - after - unanswered_before as f64;
        s.corrected_by = seq;
        s.tokens = stated.max(-s.capacity);
        if remaining < 1.0
            && let Some(reset) = said.reset
        {
            let until = now + reset.min(MAX_EMPTY_PAUSE);
            if s.paused_until.is_none_or(|p| p < until) {
                s.paused_until = Some(until);
            }
        }
    }

    /// Whether the host ever answered a request (any status) since the process started.
    pub fn has_answered(&self) -> bool {
        self.answered.load(Ordering::Relaxed)
    }

    /// Makes every user of this bucket wait until `delay` has passed (after a 429).
    pub fn pause_for(&self, delay: Duration) {
        let mut s = lock(&self.budget);
        let now = Instant::now();
        // Callers cap the delay; saturating here keeps a huge one from overflowing the clock.
        let until = now
            .checked_add(delay)
            .unwrap_or_else(|| now + Duration::from_secs(86_400));
        if s.paused_until.is_none_or(|p| p < until) {
            s.paused_until = Some(until);
        }
    }

    /// Requests per second and the most that may leave at once, for diagnostics: go-tfe's sizing until
    /// the server states its remaining budget, then its limit and its bucket less the reserve.
    pub fn rate(&self) -> (f64, f64) {
        let s = lock(&self.budget);
        (s.rate_per_sec, s.capacity - s.reserve)
    }

    /// Waits for a token, behind the callers that came first; inside [`with_priority`], ahead of the
    /// callers outside it. The ticket names the request for [`RateLimiter::observe`]. Cancel-safe:
    /// dropping the future takes nothing and leaves the line.
    pub async fn acquire(&self) -> Ticket<'_> {
        let priority = has_priority();
        let _waiting = priority.then(|| {
            lock(&self.budget).priority_waiting += 1;
            Waiting(&self.budget)
        });
        let _turn = if priority {
            self.priority_queue.lock().await
        } else {
            self.queue.lock().await
        };
        loop {
            let wait = {
                let mut s = lock(&self.budget);
                let now = Instant::now();
                match s.paused_until {
                    Some(until) if until > now => until - now,
                    _ if s.pacing == Pacing::Unlimited => return self.ticket(&mut s),
                    _ => {
                        s.refill(now);
                        // Tokens needed by priority callers are left to them.
                        let ahead = if priority {
                            0.0
                        } else {
                            s.priority_waiting as f64
                        };
                        let needed = 1.0 + s.keep_back() + ahead;
                        if s.tokens >= needed {
                            s.spend(now);
                            return self.ticket(&mut s);
                        }
                        Duration::try_from_secs_f64(
                            ((needed - s.tokens) / s.rate_per_sec).max(0.001),
                        )
                        .unwrap_or(Duration::from_secs(1))
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

impl RateLimiter {
    fn ticket(&self, s: &mut Budget) -> Ticket<'_> {
        s.sent += 1;
        s.in_flight.insert(s.sent);
        Ticket {
            limiter: self,
            seq: s.sent,
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
    let mut map = REGISTRY
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    map.entry(key)
        .or_insert_with(|| Arc::new(RateLimiter::unlimited()))
        .clone()
}

#[cfg(test)]
mod tests;
