//! The process's run poller: every `tfe_workspace_run` of one provider process waits on it, so one
//! request can report many runs.
//!
//! Each watched run has a time when the next look at it is worth a request, computed from what the
//! API said of it ([`next_look`]): its status, its status timestamps and how long the phases of an
//! earlier run of the workspace took ([`History`]), or, for a workspace without one, how long the
//! phases of its sibling workspaces' runs took in this process (the other runs of the same
//! organization this poller saw finish a phase). Around the moment a phase is expected to end the
//! run is looked at within a fraction of a second; long before it, rarely. A run that applies by
//! itself (`auto-apply`) needs nothing at the end of its plan, so its first look aims at the end of
//! its apply.
//!
//! Besides the waiters that see a run through, a caller can ask for one look at a run ([`Poller::look`]:
//! the runs that instances being refreshed or destroyed recorded), answered by the next round with the
//! others.
//!
//! A round looks at every run that is due: one due run is read by itself (`GET /runs/:id`, the
//! per-run path); two or more in one organization are read together from the organization's run
//! list (`GET /organizations/:org/runs`, newest first, 100 a page), which reports every watched run
//! on its pages at once. Whatever a round saw is kept: a run whose status changed is handed to its
//! waiter at once, even if it was not due. Rounds are at least [`ROUND_GAP`] apart, so at most a few
//! pages a second go to a busy organization whatever the number of runs, and a round's reads are
//! served by the process's rate limiter before the creates and confirms waiting there.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{Notify, oneshot};
use tokio::time::Instant;

use tfe_client::{Page, PageRequest, Run, RunStatus, TfeClient, TfeError};

/// Rounds of requests are at least this far apart.
pub(crate) const ROUND_GAP: Duration = Duration::from_secs(1);
/// A round also takes the runs due this soon after it, so that close times share one request.
const SLACK: Duration = Duration::from_millis(400);
/// How long after a phase's expected end the first look is made: the server sets the status a
/// moment after the phase's work ends.
const LEAD: Duration = Duration::from_millis(300);
/// How long a run is remembered while nobody waits for it.
const KEEP_IDLE: Duration = Duration::from_secs(60);
/// Phase durations kept per organization from its runs this poller saw, the newest.
const SIBLING_SAMPLES: usize = 16;
/// With a sibling's durations only, a phase is looked at least this often: another workspace's run
/// is a weaker guide than the workspace's own.
const SIBLING_CAP: Duration = Duration::from_secs(2);
/// Runs listed per page of the organization's run list.
const PAGE_SIZE: u32 = 100;
/// Pages read beyond the ones the watched runs fill, for runs of other workspaces in between.
const EXTRA_PAGES: u32 = 2;

/// Where the poller reads runs: the TFE client, or a fake in tests.
pub(crate) trait RunSource: Send + Sync + 'static {
    /// `GET /runs/:id`.
    fn run(&self, id: &str) -> impl Future<Output = Result<Run, TfeError>> + Send;
    /// `GET /organizations/:org/runs`, newest first, page `number` (1-based) of 100.
    fn org_runs(
        &self,
        organization: &str,
        number: u32,
    ) -> impl Future<Output = Result<Page<Run>, TfeError>> + Send;
}

impl RunSource for TfeClient {
    fn run(&self, id: &str) -> impl Future<Output = Result<Run, TfeError>> + Send {
        TfeClient::run(self, id)
    }

    fn org_runs(
        &self,
        organization: &str,
        number: u32,
    ) -> impl Future<Output = Result<Page<Run>, TfeError>> + Send {
        TfeClient::org_runs(
            self,
            organization,
            PageRequest {
                number,
                size: PAGE_SIZE,
            },
        )
    }
}

/// How long the phases of an earlier run of the workspace took; unknown ones are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct History {
    /// From `planning-at` to the status the plan paused or finished in.
    pub(crate) plan: Option<Duration>,
    /// From `applying-at` to the final status.
    pub(crate) apply: Option<Duration>,
}

fn at(run: &Run, key: &str) -> Option<OffsetDateTime> {
    run.attributes
        .status_timestamps
        .get(key)
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
}

fn span(from: Option<OffsetDateTime>, to: Option<OffsetDateTime>) -> Option<Duration> {
    let (from, to) = (from?, to?);
    Duration::try_from(to - from).ok()
}

