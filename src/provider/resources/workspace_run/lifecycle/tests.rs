//! The lifecycle offline: the decision table row by row, retry and poll timing, and `drive` on a paused
//! clock against a fake API whose runs follow scripted statuses (so every path, stop and timeout included,
//! runs in milliseconds without a server).

use std::sync::Mutex;

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;

fn settings() -> RunSettings {
    RunSettings {
        manual_confirm: false,
        message: None,
        retry: true,
        retry_attempts: 3,
        retry_backoff_min: Duration::from_secs(1),
        retry_backoff_max: Duration::from_secs(30),
        wait_for_run: true,
        options: RunOptions::default(),
    }
}

fn view(status: &str, is_confirmable: bool) -> RunView {
    RunView {
        id: "run-1".into(),
        status: status.into(),
        is_confirmable,
        position_in_queue: None,
    }
}

#[test]
fn moving_statuses_keep_waiting() {
    for status in [
        "pending",
        "fetching",
        "fetching_completed",
        "queuing",
        "plan_queued",
        "planning",
        "pre_plan_running",
        "pre_plan_completed",
        "post_plan_running",
        "cost_estimating",
        "policy_checking",
        "confirmed",
        "queuing_apply",
        "apply_queued",
        "applying",
        "pre_apply_running",
        "pre_apply_completed",
        "post_apply_running",
        "post_apply_completed",
    ] {
        assert_eq!(
            decide(&view(status, false), &settings()),
            Decision::KeepWaiting,
            "{status}"
        );
    }
}

#[test]
fn paused_plans_are_confirmed_unless_a_human_must() {
    let manual = RunSettings {
        manual_confirm: true,
        ..settings()
    };
    for status in [
        "planned",
        "post_plan_completed",
        "cost_estimated",
        "policy_checked",
        "planned_and_saved",
    ] {
        assert_eq!(
            decide(&view(status, true), &settings()),
            Decision::Confirm,
            "{status}"
        );
        assert_eq!(
            decide(&view(status, true), &manual),
            Decision::WaitForHuman(HumanStep::ConfirmOrDiscard),
            "{status}"
        );
        // Passing through on the way to the next stage: nothing to do yet.
        assert_eq!(
            decide(&view(status, false), &settings()),
            Decision::KeepWaiting,
            "{status}"
        );
    }
}

#[test]
fn policy_override_waits_for_a_human_whatever_manual_confirm_says() {
    for manual_confirm in [false, true] {
        let s = RunSettings {
            manual_confirm,
            ..settings()
        };
        for status in ["policy_override", "post_plan_awaiting_decision"] {
            assert_eq!(
                decide(&view(status, false), &s),
                Decision::WaitForHuman(HumanStep::PolicyOverride)
            );
        }
    }
}

#[test]
fn final_statuses() {
    let s = settings();
    assert_eq!(
        decide(&view("applied", false), &s),
        Decision::Succeed(Success::Applied)
    );
    assert_eq!(
        decide(&view("planned_and_finished", false), &s),
        Decision::Succeed(Success::NoChanges)
    );
    assert_eq!(decide(&view("errored", false), &s), Decision::Errored);
    for status in [
        "discarded",
        "canceled",
        "force_canceled",
        "policy_soft_failed",
    ] {
        assert_eq!(decide(&view(status, false), &s), Decision::Fail, "{status}");
    }
    assert_eq!(
        decide(&view("brand_new_status", false), &s),
        Decision::KeepWaitingUnknown
    );
}

#[test]
fn errors_are_retried_while_attempts_remain_but_never_after_a_hard_policy_failure() {
    let s = settings();
    assert!(matches!(
        after_error(&s, 0, false),
        ErrorDecision::RetryAfter(_)
    ));
    assert!(matches!(
        after_error(&s, 2, false),
        ErrorDecision::RetryAfter(_)
    ));
    assert_eq!(after_error(&s, 3, false), ErrorDecision::Fail);
    assert_eq!(after_error(&s, 0, true), ErrorDecision::Fail);
    let off = RunSettings {
        retry: false,
        ..settings()
    };
    assert_eq!(after_error(&off, 0, false), ErrorDecision::Fail);
    let zero = RunSettings {
        retry_attempts: 0,
        ..settings()
    };
    assert_eq!(after_error(&zero, 0, false), ErrorDecision::Fail);
}

