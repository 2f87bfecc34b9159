//! The poller's scheduling and batching, on a paused clock against a fake API whose runs follow
//! fixed timelines.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;
use tfe_client::Pagination;

use super::*;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn stamp(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// A run document with `status` and the given status timestamps.
fn run_doc(id: &str, status: &str, confirmable: bool, stamps: &[(&str, OffsetDateTime)]) -> Run {
    let timestamps: serde_json::Map<String, serde_json::Value> = stamps
        .iter()
        .map(|(k, t)| (k.to_string(), json!(stamp(*t))))
        .collect();
    serde_json::from_value(json!({
        "id": id,
        "type": "runs",
        "attributes": {
            "status": status,
            "status-timestamps": timestamps,
            "actions": {"is-confirmable": confirmable},
        },
    }))
    .unwrap()
}

// ---------------------------------------------------------------------------- the schedule

#[test]
fn a_running_phase_is_looked_at_rarely_until_its_expected_end_then_just_after_it() {
    let now = OffsetDateTime::now_utc();
    let history = History {
        plan: Some(secs(60.0)),
        apply: Some(secs(60.0)),
    };
    let planning = |started: f64| {
        run_doc(
            "run-1",
            "planning",
            false,
            &[("planning-at", now - secs(started))],
        )
    };
    // 60 s left: half of it, at most 15 s.
    assert_eq!(
        next_look(&planning(0.0), &history, now, false),
        Some(secs(15.0))
    );
    // 10 s left: 5 s.
    assert_eq!(
        next_look(&planning(50.0), &history, now, false),
        Some(secs(5.0))
    );
    // 3 s left: just after the expected end.
    assert_eq!(
        next_look(&planning(57.0), &history, now, false),
        Some(secs(3.0) + LEAD)
    );
    // Overdue: every second, later every 2 s, so a late change is still seen within 3 s.
    assert_eq!(
        next_look(&planning(62.0), &history, now, false),
        Some(secs(1.0))
    );
    assert_eq!(
        next_look(&planning(90.0), &history, now, false),
        Some(secs(2.0))
    );
}

#[test]
fn a_phase_of_unknown_length_is_looked_at_every_0_9_s_and_a_persons_step_every_1_5_s() {
    let now = OffsetDateTime::now_utc();
    let run = run_doc("run-1", "applying", false, &[("applying-at", now)]);
    assert_eq!(
        next_look(&run, &History::default(), now, false),
        Some(BLIND_PHASE)
    );
    let no_stamp = run_doc("run-1", "planning", false, &[]);
    let history = History {
        plan: Some(secs(60.0)),
        apply: None,
    };
    assert_eq!(
        next_look(&no_stamp, &history, now, false),
        Some(BLIND_PHASE)
    );
    // A first run is noticed within a second, at most.
    assert!(BLIND_PHASE < secs(1.0));
    let overriding = run_doc("run-1", "policy_override", false, &[]);
    assert_eq!(next_look(&overriding, &history, now, false), Some(BLIND));
}

#[test]
fn a_run_that_applies_by_itself_is_first_looked_at_when_its_apply_should_end() {
    let now = OffsetDateTime::now_utc();
    let history = History {
        plan: Some(secs(8.0)),
        apply: Some(secs(4.0)),
    };
    let planning = |auto_apply: bool| {
        let mut run = run_doc(
            "run-1",
            "planning",
            false,
            &[("planning-at", now - secs(7.0))],
        );
        run.attributes.auto_apply = auto_apply;
        run
    };
    // Confirmed by us: just after the plan's end, 1 s from now.
    assert_eq!(
        next_look(&planning(false), &history, now, false),
        Some(secs(1.0) + LEAD)
    );
    // Applying by itself: nothing to do then; the apply should end 5 s from now.
    assert_eq!(
        next_look(&planning(true), &history, now, false),
        Some(secs(5.0) + LEAD)
    );
    // Without the apply's length, the plan's end is the next thing known.
    let plan_only = History {
        plan: Some(secs(8.0)),
        apply: None,
    };
    assert_eq!(
        next_look(&planning(true), &plan_only, now, false),
        Some(BLIND_PHASE)
    );
}

#[tokio::test(start_paused = true)]
async fn a_new_workspace_borrows_the_phase_durations_of_its_siblings_runs() {
    let t0 = OffsetDateTime::now_utc();
    let entry = |organization: &str| Entry {
        organization: organization.into(),
        history: History::default(),
        due: Instant::now(),
        last: None,
        fresh: false,
        delivered: None,
        waiter: None,
        lookers: Vec::new(),
        lent: (false, false),
        confirmed: false,
        keep_until: Instant::now() + KEEP_IDLE,
    };
    let mut state = State::default();
    for (id, org) in [("run-a", "acme"), ("run-b", "acme"), ("run-c", "other")] {
        state.entries.insert(id.into(), entry(org));
    }
    // A sibling planned for 20 s and applied for 10 s.
    let finished = run_doc(
        "run-a",
        "applied",
        false,
        &[
            ("planning-at", t0),
            ("planned-at", t0 + secs(20.0)),
            ("applying-at", t0 + secs(21.0)),
            ("applied-at", t0 + secs(31.0)),
        ],
    );
    let now = t0 + secs(40.0);
    seen(&mut state, finished, true, now);
    // A run of a new workspace in the same organization, planning for 15 s: its plan should end in
    // 5 s, but a sibling's duration is a weaker guide than its own, so look within 2 s.
    let planning = |id: &str| run_doc(id, "planning", false, &[("planning-at", now - secs(15.0))]);
    let before = Instant::now();
    seen(&mut state, planning("run-b"), true, now);
    assert_eq!(state.entries["run-b"].due - before, SIBLING_CAP);
    // Closer to that end, just after it.
    seen(&mut state, planning("run-b"), true, now + secs(3.5));
    assert_eq!(state.entries["run-b"].due - before, secs(1.5) + LEAD);
    // Another organization's runs lend nothing: the phase is of unknown length there.
    seen(&mut state, planning("run-c"), true, now);
    assert_eq!(state.entries["run-c"].due - before, BLIND_PHASE);
    // Each finished phase counts once.
    assert_eq!(state.siblings["acme"].plans.len(), 1);
}

#[test]
fn queued_and_confirmable_runs_are_looked_at_as_often_as_the_next_phase_needs() {
    let now = OffsetDateTime::now_utc();
    let history = History {
        plan: Some(secs(60.0)),
        apply: Some(secs(8.0)),
    };
    let pending = run_doc("run-1", "pending", false, &[]);
    assert_eq!(next_look(&pending, &history, now, false), Some(secs(10.0)));
    let apply_queued = run_doc("run-1", "apply_queued", false, &[]);
    assert_eq!(
        next_look(&apply_queued, &history, now, false),
        Some(secs(2.0))
    );
    let planned = run_doc("run-1", "planned", true, &[]);
    // A person confirms: often enough to see the apply start.
    assert_eq!(next_look(&planned, &history, now, false), Some(secs(2.0)));
    // We confirmed: the apply starts now.
    assert_eq!(next_look(&planned, &history, now, true), Some(secs(1.0)));
    let applied = run_doc("run-1", "applied", false, &[]);
    assert_eq!(next_look(&applied, &history, now, false), None);
}

#[test]
fn history_takes_the_phase_durations_of_an_earlier_run() {
    let t0 = OffsetDateTime::now_utc();
    let run = run_doc(
        "run-0",
        "applied",
        false,
        &[
            ("planning-at", t0),
            ("planned-at", t0 + secs(50.0)),
            ("cost-estimated-at", t0 + secs(52.0)),
            ("confirmed-at", t0 + secs(90.0)),
            ("applying-at", t0 + secs(91.0)),
            ("applied-at", t0 + secs(131.0)),
        ],
    );
    assert_eq!(
        History::from_run(&run),
        History {
            plan: Some(secs(52.0)),
            apply: Some(secs(40.0)),
        }
    );
    assert_eq!(History::from_current(None), History::default());
}

// ---------------------------------------------------------------------------- the rounds

/// A fake API: every run plans from `start` for `plan`, is confirmable until the test confirms it
/// (or, with `auto`, applies straight on), and applies for `apply`.
struct FakeApi {
    t0: Instant,
    wall0: OffsetDateTime,
    runs: Mutex<Vec<FakeRun>>,
    single: AtomicU64,
    pages: AtomicU64,
}

#[derive(Clone)]
struct FakeRun {
    id: String,
    start: Duration,
    plan: Duration,
    apply: Duration,
    confirmed: Option<Duration>,
}

impl FakeApi {
    fn new(runs: Vec<FakeRun>) -> Arc<FakeApi> {
        Arc::new(FakeApi {
            t0: Instant::now(),
            wall0: OffsetDateTime::now_utc(),
            runs: Mutex::new(runs),
            single: AtomicU64::new(0),
            pages: AtomicU64::new(0),
        })
    }

    fn elapsed(&self) -> Duration {
        self.t0.elapsed()
    }

    fn confirm(&self, id: &str) {
        let now = self.elapsed();
        let mut runs = self.runs.lock().unwrap();
        let run = runs.iter_mut().find(|r| r.id == id).unwrap();
        run.confirmed.get_or_insert(now);
    }

    /// When the run became confirmable and when it applied (if it did yet).
    fn changes(run: &FakeRun) -> (Duration, Option<Duration>) {
        let planned = run.start + run.plan;
        (planned, run.confirmed.map(|c| c + run.apply))
    }

    fn render(&self, run: &FakeRun) -> Run {
        let now = self.elapsed();
        let wall = |d: Duration| self.wall0 + d;
        let (planned, applied) = FakeApi::changes(run);
        let mut stamps = vec![("planning-at", wall(run.start))];
        let (status, confirmable) = if now < run.start {
            ("plan_queued", false)
        } else if now < planned {
            ("planning", false)
        } else if run.confirmed.is_none_or(|c| now < c) {
            stamps.push(("planned-at", wall(planned)));
            ("planned", true)
        } else if applied.is_some_and(|a| now < a) {
            let confirmed = run.confirmed.unwrap();
            stamps.push(("planned-at", wall(planned)));
            stamps.push(("applying-at", wall(confirmed)));
            ("applying", false)
        } else {
            stamps.push(("planned-at", wall(planned)));
            stamps.push(("applying-at", wall(run.confirmed.unwrap())));
            stamps.push(("applied-at", wall(applied.unwrap())));
            ("applied", false)
        };
        run_doc(&run.id, status, confirmable, &stamps)
    }
}

impl RunSource for Arc<FakeApi> {
    async fn run(&self, id: &str) -> Result<Run, TfeError> {
        self.single.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let runs = self.runs.lock().unwrap();
        match runs.iter().find(|r| r.id == id) {
            Some(run) => Ok(self.render(run)),
            None => Err(TfeError::NotFound {
                detail: format!("run {id}"),
            }),
        }
    }

    async fn org_runs(&self, _organization: &str, number: u32) -> Result<Page<Run>, TfeError> {
        self.pages.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let runs = self.runs.lock().unwrap();
        // Newest first.
        let all: Vec<Run> = runs.iter().rev().map(|r| self.render(r)).collect();
        let from = ((number - 1) * PAGE_SIZE) as usize;
        let items: Vec<Run> = all
            .into_iter()
            .skip(from)
            .take(PAGE_SIZE as usize)
            .collect();
        let more = from + items.len() < runs.len();
        Ok(Page {
            items,
            pagination: Pagination {
                current_page: number,
                next_page: more.then_some(number + 1),
                ..Pagination::default()
            },
        })
    }
}

fn fake_run(i: usize, start: f64, plan: f64, apply: f64) -> FakeRun {
    FakeRun {
        id: format!("run-{i}"),
        start: secs(start),
        plan: secs(plan),
        apply: secs(apply),
        confirmed: None,
    }
}

/// What one resource does: wait until confirmable, confirm, wait until applied. Returns how late
/// it saw each of the two changes.
async fn see_through(
    poller: Poller<Arc<FakeApi>>,
    api: Arc<FakeApi>,
    id: String,
    history: History,
) -> Vec<Duration> {
    let mut delays = Vec::new();
    loop {
        let run = poller.next(&id, "org", history).await.unwrap();
        let fake = api
            .runs
            .lock()
            .unwrap()
            .iter()
            .find(|r| r.id == id)
            .cloned()
            .unwrap();
        let (planned, applied) = FakeApi::changes(&fake);
        if run.attributes.actions.is_confirmable {
            delays.push(api.elapsed() - planned);
            api.confirm(&id);
            poller.confirmed(&id);
        }
        if run.status() == &RunStatus::Applied {
            delays.push(api.elapsed() - applied.unwrap());
            return delays;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn one_run_is_read_by_itself_a_few_times_and_each_change_is_seen_within_a_second() {
    let api = FakeApi::new(vec![fake_run(1, 0.5, 60.0, 60.0)]);
    let poller = Poller::with_clock(api.clone(), api.t0, api.wall0);
    let history = History {
        plan: Some(secs(60.0)),
        apply: Some(secs(60.0)),
    };
    let delays = see_through(poller.clone(), api.clone(), "run-1".into(), history).await;
    assert_eq!(delays.len(), 2);
    for delay in &delays {
        assert!(*delay <= secs(1.0), "a change was seen {delay:?} late");
    }
    let (single, pages) = poller.requests();
    assert_eq!(pages, 0, "one run is read by itself");
    assert_eq!(single, api.single.load(Ordering::SeqCst));
    // The official resource polls about 47 times for this; the schedule needs far fewer.
    assert!(
        single <= 16,
        "{single} reads for a 60 s plan and a 60 s apply"
    );
}

#[tokio::test(start_paused = true)]
async fn many_runs_share_the_organization_list_and_none_is_seen_more_than_3_s_late() {
    const N: usize = 250;
    // Runs start over 10 s, plan 20 s and apply 10 s; no history (the workspaces are new).
    let runs = (0..N)
        .map(|i| fake_run(i, (i % 10) as f64, 20.0, 10.0))
        .collect();
    let api = FakeApi::new(runs);
    let poller = Poller::with_clock(api.clone(), api.t0, api.wall0);
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            tokio::spawn(see_through(
                poller.clone(),
                api.clone(),
                format!("run-{i}"),
                History::default(),
            ))
        })
        .collect();
    let mut delays = Vec::new();
    for task in tasks {
        delays.extend(task.await.unwrap());
    }
    let elapsed = api.elapsed();
    assert_eq!(delays.len(), 2 * N);
    let worst = delays.iter().max().unwrap();
    assert!(*worst <= secs(3.0), "a change was seen {worst:?} late");
    let (single, pages) = poller.requests();
    assert_eq!(api.pages.load(Ordering::SeqCst), pages);
    // 250 runs take 3 pages a round, rounds are at least 1 s apart: about 3 pages a second.
    let rounds_possible = elapsed.as_secs_f64() / ROUND_GAP.as_secs_f64() + 1.0;
    assert!(
        (pages as f64) <= 3.0 * rounds_possible,
        "{pages} pages in {elapsed:?}"
    );
    assert!(
        single <= 10,
        "runs are read one by one only when few are due: {single}"
    );
    // One request per run and poll would have been thousands.
    assert!(
        pages + single < 200,
        "{pages} pages and {single} single reads"
    );
}

#[tokio::test(start_paused = true)]
async fn a_caller_that_stops_waiting_is_forgotten_and_the_rounds_end() {
    let api = FakeApi::new(vec![fake_run(1, 0.0, 600.0, 1.0)]);
    let poller = Poller::with_clock(api.clone(), api.t0, api.wall0);
    let waiting = tokio::time::timeout(secs(5.0), poller.next("run-1", "org", History::default()));
    assert!(waiting.await.unwrap().is_ok(), "first look after 1 s");
    let stopped = tokio::time::timeout(secs(0.5), poller.next("run-1", "org", History::default()));
    assert!(stopped.await.is_err(), "nothing new within 0.5 s");
    tokio::time::sleep(secs(2.0)).await;
    assert!(
        poller.lock().entries.is_empty(),
        "the run is no longer watched"
    );
    assert!(!poller.lock().running, "the round loop ended");
    let reads = api.single.load(Ordering::SeqCst);
    tokio::time::sleep(secs(60.0)).await;
    assert_eq!(api.single.load(Ordering::SeqCst), reads, "no reads after");
}

#[tokio::test(start_paused = true)]
async fn single_looks_at_many_runs_share_the_organization_list() {
    const N: usize = 250;
    let runs = (0..N).map(|i| fake_run(i, 0.0, 1.0, 1.0)).collect();
    let api = FakeApi::new(runs);
    let poller = Poller::with_clock(api.clone(), api.t0, api.wall0);
    tokio::time::sleep(secs(3.0)).await;
    let mut ids: Vec<String> = (0..N).map(|i| format!("run-{i}")).collect();
    ids.push("run-gone".into());
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let (poller, id) = (poller.clone(), id.clone());
            tokio::spawn(async move { poller.look(&id, "org").await })
        })
        .collect();
    let started = Instant::now();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let (gone, found) = answers.split_last().unwrap();
    for (id, run) in ids.iter().zip(found) {
        let run = run.as_ref().unwrap_or_else(|| panic!("{id} not seen"));
        assert_eq!(&run.id, id);
        assert_eq!(run.status().as_str(), "planned");
    }
    assert!(
        gone.is_none(),
        "a run the API does not know: its caller reads it"
    );
    assert!(started.elapsed() <= secs(1.0), "{:?}", started.elapsed());
    // Three pages list the 250 runs; the unknown one is read by itself after them.
    assert_eq!(poller.requests(), (1, 3));
    // Nobody waits any more: the rounds end and the runs are forgotten.
    tokio::time::sleep(secs(2.0)).await;
    assert!(!poller.lock().running);
    assert!(poller.lock().entries.is_empty());
}