impl History {
    /// From the workspace's current run when ours is queued (the one before ours), if any.
    pub(crate) fn from_current(run: Option<&Run>) -> History {
        run.map(History::from_run).unwrap_or_default()
    }

    /// The phase durations of `run` (normally the workspace's current run before ours was queued).
    pub(crate) fn from_run(run: &Run) -> History {
        let plan_end = at(run, "policy-override-at").or_else(|| {
            [
                "planned-at",
                "cost-estimated-at",
                "policy-checked-at",
                "post-plan-completed-at",
                "planned-and-finished-at",
            ]
            .iter()
            .filter_map(|k| at(run, k))
            .max()
        });
        let apply_end = at(run, "applied-at").or_else(|| at(run, "errored-at"));
        History {
            plan: span(at(run, "planning-at"), plan_end),
            apply: span(at(run, "applying-at"), apply_end),
        }
    }
}

/// What the next look at a run waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// A plan or apply is running: its end can be predicted.
    Phase {
        start: &'static str,
        plan: bool,
    },
    /// Waiting in a queue: what matters comes after the next phase, so look often enough to see it start.
    Queued {
        next_is_plan: bool,
    },
    /// Paused for a confirmation (ours, or a person's).
    Confirmable,
    /// A person must override a policy: the next status (confirmable) matters and cannot be predicted.
    Human,
    Final,
    Unknown,
}

fn stage(run: &Run) -> Stage {
    use RunStatus as S;
    match run.status() {
        s if s.is_final() => Stage::Final,
        S::Pending | S::Fetching | S::FetchingCompleted | S::Queuing | S::PlanQueued => {
            Stage::Queued { next_is_plan: true }
        }
        S::Planning
        | S::PrePlanRunning
        | S::PrePlanCompleted
        | S::PostPlanRunning
        | S::CostEstimating
        | S::PolicyChecking => Stage::Phase {
            start: "planning-at",
            plan: true,
        },
        S::Planned
        | S::PostPlanCompleted
        | S::CostEstimated
        | S::PolicyChecked
        | S::TfPolicyChecked
        | S::PlannedAndSaved => {
            if run.attributes.actions.is_confirmable {
                Stage::Confirmable
            } else {
                Stage::Phase {
                    start: "planning-at",
                    plan: true,
                }
            }
        }
        S::PolicyOverride | S::TfPolicyOverride | S::PostPlanAwaitingDecision => Stage::Human,
        S::Confirmed | S::QueuingApply | S::ApplyQueued => Stage::Queued {
            next_is_plan: false,
        },
        S::Applying
        | S::PreApplyRunning
        | S::PreApplyCompleted
        | S::PostApplyRunning
        | S::PostApplyCompleted => Stage::Phase {
            start: "applying-at",
            plan: false,
        },
        _ => Stage::Unknown,
    }
}

/// Between looks while nothing can be predicted (a person's decision, an unknown status): a change is
/// then seen within this, 0.75 s on average.
const BLIND: Duration = Duration::from_millis(1500);
/// Between looks at a phase of unknown length (a new workspace's first run, no sibling seen yet): a
/// change is seen within this, so within 1 s.
const BLIND_PHASE: Duration = Duration::from_millis(900);

/// How long to wait before the next look at `run`, seen at `now`, guided by the workspace's own
/// history. `confirmed` says we just confirmed it, so the apply is about to start.
#[cfg(test)]
pub(crate) fn next_look(
    run: &Run,
    history: &History,
    now: OffsetDateTime,
    confirmed: bool,
) -> Option<Duration> {
    next_look_guided(run, history, false, now, confirmed)
}