#[test]
fn retry_backoff_is_in_seconds_grows_exponentially_and_stays_within_min_and_max() {
    let mut rng = StdRng::seed_from_u64(7);
    let s = settings(); // 1 s .. 30 s
    for _ in 0..200 {
        assert_eq!(retry_backoff(&s, 1, &mut rng), Duration::from_secs(1));
        let second = retry_backoff(&s, 2, &mut rng);
        assert!(second >= Duration::from_secs(1) && second <= Duration::from_secs(2));
        let fourth = retry_backoff(&s, 4, &mut rng);
        assert!(fourth >= Duration::from_secs(4) && fourth <= Duration::from_secs(8));
        let tenth = retry_backoff(&s, 10, &mut rng);
        assert!(tenth >= Duration::from_secs(15) && tenth <= Duration::from_secs(30));
        assert!(retry_backoff(&s, 60, &mut rng) <= Duration::from_secs(30));
    }
    let ten = RunSettings {
        retry_backoff_min: Duration::from_secs(10),
        ..settings()
    };
    assert_eq!(retry_backoff(&ten, 1, &mut rng), Duration::from_secs(10));
    // Jitter really varies the pause.
    let samples: std::collections::HashSet<_> =
        (0..20).map(|_| retry_backoff(&s, 5, &mut rng)).collect();
    assert!(samples.len() > 10);
}

#[test]
fn polls_start_quick_and_settle_at_three_seconds() {
    assert_eq!(poll_interval(0), Duration::from_secs(1));
    assert!((1..100).all(|n| poll_interval(n) <= Duration::from_secs(3)));
    assert_eq!(poll_interval(50), Duration::from_secs(3));
}

/// A scripted TFE: each run plans for `plan`, then pauses for confirmation (or finishes; or, created
/// with auto-apply, confirms itself), then applies for `apply` after it is confirmed. Time is tokio's
/// paused clock.
struct FakeTfe {
    /// A server that ignores the create's auto-apply (every run pauses for a confirmation).
    ignores_auto_apply: bool,
    /// Refuse the stop of an interrupted run with this.
    stop_refused: Option<ApiFailure>,
    plan: Duration,
    apply: Duration,
    /// What the plan of run number N (0-based) ends in.
    plan_ends: Box<dyn Fn(usize) -> &'static str + Send + Sync>,
    /// What the apply of run number N ends in.
    apply_ends: Box<dyn Fn(usize) -> &'static str + Send + Sync>,
    hard_policy_failure: bool,
    /// Answer the first N confirms with 409.
    conflicts: Mutex<u32>,
    /// Fail the next N reads with a transient error.
    transient_reads: Mutex<u32>,
    read_fails_fatally: bool,
    /// How long each create takes to answer.
    create_delay: Duration,
    /// Refuse every create with this.
    create_refused: Option<ApiFailure>,
    state: Mutex<FakeState>,
}

#[derive(Default)]
struct FakeState {
    runs: Vec<FakeRun>,
    requests: Vec<String>,
}

struct FakeRun {
    created: Instant,
    confirmed: Option<Instant>,
    /// Set by the "human" in tests, or by a stop.
    discarded: bool,
    canceled: bool,
    auto_apply: bool,
}

impl FakeTfe {
    fn new(plan_secs: u64, apply_secs: u64) -> Self {
        FakeTfe {
            ignores_auto_apply: false,
            stop_refused: None,
            plan: Duration::from_secs(plan_secs),
            apply: Duration::from_secs(apply_secs),
            plan_ends: Box::new(|_| "planned"),
            apply_ends: Box::new(|_| "applied"),
            hard_policy_failure: false,
            conflicts: Mutex::new(0),
            transient_reads: Mutex::new(0),
            read_fails_fatally: false,
            create_delay: Duration::ZERO,
            create_refused: None,
            state: Mutex::default(),
        }
    }

    fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    fn count(&self, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.starts_with(prefix))
            .count()
    }

    fn status_of(&self, index: usize) -> RunView {
        let state = self.state.lock().unwrap();
        let run = &state.runs[index];
        let now = Instant::now();
        let id = format!("run-{index}");
        let planned = run.created + self.plan;
        // A run that applies by itself is confirmed by the server the moment its plan ends.
        let confirmed = run.confirmed.or_else(|| {
            (run.auto_apply && now >= planned && (self.plan_ends)(index) == "planned")
                .then_some(planned)
        });
        let (status, is_confirmable) = if run.discarded {
            ("discarded", false)
        } else if run.canceled {
            ("canceled", false)
        } else if now < planned {
            ("planning", false)
        } else if let Some(confirmed) = confirmed {
            if now < confirmed + self.apply {
                ("applying", false)
            } else {
                ((self.apply_ends)(index), false)
            }
        } else {
            let ended = (self.plan_ends)(index);
            (ended, ended == "planned")
        };
        RunView {
            id,
            status: status.into(),
            is_confirmable,
            position_in_queue: None,
        }
    }

    fn human_confirms(&self, index: usize) {
        self.state.lock().unwrap().runs[index].confirmed = Some(Instant::now());
    }

    fn human_discards(&self, index: usize) {
        self.state.lock().unwrap().runs[index].discarded = true;
    }
}

fn index_of(run_id: &str) -> usize {
    run_id.trim_start_matches("run-").parse().unwrap()
}

impl RunApi for FakeTfe {
    async fn create_run(
        &self,
        operation: Operation,
        settings: &RunSettings,
    ) -> Result<RunView, ApiFailure> {
        tokio::time::sleep(self.create_delay).await;
        if let Some(refused) = &self.create_refused {
            return Err(refused.clone());
        }
        let index = {
            let mut state = self.state.lock().unwrap();
            state.requests.push(format!("POST /runs {operation}"));
            state.runs.push(FakeRun {
                created: Instant::now(),
                confirmed: None,
                discarded: false,
                canceled: false,
                auto_apply: settings.auto_apply() && !self.ignores_auto_apply,
            });
            state.runs.len() - 1
        };
        Ok(RunView {
            id: format!("run-{index}"),
            status: "pending".into(),
            is_confirmable: false,
            position_in_queue: None,
        })
    }

    async fn read_run(&self, run_id: &str) -> Result<RunView, ApiFailure> {
        self.state
            .lock()
            .unwrap()
            .requests
            .push(format!("GET /runs/{run_id}"));
        if self.read_fails_fatally {
            return Err(ApiFailure::Fatal("not found (404)".into()));
        }
        {
            let mut transient = self.transient_reads.lock().unwrap();
            if *transient > 0 {
                *transient -= 1;
                return Err(ApiFailure::Transient {
                    message: "too many requests (429)".into(),
                    retry_after: Some(Duration::from_secs(2)),
                });
            }
        }
        Ok(self.status_of(index_of(run_id)))
    }

    async fn confirm_run(&self, run_id: &str) -> Result<(), ApiFailure> {
        self.state
            .lock()
            .unwrap()
            .requests
            .push(format!("POST /runs/{run_id}/actions/apply"));
        {
            let mut conflicts = self.conflicts.lock().unwrap();
            if *conflicts > 0 {
                *conflicts -= 1;
                return Err(ApiFailure::Conflict("not paused for confirmation".into()));
            }
        }
        self.human_confirms(index_of(run_id));
        Ok(())
    }

    async fn hard_policy_failure(&self, run_id: &str) -> Result<bool, ApiFailure> {
        self.state
            .lock()
            .unwrap()
            .requests
            .push(format!("GET /runs/{run_id}/policy-checks"));
        Ok(self.hard_policy_failure)
    }

    fn run_url(&self, run_id: &str) -> String {
        format!("https://tfe.example/app/org/workspaces/ws/runs/{run_id}")
    }

