//! Unit tests of the budget on a paused clock, against a model of TFE's per-token bucket (the emulator's:
//! `limit` requests a second, a burst of the same size, the budget stated on every answer).

use super::*;

#[test]
fn same_host_and_token_share_one_bucket() {
    let a = shared_limiter("Example.com:1", "t1");
    let b = shared_limiter("example.com:1", "t1");
    let c = shared_limiter("example.com:1", "t2");
    assert!(Arc::ptr_eq(&a, &b));
    assert!(!Arc::ptr_eq(&a, &c));
}

/// The server's side: one bucket per token, as the emulator keeps it.
struct ServerBucket {
    limit: f64,
    tokens: f64,
    last: Instant,
    served: u64,
    refused: u64,
}

impl ServerBucket {
    fn new(limit: f64) -> Arc<Mutex<ServerBucket>> {
        Arc::new(Mutex::new(ServerBucket {
            limit,
            tokens: limit,
            last: Instant::now(),
            served: 0,
            refused: 0,
        }))
    }

    /// One request arriving: whether it is served, and the budget its answer states.
    fn take(&mut self) -> (bool, ServerBudget) {
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.limit)
            .min(self.limit);
        self.last = now;
        let served = self.tokens >= 1.0;
        if served {
            self.tokens -= 1.0;
            self.served += 1;
        } else {
            self.refused += 1;
        }
        let reset = (self.tokens.floor() + 1.0 - self.tokens) / self.limit;
        (
            served,
            ServerBudget {
                limit: Some(self.limit),
                remaining: Some(self.tokens.floor()),
                reset: Some(Duration::from_secs_f64(reset)),
            },
        )
    }
}

/// `workers` tasks of one process sending back to back through `limiter` until `run_for` has passed, each
/// request taking `latency` there and back; a 429 pauses the process as the client's retry path does.
/// Returns the requests served and the time until the last answer (requests waiting at the deadline
/// still go).
async fn busy_process(
    limiter: Arc<RateLimiter>,
    server: Arc<Mutex<ServerBucket>>,
    workers: usize,
    latency: Duration,
    run_for: Duration,
) -> (u64, Duration) {
    let started = Instant::now();
    let deadline = started + run_for;
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (limiter, server) = (limiter.clone(), server.clone());
            tokio::spawn(async move {
                let mut served = 0;
                while Instant::now() < deadline {
                    let ticket = limiter.acquire().await;
                    tokio::time::sleep(latency / 2).await;
                    let (ok, said) = server.lock().unwrap().take();
                    tokio::time::sleep(latency / 2).await;
                    limiter.observe(ticket, said);
                    if ok {
                        served += 1;
                    } else {
                        limiter.pause_for(
                            said.reset
                                .unwrap_or_default()
                                .max(Duration::from_millis(100)),
                        );
                    }
                }
                served
            })
        })
        .collect();
    let mut served = 0;
    for task in tasks {
        served += task.await.unwrap();
    }
    (served, started.elapsed())
}

/// A limiter that learnt the server's limit from a ping, as `connect` leaves it.
fn connected(limit: f64) -> Arc<RateLimiter> {
    let limiter = Arc::new(RateLimiter::unlimited());
    limiter.configure_from_limit(limit);
    limiter
}

#[tokio::test(start_paused = true)]
async fn one_process_alone_spends_nearly_all_of_the_stated_budget_without_a_429() {
    let server = ServerBucket::new(30.0);
    let limiter = connected(30.0);
    let (served, took) = busy_process(
        limiter.clone(),
        server.clone(),
        200,
        Duration::from_millis(40),
        Duration::from_secs(20),
    )
    .await;
    let refused = server.lock().unwrap().refused;
    assert_eq!(refused, 0, "no 429 when alone");
    // The server allows 30 a second and a first burst of 30; go-tfe's sizing would use 0.66 of it.
    let per_second = (served as f64 - 30.0) / took.as_secs_f64();
    assert!(per_second >= 28.5, "{served} requests in {took:?}");
    assert_eq!(limiter.rate().0, 30.0, "paced at the stated limit");
}

#[tokio::test(start_paused = true)]
async fn two_processes_sharing_a_token_converge_on_their_shares() {
    let server = ServerBucket::new(30.0);
    let (a, b) = (connected(30.0), connected(30.0));
    let run_for = Duration::from_secs(30);
    let latency = Duration::from_millis(40);
    let ((served_a, took_a), (served_b, took_b)) = tokio::join!(
        busy_process(a, server.clone(), 100, latency, run_for),
        busy_process(b, server.clone(), 100, latency, run_for),
    );
    let refused = server.lock().unwrap().refused;
    let total = served_a + served_b;
    // Together they use most of the 30/s; each gets a fair part of it.
    let per_second = (total as f64 - 30.0) / took_a.max(took_b).as_secs_f64();
    assert!(
        per_second >= 27.0,
        "{served_a} + {served_b} in {took_a:?} and {took_b:?}"
    );
    let share = served_a as f64 / total as f64;
    assert!(
        (0.4..=0.6).contains(&share),
        "{served_a} against {served_b}"
    );
    // The 429s the server serves are the start's collision and a few more, not a steady stream.
    assert!(refused <= 40, "{refused} refused");
}