/// [`next_look`], with `borrowed` set when the durations are sibling workspaces' rather than the
/// workspace's own: then no look is more than [`SIBLING_CAP`] away while a phase runs.
fn next_look_guided(
    run: &Run,
    history: &History,
    borrowed: bool,
    now: OffsetDateTime,
    confirmed: bool,
) -> Option<Duration> {
    let secs = Duration::from_secs_f64;
    // Often enough to see the next phase start (whose start time then predicts its end).
    let queued = |next: Option<Duration>| {
        next.map_or(BLIND, |d| (d / 4).clamp(Duration::from_secs(1), secs(10.0)))
    };
    Some(match stage(run) {
        Stage::Final => return None,
        Stage::Unknown | Stage::Human => BLIND,
        Stage::Confirmable if confirmed => Duration::from_secs(1),
        // A person confirms: what matters next is the apply's end, predicted once it starts.
        Stage::Confirmable => queued(history.apply).min(secs(5.0)),
        Stage::Queued { next_is_plan } => queued(if next_is_plan {
            history.plan
        } else {
            history.apply
        }),
        Stage::Phase { start, plan } => {
            // A run that applies by itself goes from its plan straight into its apply: nothing to
            // do at the plan's end, so aim at the apply's.
            let expected = match (plan, run.attributes.auto_apply) {
                (true, true) => history.plan.zip(history.apply).map(|(p, a)| p + a),
                (true, false) => history.plan,
                (false, _) => history.apply,
            };
            let (Some(expected), Some(started)) = (expected, at(run, start)) else {
                return Some(BLIND_PHASE);
            };
            let end = started + expected;
            let wait = if end > now {
                let left = Duration::try_from(end - now).unwrap_or_default();
                if left > secs(6.0) {
                    // Halve the time left: a phase ending early is still seen, at most 15 s late.
                    (left / 2).min(secs(15.0))
                } else {
                    left + LEAD
                }
            } else {
                // Overdue: every second for a while, then every 2 s (any change within 3 s).
                let late = Duration::try_from(now - end).unwrap_or_default();
                if late < secs(6.0) {
                    Duration::from_secs(1)
                } else {
                    Duration::from_secs(2)
                }
            };
            if borrowed {
                wait.min(SIBLING_CAP)
            } else {
                wait
            }
        }
    })
}

/// Phase durations seen in one organization's runs: what a workspace without history borrows.
#[derive(Default)]
struct Siblings {
    plans: std::collections::VecDeque<Duration>,
    applies: std::collections::VecDeque<Duration>,
}

impl Siblings {
    fn add(samples: &mut std::collections::VecDeque<Duration>, d: Duration) {
        if samples.len() == SIBLING_SAMPLES {
            samples.pop_front();
        }
        samples.push_back(d);
    }

    fn median(samples: &std::collections::VecDeque<Duration>) -> Option<Duration> {
        let mut sorted: Vec<Duration> = samples.iter().copied().collect();
        sorted.sort();
        sorted.get(sorted.len() / 2).copied()
    }

    /// `own`, with what it lacks taken from the siblings; whether anything was taken.
    fn fill(&self, own: &History) -> (History, bool) {
        let plan = own.plan.or_else(|| Self::median(&self.plans));
        let apply = own.apply.or_else(|| Self::median(&self.applies));
        let borrowed =
            (own.plan.is_none() && plan.is_some()) || (own.apply.is_none() && apply.is_some());
        (History { plan, apply }, borrowed)
    }
}

// ------------------------------------------------------------------------------------ the poller

type Answer = Result<Run, TfeError>;

struct Entry {
    organization: String,
    history: History,
    due: Instant,
    /// The last that was seen of the run, and whether its waiter has had it.
    last: Option<Run>,
    fresh: bool,
    /// What the waiter last got: status text and confirmability.
    delivered: Option<(String, bool)>,
    waiter: Option<oneshot::Sender<Answer>>,
    /// Callers of [`Poller::look`]: one look each, `None` when the round could not read the run.
    lookers: Vec<oneshot::Sender<Option<Run>>>,
    /// The phases of this run already counted for its siblings.
    lent: (bool, bool),
    confirmed: bool,
    /// Kept this long without a waiter (while its resource confirms, say), then forgotten.
    keep_until: Instant,
}

impl Entry {
    /// Somebody needs a look at the run.
    fn wanted(&self) -> bool {
        self.waiter.is_some() || !self.lookers.is_empty()
    }

    fn changed(&self, run: &Run) -> bool {
        self.delivered.as_ref().is_none_or(|(status, confirmable)| {
            status != run.status().as_str() || *confirmable != run.attributes.actions.is_confirmable
        })
    }
}

#[derive(Default)]
struct State {
    entries: HashMap<String, Entry>,
    /// Per organization, the phase durations of its runs seen here.
    siblings: HashMap<String, Siblings>,
    running: bool,
    /// Counters, for tests and logs.
    single_reads: u64,
    list_pages: u64,
}

struct Shared<S> {
    source: S,
    state: Mutex<State>,
    wake: Notify,
    /// The wall clock, from the runtime's clock (so a paused clock in tests moves it too).
    clock: (Instant, OffsetDateTime),
}