    async fn stop_unapplied(&self, run_id: &str) -> Result<Unapplied, ApiFailure> {
        if let Some(refused) = &self.stop_refused {
            return Err(refused.clone());
        }
        let now = self.status_of(index_of(run_id));
        let status = now.status.to_string();
        if now.status.is_final() {
            return Ok(Unapplied::Ended { status });
        }
        if !before_apply(&now.status) {
            return Ok(Unapplied::Applying { status });
        }
        let mut state = self.state.lock().unwrap();
        let run = &mut state.runs[index_of(run_id)];
        let done = if now.is_confirmable {
            run.discarded = true;
            Unapplied::Discarded { status }
        } else {
            run.canceled = true;
            Unapplied::Canceled { status }
        };
        let action = if run.discarded { "discard" } else { "cancel" };
        state
            .requests
            .push(format!("POST /runs/{run_id}/actions/{action}"));
        Ok(done)
    }
}

async fn run(fake: &FakeTfe, s: &RunSettings) -> Result<RunOutcome, RunFailure> {
    drive(
        fake,
        Operation::Apply,
        s,
        None,
        &CancellationToken::new(),
        None,
    )
    .await
}

#[tokio::test(start_paused = true)]
async fn a_run_this_provider_would_confirm_applies_by_itself_with_no_confirm_request() {
    let fake = FakeTfe::new(60, 60);
    assert!(
        settings().auto_apply(),
        "manual_confirm = false: queued with auto-apply"
    );
    let started = Instant::now();
    let outcome = run(&fake, &settings()).await.unwrap();
    assert_eq!(outcome.run_id, "run-0");
    assert_eq!(outcome.success, Some(Success::Applied));
    assert_eq!(fake.count("POST /runs "), 1);
    assert_eq!(fake.count("POST /runs/run-0/actions"), 0);
    let elapsed = started.elapsed();
    assert!(elapsed <= Duration::from_secs(123), "took {elapsed:?}");
    // One request per poll, about one poll every 3 s over 120 s.
    let total = fake.requests().len();
    assert!(total <= 43, "{total} requests: {:?}", fake.requests());
}

#[tokio::test(start_paused = true)]
async fn a_server_that_ignores_auto_apply_gets_the_confirm_as_before() {
    let fake = FakeTfe {
        ignores_auto_apply: true,
        ..FakeTfe::new(60, 60)
    };
    let outcome = run(&fake, &settings()).await.unwrap();
    assert_eq!(outcome.success, Some(Success::Applied));
    assert_eq!(fake.count("POST /runs/run-0/actions/apply"), 1);
}

#[tokio::test(start_paused = true)]
async fn manual_confirm_waits_for_a_human_and_never_confirms_itself() {
    let fake = std::sync::Arc::new(FakeTfe::new(5, 5));
    let s = RunSettings {
        manual_confirm: true,
        ..settings()
    };
    let human = {
        let fake = fake.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(30)).await;
            fake.human_confirms(0);
        })
    };
    let outcome = run(&fake, &s).await.unwrap();
    human.await.unwrap();
    assert_eq!(outcome.success, Some(Success::Applied));
    assert_eq!(fake.count("POST /runs/run-0/actions/apply"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_discarded_run_fails_naming_run_status_and_url() {
    let fake = std::sync::Arc::new(FakeTfe::new(5, 5));
    let s = RunSettings {
        manual_confirm: true,
        ..settings()
    };
    let human = {
        let fake = fake.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            fake.human_discards(0);
        })
    };
    let failure = run(&fake, &s).await.unwrap_err();
    human.await.unwrap();
    assert_eq!(failure.run_id.as_deref(), Some("run-0"));
    assert_eq!(
        failure.reason,
        FailureReason::RunEnded {
            status: "discarded".into()
        }
    );
    assert!(failure.message.contains("run-0"), "{}", failure.message);
    assert!(
        failure.message.contains("\"discarded\""),
        "{}",
        failure.message
    );
    assert!(
        failure
            .message
            .contains("https://tfe.example/app/org/workspaces/ws/runs/run-0")
    );
}