#[tokio::test(start_paused = true)]
async fn answers_correct_the_model_minus_requests_sent_since() {
    let limiter = connected(30.0);
    let first = limiter.acquire().await;
    let budget = ServerBudget {
        limit: Some(30.0),
        remaining: Some(29.0),
        reset: None,
    };
    // Ten more leave before the first answer arrives.
    for _ in 0..10 {
        limiter.acquire().await;
    }
    limiter.observe(first, budget);
    let tokens = lock(&limiter.budget).tokens;
    assert!(
        (tokens - 19.0).abs() < 1e-9,
        "29 left less the 10 sent since: {tokens}"
    );
    // A newer answer stating less than the model holds: others spent the difference, and the model
    // refills more slowly from now on.
    let older = limiter.acquire().await;
    let newest = limiter.acquire().await;
    limiter.observe(
        newest,
        ServerBudget {
            remaining: Some(6.0),
            ..budget
        },
    );
    let (tokens, others) = {
        let s = lock(&limiter.budget);
        (s.tokens, s.others_per_sec)
    };
    assert!(
        (tokens - 5.0).abs() < 1e-9,
        "6 less the older request, still unanswered when this one left: {tokens}"
    );
    assert!(
        (others - 11.0 / OTHERS_WINDOW.as_secs_f64()).abs() < 1e-9,
        "17 expected at the full refill, 6 stated: {others}"
    );
    // An older answer after a newer one says less than what is known: ignored.
    limiter.observe(older, budget);
    assert!((lock(&limiter.budget).tokens - 5.0).abs() < 1e-9);
    // 5 left and a reserve of 6: the next request waits for the refill to reach 7, 2 requests at
    // 30/s less what the others spend.
    let started = Instant::now();
    limiter.acquire().await;
    let waited = started.elapsed().as_secs_f64();
    let expected = 2.0 / (30.0 - others);
    assert!((waited - expected).abs() < 0.002, "{waited} s");
}

#[tokio::test(start_paused = true)]
async fn an_empty_budget_stops_everyone_until_the_stated_reset() {
    let limiter = connected(30.0);
    let ticket = limiter.acquire().await;
    limiter.observe(
        ticket,
        ServerBudget {
            limit: Some(30.0),
            remaining: Some(0.0),
            reset: Some(Duration::from_millis(900)),
        },
    );
    let started = Instant::now();
    limiter.acquire().await;
    assert!(started.elapsed() >= Duration::from_millis(900));
    // A hostile reset is held to a short pause.
    let ticket = limiter.acquire().await;
    limiter.observe(
        ticket,
        ServerBudget {
            limit: Some(30.0),
            remaining: Some(0.0),
            reset: Some(Duration::from_secs(3600)),
        },
    );
    let started = Instant::now();
    limiter.acquire().await;
    assert!(started.elapsed() <= MAX_EMPTY_PAUSE + Duration::from_millis(300));
}

#[tokio::test(start_paused = true)]
async fn without_a_stated_remaining_budget_the_bucket_keeps_go_tfes_sizing() {
    let limiter = connected(30.0); // 19.8/s, burst 9
    let start = Instant::now();
    for _ in 0..29 {
        let ticket = limiter.acquire().await;
        limiter.observe(
            ticket,
            ServerBudget {
                limit: Some(30.0),
                remaining: None,
                reset: None,
            },
        );
    }
    // 9 from the burst, 20 more at 19.8/s take about 1 s.
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert!(elapsed <= Duration::from_millis(1100), "{elapsed:?}");
}

#[tokio::test(start_paused = true)]
async fn waiters_are_served_in_the_order_they_came() {
    let limiter = connected(30.0); // burst 9 at 19.8/s
    for _ in 0..9 {
        limiter.acquire().await;
    }
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (limiter, order) = (limiter.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            limiter.acquire().await;
            order.lock().unwrap().push(i);
        }));
        // Each one arrives after the one before has lined up.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for task in tasks {
        task.await.unwrap();
    }
    let order = order.lock().unwrap().clone();
    assert_eq!(order, (0..40).collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn priority_callers_are_served_before_the_queue() {
    let limiter = connected(30.0); // 19.8/s, burst 9
    for _ in 0..9 {
        limiter.acquire().await; // the burst is used up
    }
    // Forty ordinary requests queue up, then one with priority arrives.
    let queue: Vec<_> = (0..40)
        .map(|_| {
            let l = limiter.clone();
            tokio::spawn(async move {
                l.acquire().await;
            })
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
    assert_eq!(lock(&limiter.budget).priority_waiting, 0);
}

#[tokio::test(start_paused = true)]
async fn a_caller_that_gives_up_leaves_the_line() {
    let limiter = connected(30.0);
    for _ in 0..9 {
        limiter.acquire().await;
    }
    let dropped = tokio::time::timeout(Duration::from_millis(10), limiter.acquire()).await;
    assert!(dropped.is_err(), "it had to wait");
    let started = Instant::now();
    limiter.acquire().await;
    assert!(
        started.elapsed() <= Duration::from_millis(60),
        "the next one does not wait for the one that left: {:?}",
        started.elapsed()
    );
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
    // A stated remaining budget beyond any bucket is held to the same bound.
    let ticket = huge.acquire().await;
    huge.observe(
        ticket,
        ServerBudget {
            limit: Some(1e300),
            remaining: Some(1e300),
            reset: None,
        },
    );
    assert_eq!(huge.rate(), (10_000.0, 8_000.0));
    huge.pause_for(Duration::MAX);
    // Still usable (the pause saturates instead of overflowing the clock).
    assert!(
        tokio::time::timeout(Duration::from_secs(1), huge.acquire())
            .await
            .is_err()
    );
}

#[tokio::test(start_paused = true)]
async fn no_stated_limit_means_no_wait_and_any_answer_counts_as_one() {
    let limiter = RateLimiter::unlimited();
    assert!(!limiter.has_answered());
    let start = Instant::now();
    for _ in 0..1000 {
        limiter.acquire().await;
    }
    assert_eq!(start.elapsed(), Duration::ZERO);
    let ticket = limiter.acquire().await;
    limiter.observe(ticket, ServerBudget::default());
    assert!(limiter.has_answered());
    assert!(limiter.rate().0.is_infinite());
}