impl<S> Shared<S> {
    fn wall_now(&self) -> OffsetDateTime {
        self.clock.1 + self.clock.0.elapsed()
    }
}

/// The poller of one provider process (one per client). Cheap to clone.
pub(crate) struct Poller<S: RunSource> {
    shared: Arc<Shared<S>>,
}

impl<S: RunSource> Clone for Poller<S> {
    fn clone(&self) -> Self {
        Poller {
            shared: self.shared.clone(),
        }
    }
}

/// The poller of the process's `tfe_workspace_run` resources, made with the client on first use.
#[derive(Default)]
pub(crate) struct ProcessPoller(std::sync::OnceLock<Poller<TfeClient>>);

impl ProcessPoller {
    pub(crate) fn get(&self, client: &TfeClient) -> &Poller<TfeClient> {
        self.0.get_or_init(|| Poller::new(client.clone()))
    }
}

/// What a round reads.
enum Read {
    One(String),
    Organization(String),
}

impl<S: RunSource> Poller<S> {
    pub(crate) fn new(source: S) -> Self {
        Self::with_clock(source, Instant::now(), OffsetDateTime::now_utc())
    }

    /// A poller whose wall clock read `wall` at `instant`.
    pub(crate) fn with_clock(source: S, instant: Instant, wall: OffsetDateTime) -> Self {
        Poller {
            shared: Arc::new(Shared {
                source,
                state: Mutex::new(State::default()),
                wake: Notify::new(),
                clock: (instant, wall),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many runs of `organization` a resource is waiting on now (that will be reported when they
    /// change).
    pub(crate) fn waited_on_in(&self, organization: &str) -> usize {
        self.lock()
            .entries
            .values()
            .filter(|e| {
                e.organization == organization && e.waiter.as_ref().is_some_and(|w| !w.is_closed())
            })
            .count()
    }

    /// `(single reads, list pages)` made so far.
    #[cfg(test)]
    pub(crate) fn requests(&self) -> (u64, u64) {
        let state = self.lock();
        (state.single_reads, state.list_pages)
    }

    /// The next look at `run_id` worth having: waits until its schedule says a change is likely (or
    /// a round for other runs saw it change), then returns what the API said. The first call for a
    /// run starts watching it (in `organization`, with its workspace's `history`); watching ends
    /// when a final status was returned or the caller stops waiting. Cancel-safe.
    pub(crate) async fn next(
        &self,
        run_id: &str,
        organization: &str,
        history: History,
    ) -> Result<Run, TfeError> {
        let receiver = {
            let mut state = self.lock();
            let entry = state
                .entries
                .entry(run_id.to_string())
                .or_insert_with(|| Entry {
                    organization: organization.to_string(),
                    history,
                    due: Instant::now() + Duration::from_secs(1),
                    last: None,
                    fresh: false,
                    delivered: None,
                    waiter: None,
                    lookers: Vec::new(),
                    lent: (false, false),
                    confirmed: false,
                    keep_until: Instant::now() + KEEP_IDLE,
                });
            if let Some(run) = entry
                .last
                .clone()
                .filter(|run| entry.fresh && entry.changed(run))
            {
                entry.fresh = false;
                entry.delivered = Some((
                    run.status().as_str().to_string(),
                    run.attributes.actions.is_confirmable,
                ));
                entry.keep_until = Instant::now() + KEEP_IDLE;
                return Ok(run);
            }
            let (sender, receiver) = oneshot::channel();
            entry.waiter = Some(sender);
            if !state.running {
                state.running = true;
                tokio::spawn(round_loop(self.shared.clone()));
            }
            receiver
        };
        self.shared.wake.notify_one();
        match receiver.await {
            Ok(answer) => answer,
            // The loop ended without answering (the runtime is shutting down).
            Err(_) => Err(TfeError::Transport {
                url: format!("runs/{run_id}"),
                detail: "the run poller stopped".into(),
            }),
        }
    }

    /// One look at `run_id` (of `organization`) with the next round, for a caller that only needs to
    /// know where the run stands now (an instance being refreshed or destroyed): with many such
    /// callers, their runs come from the organization's run list. `None` when the round could not
    /// read it (an error, or a run the list did not show that could not be read either): the caller
    /// reads it itself, with its own bounds and errors. Cancel-safe.
    pub(crate) async fn look(&self, run_id: &str, organization: &str) -> Option<Run> {
        let receiver = {
            let mut state = self.lock();
            let now = Instant::now();
            let entry = state
                .entries
                .entry(run_id.to_string())
                .or_insert_with(|| Entry {
                    organization: organization.to_string(),
                    history: History::default(),
                    due: now,
                    last: None,
                    fresh: false,
                    delivered: None,
                    waiter: None,
                    lookers: Vec::new(),
                    lent: (false, false),
                    confirmed: false,
                    keep_until: now,
                });
            entry.due = entry.due.min(now);
            let (sender, receiver) = oneshot::channel();
            entry.lookers.push(sender);
            if !state.running {
                state.running = true;
                tokio::spawn(round_loop(self.shared.clone()));
            }
            receiver
        };
        self.shared.wake.notify_one();
        receiver.await.ok().flatten()
    }

    /// We confirmed the run: its apply starts now, so look again soon.
    pub(crate) fn confirmed(&self, run_id: &str) {
        let mut state = self.lock();
        if let Some(entry) = state.entries.get_mut(run_id) {
            entry.confirmed = true;
            entry.due = Instant::now() + Duration::from_secs(1);
        }
        drop(state);
        self.shared.wake.notify_one();
    }
}

/// Forgets the runs whose caller stopped waiting, and those nobody asked about for a while.
fn forget_idle(state: &mut State) {
    let now = Instant::now();
    state.entries.retain(|_, e| {
        e.lookers.retain(|l| !l.is_closed());
        match &e.waiter {
            Some(waiter) => !waiter.is_closed() || !e.lookers.is_empty(),
            None => e.keep_until > now || !e.lookers.is_empty(),
        }
    });
}

/// Rounds until no run is waited for.
async fn round_loop<S: RunSource>(shared: Arc<Shared<S>>) {
    let poller = Poller { shared };
    let mut last_round: Option<Instant> = None;
    loop {
        let next_due = {
            let mut state = poller.lock();
            forget_idle(&mut state);
            let due = state
                .entries
                .values()
                .filter(|e| e.wanted())
                .map(|e| e.due)
                .min();
            if due.is_none() {
                state.running = false;
                return;
            }
            due
        };
        let mut start = next_due.expect("checked above");
        if let Some(last) = last_round {
            start = start.max(last + ROUND_GAP);
        }
        if start > Instant::now() {
            tokio::select! {
                _ = tokio::time::sleep_until(start) => {}
                _ = poller.shared.wake.notified() => continue,
            }
        }
        last_round = Some(Instant::now());
        // A round's few reads report many runs: they go before the creates and confirms waiting
        // for the process's rate limit.
        tfe_client::limiter::with_priority(poller.round()).await;
    }
}

impl<S: RunSource> Poller<S> {
    /// One round: reads what is due and hands out what it saw.
    async fn round(&self) {
        let reads = {
            let mut state = self.lock();
            forget_idle(&mut state);
            let horizon = Instant::now() + SLACK;
            let mut due_by_org: HashMap<&str, Vec<&str>> = HashMap::new();
            for (id, e) in &state.entries {
                if e.wanted() && e.due <= horizon {
                    due_by_org.entry(&e.organization).or_default().push(id);
                }
            }
            let mut reads = Vec::new();
            for (org, ids) in due_by_org {
                let watched = state
                    .entries
                    .values()
                    .filter(|e| e.organization == org && e.wanted())
                    .count() as u32;
                let pages = watched.div_ceil(PAGE_SIZE);
                if org.is_empty() || org == "-" || ids.len() as u32 <= pages {
                    reads.extend(ids.into_iter().map(|id| Read::One(id.to_string())));
                } else {
                    reads.push(Read::Organization(org.to_string()));
                }
            }
            reads
        };
        for read in reads {
            match read {
                Read::One(id) => {
                    self.lock().single_reads += 1;
                    let answer = self.shared.source.run(&id).await;
                    self.seen_one(&id, answer);
                }
                Read::Organization(org) => self.sweep(&org).await,
            }
        }
    }

    /// Reads the organization's run list until every watched run of it was seen; due runs it did not
    /// show are read by themselves.
    async fn sweep(&self, organization: &str) {
        let (mut missing, max_pages): (HashSet<String>, u32) = {
            let state = self.lock();
            let ids: HashSet<String> = state
                .entries
                .iter()
                .filter(|(_, e)| e.organization == organization && e.wanted())
                .map(|(id, _)| id.clone())
                .collect();
            let pages = (ids.len() as u32).div_ceil(PAGE_SIZE) + EXTRA_PAGES;
            (ids, pages)
        };
        let mut number = 1;
        while !missing.is_empty() && number <= max_pages {
            self.lock().list_pages += 1;
            let page = match self.shared.source.org_runs(organization, number).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::debug!(organization, "listing the organization's runs failed: {e}");
                    break;
                }
            };
            let full = page.items.len() as u32 >= PAGE_SIZE;
            let mut state = self.lock();
            for run in page.items {
                if missing.remove(&run.id) {
                    seen(&mut state, run, false, self.shared.wall_now());
                }
            }
            drop(state);
            if !full || page.pagination.next_page.is_none() {
                break;
            }
            number += 1;
        }
        // Due runs the list did not show (older than its pages, or not listed): one by one.
        let horizon = Instant::now() + SLACK;
        let due: Vec<String> = {
            let state = self.lock();
            missing
                .into_iter()
                .filter(|id| state.entries.get(id).is_some_and(|e| e.due <= horizon))
                .collect()
        };
        for id in due {
            self.lock().single_reads += 1;
            let answer = self.shared.source.run(&id).await;
            self.seen_one(&id, answer);
        }
    }

    fn seen_one(&self, id: &str, answer: Result<Run, TfeError>) {
        let mut state = self.lock();
        match answer {
            Ok(run) => seen(&mut state, run, true, self.shared.wall_now()),
            Err(e) => {
                // The caller decides what an error means (retry, fail): it gets it as it came.
                if let Some(entry) = state.entries.get_mut(id) {
                    // Those after one look read it themselves.
                    for looker in entry.lookers.drain(..) {
                        let _ = looker.send(None);
                    }
                    entry.due = Instant::now() + BLIND;
                    if let Some(waiter) = entry.waiter.take() {
                        let _ = waiter.send(Err(e));
                    }
                }
            }
        }
    }
}

/// Keeps what was seen of `run`, schedules its next look, and hands it to its waiter when it was due
/// or changed, and to those after one look. `asked` is set when the run was read by itself (so it
/// was due). Phases it finished are counted for its siblings.
fn seen(state: &mut State, mut run: Run, asked: bool, wall: OffsetDateTime) {
    // Kept and handed out for hundreds of runs at once: without the links nobody here reads.
    run.links = None;
    run.relationships.values_mut().for_each(|r| r.links = None);
    let State {
        entries, siblings, ..
    } = state;
    let Some(entry) = entries.get_mut(&run.id) else {
        return;
    };
    let now = Instant::now();
    let ran = History::from_run(&run);
    let learnt = siblings.entry(entry.organization.clone()).or_default();
    if let (Some(plan), false) = (ran.plan, entry.lent.0) {
        Siblings::add(&mut learnt.plans, plan);
        entry.lent.0 = true;
    }
    if let (Some(apply), false) = (ran.apply, entry.lent.1) {
        Siblings::add(&mut learnt.applies, apply);
        entry.lent.1 = true;
    }
    for looker in entry.lookers.drain(..) {
        let _ = looker.send(Some(run.clone()));
    }
    let was_due = asked || entry.due <= now + SLACK;
    let (history, borrowed) = learnt.fill(&entry.history);
    match next_look_guided(&run, &history, borrowed, wall, entry.confirmed) {
        Some(wait) => entry.due = now + wait,
        None => entry.due = now + Duration::from_secs(3600),
    }
    if run.status().as_str() != "confirmed" && !run.attributes.actions.is_confirmable {
        entry.confirmed = false;
    }
    let changed = entry.changed(&run);
    if (was_due || changed)
        && let Some(waiter) = entry.waiter.take()
    {
        entry.delivered = Some((
            run.status().as_str().to_string(),
            run.attributes.actions.is_confirmable,
        ));
        entry.fresh = false;
        entry.keep_until = if run.status().is_final() {
            now
        } else {
            now + KEEP_IDLE
        };
        if waiter.send(Ok(run.clone())).is_err() {
            // The caller stopped waiting meanwhile.
            entry.keep_until = now;
        }
        entry.last = Some(run);
        return;
    }
    entry.fresh = changed;
    entry.last = Some(run);
}

#[cfg(test)]
mod tests;