#[tokio::test(start_paused = true)]
async fn no_changes_is_success_without_confirming() {
    let mut fake = FakeTfe::new(3, 3);
    fake.plan_ends = Box::new(|_| "planned_and_finished");
    let outcome = run(&fake, &settings()).await.unwrap();
    assert_eq!(outcome.success, Some(Success::NoChanges));
    assert_eq!(fake.count("POST /runs/run-0/actions/apply"), 0);
}

#[tokio::test(start_paused = true)]
async fn an_errored_run_is_retried_with_a_new_run_after_a_backoff_in_seconds() {
    let mut fake = FakeTfe::new(2, 2);
    fake.plan_ends = Box::new(|n| if n < 2 { "errored" } else { "planned" });
    let s = RunSettings {
        retry_backoff_min: Duration::from_secs(5),
        retry_backoff_max: Duration::from_secs(5),
        ..settings()
    };
    let started = Instant::now();
    let outcome = run(&fake, &s).await.unwrap();
    assert_eq!(outcome.run_id, "run-2");
    assert_eq!(outcome.retries, 2);
    assert_eq!(fake.count("POST /runs "), 3);
    // Two pauses of 5 s between the three runs.
    assert!(started.elapsed() >= Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn errors_past_the_retries_fail_with_the_last_run() {
    let mut fake = FakeTfe::new(2, 2);
    fake.apply_ends = Box::new(|_| "errored");
    let s = RunSettings {
        retry_attempts: 2,
        ..settings()
    };
    let failure = run(&fake, &s).await.unwrap_err();
    assert_eq!(fake.count("POST /runs "), 3);
    assert_eq!(failure.run_id.as_deref(), Some("run-2"));
    assert!(
        failure.message.contains("after 2 retries"),
        "{}",
        failure.message
    );
}

#[tokio::test(start_paused = true)]
async fn a_hard_policy_failure_is_not_retried() {
    let mut fake = FakeTfe::new(2, 2);
    fake.plan_ends = Box::new(|_| "errored");
    fake.hard_policy_failure = true;
    let failure = run(&fake, &settings()).await.unwrap_err();
    assert_eq!(fake.count("POST /runs "), 1);
    assert!(failure.message.contains("policy"), "{}", failure.message);
}

#[tokio::test(start_paused = true)]
async fn a_conflict_on_confirm_means_poll_again() {
    let fake = FakeTfe {
        ignores_auto_apply: true,
        ..FakeTfe::new(2, 2)
    };
    *fake.conflicts.lock().unwrap() = 2;
    let outcome = run(&fake, &settings()).await.unwrap();
    assert_eq!(outcome.success, Some(Success::Applied));
    assert_eq!(fake.count("POST /runs/run-0/actions/apply"), 3);
}

#[tokio::test(start_paused = true)]
async fn transient_read_errors_are_retried_and_fatal_ones_fail_at_once() {
    let fake = FakeTfe::new(2, 2);
    *fake.transient_reads.lock().unwrap() = 3;
    assert!(run(&fake, &settings()).await.is_ok());

    let mut fatal = FakeTfe::new(2, 2);
    fatal.read_fails_fatally = true;
    let failure = run(&fatal, &settings()).await.unwrap_err();
    assert_eq!(failure.reason, FailureReason::Api);
    assert_eq!(fatal.count("GET /runs/"), 1);
    assert!(failure.message.contains("404"), "{}", failure.message);
    // The wait failed before the apply: the run would have applied by itself, so it is stopped.
    assert_eq!(fatal.count("POST /runs/run-0/actions/cancel"), 1);
}

/// Drives a run whose plan and apply take 600 s each and stops the wait after `stop_after`.
async fn stopped_after(fake: &FakeTfe, s: &RunSettings, stop_after: Duration) -> RunFailure {
    let stop = CancellationToken::new();
    let stopper = {
        let stop = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(stop_after).await;
            stop.cancel();
        })
    };
    let started = Instant::now();
    let failure = drive(fake, Operation::Apply, s, None, &stop, None)
        .await
        .unwrap_err();
    stopper.await.unwrap();
    assert!(started.elapsed() < stop_after + Duration::from_secs(1));
    assert_eq!(failure.reason, FailureReason::Interrupted);
    assert_eq!(failure.run_id.as_deref(), Some("run-0"));
    assert!(
        failure.message.contains("/runs/run-0"),
        "{}",
        failure.message
    );
    failure
}

#[tokio::test(start_paused = true)]
async fn stopping_returns_at_once_naming_the_run_and_leaves_a_run_waiting_for_a_person_alone() {
    let fake = FakeTfe::new(600, 600);
    let manual = RunSettings {
        manual_confirm: true,
        ..settings()
    };
    let failure = stopped_after(&fake, &manual, Duration::from_secs(10)).await;
    assert!(
        failure.message.contains("\"planning\"") && failure.message.contains("left as it is"),
        "{}",
        failure.message
    );
    assert_eq!(fake.count("POST /runs/run-0/actions"), 0);
}

#[tokio::test(start_paused = true)]
async fn stopping_during_the_plan_cancels_a_run_that_would_apply_by_itself() {
    let fake = FakeTfe::new(600, 600);
    let failure = stopped_after(&fake, &settings(), Duration::from_secs(10)).await;
    assert_eq!(fake.count("POST /runs/run-0/actions/cancel"), 1);
    assert_eq!(fake.status_of(0).status.as_str(), "canceled");
    assert!(
        failure.message.contains("canceled while planning")
            && failure.message.contains("nothing of it is applied"),
        "{}",
        failure.message
    );
}

#[tokio::test(start_paused = true)]
async fn stopping_once_it_applies_leaves_it_to_finish_the_apply_asked_for() {
    let fake = FakeTfe::new(5, 600);
    let failure = stopped_after(&fake, &settings(), Duration::from_secs(30)).await;
    assert_eq!(fake.count("POST /runs/run-0/actions"), 0);
    assert!(
        failure
            .message
            .contains("already started applying (applying)"),
        "{}",
        failure.message
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_that_cannot_be_sent_says_the_run_will_apply_and_where_to_stop_it() {
    // Refused for good: said at once.
    let fake = FakeTfe {
        stop_refused: Some(ApiFailure::Fatal("forbidden (403)".into())),
        ..FakeTfe::new(600, 600)
    };
    let failure = stopped_after(&fake, &settings(), Duration::from_secs(10)).await;
    assert!(
        failure
            .message
            .contains("could not be stopped (forbidden (403))")
            && failure
                .message
                .contains("unless someone discards or cancels it at https://tfe.example/"),
        "{}",
        failure.message
    );
    // Failing again and again: tried until the grace is spent, then said.
    let flaky = FakeTfe {
        stop_refused: Some(ApiFailure::Transient {
            message: "server error (503)".into(),
            retry_after: None,
        }),
        ..FakeTfe::new(600, 600)
    };
    let stop = CancellationToken::new();
    stop.cancel();
    let started = Instant::now();
    let failure = drive(&flaky, Operation::Apply, &settings(), None, &stop, None)
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        took >= STOP_GRACE && took <= STOP_GRACE + Duration::from_secs(2),
        "{took:?}"
    );
    assert!(
        failure.message.contains(&format!(
            "could not be stopped within {} s",
            STOP_GRACE.as_secs()
        )),
        "{}",
        failure.message
    );
}

#[tokio::test(start_paused = true)]
async fn the_deadline_bounds_the_wait_and_stops_a_run_that_would_apply_by_itself() {
    let fake = FakeTfe::new(600, 600);
    let started = Instant::now();
    let deadline = Some(started + Duration::from_secs(5));
    let failure = drive(
        &fake,
        Operation::Destroy,
        &settings(),
        None,
        &CancellationToken::new(),
        deadline,
    )
    .await
    .unwrap_err();
    assert_eq!(failure.reason, FailureReason::TimedOut);
    assert!(started.elapsed() <= Duration::from_secs(5));
    assert_eq!(failure.run_id.as_deref(), Some("run-0"));
    assert_eq!(fake.count("POST /runs/run-0/actions/cancel"), 1);
}

#[tokio::test(start_paused = true)]
async fn without_waiting_the_run_is_only_queued() {
    let fake = FakeTfe::new(60, 60);
    let s = RunSettings {
        wait_for_run: false,
        ..settings()
    };
    assert!(s.auto_apply());
    let outcome = run(&fake, &s).await.unwrap();
    assert_eq!(outcome.success, None);
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_stop_during_the_create_still_reports_the_run_it_made() {
    let stop = CancellationToken::new();
    stop.cancel();
    let quick = FakeTfe {
        create_delay: Duration::from_millis(300),
        ..FakeTfe::new(60, 60)
    };
    let started = Instant::now();
    let failure = drive(&quick, Operation::Apply, &settings(), None, &stop, None)
        .await
        .unwrap_err();
    assert_eq!(failure.reason, FailureReason::Interrupted);
    assert_eq!(
        failure.run_id.as_deref(),
        Some("run-0"),
        "{}",
        failure.message
    );
    assert!(started.elapsed() < Duration::from_secs(1));

    let stuck = FakeTfe {
        create_delay: Duration::from_secs(30),
        ..FakeTfe::new(60, 60)
    };
    let started = Instant::now();
    let failure = drive(&stuck, Operation::Apply, &settings(), None, &stop, None)
        .await
        .unwrap_err();
    assert_eq!(failure.run_id, None);
    assert!(started.elapsed() <= CREATE_GRACE, "{:?}", started.elapsed());
    assert!(failure.message.contains("run list"), "{}", failure.message);
}

#[tokio::test(start_paused = true)]
async fn an_adopted_run_is_seen_through_without_queuing_another() {
    let fake = FakeTfe::new(5, 5);
    // A run an earlier apply queued, already planned and waiting for its confirmation.
    fake.state.lock().unwrap().runs.push(FakeRun {
        created: Instant::now() - Duration::from_secs(10),
        confirmed: None,
        discarded: false,
        canceled: false,
        auto_apply: false,
    });
    let adopted = fake.status_of(0);
    assert!(adopted.is_confirmable);
    let outcome = drive(
        &fake,
        Operation::Apply,
        &settings(),
        Some(adopted),
        &CancellationToken::new(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(outcome.run_id, "run-0");
    assert_eq!(outcome.success, Some(Success::Applied));
    assert_eq!(fake.count("POST /runs "), 0, "{:?}", fake.requests());
    assert_eq!(fake.count("POST /runs/run-0/actions/apply"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_workspace_without_configuration_is_a_result_of_its_own() {
    let mut fake = FakeTfe::new(1, 1);
    fake.create_refused = Some(ApiFailure::NoConfigurationVersion(
        "the workspace has no configuration version".into(),
    ));
    let failure = drive(
        &fake,
        Operation::Destroy,
        &settings(),
        None,
        &CancellationToken::new(),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(failure.reason, FailureReason::NoConfigurationVersion);
    assert_eq!(failure.run_id, None);
    assert_eq!(
        failure.message,
        "could not queue the destroy run: the workspace has no configuration version"
    );

    // Any other refusal is a plain "not queued".
    fake.create_refused = Some(ApiFailure::Fatal("forbidden (403)".into()));
    let failure = run(&fake, &settings()).await.unwrap_err();
    assert_eq!(failure.reason, FailureReason::NotQueued);
}

#[test]
fn an_unknown_status_keeps_its_text_and_keeps_waiting() {
    let run = view("brand_new_status", true);
    assert_eq!(run.status, RunStatus::Unknown("brand_new_status".into()));
    assert_eq!(run.status.to_string(), "brand_new_status");
    assert_eq!(decide(&run, &settings()), Decision::KeepWaitingUnknown);
}

#[test]
fn run_options_show_variable_names_but_never_their_values() {
    let options = RunOptions {
        variables: vec![("region".into(), "\"s3cr3t-value\"".into())],
        ..RunOptions::default()
    };
    let shown = format!(
        "{:?}",
        RunSettings {
            options,
            ..settings()
        }
    );
    assert!(shown.contains("region"), "{shown}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
}
