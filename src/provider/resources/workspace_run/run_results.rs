//! What the runs of many `tfe_workspace_run` instances did, read together: when runs end at nearly the
//! same moment (hundreds, in one apply), their workspaces are read from their organization's workspace
//! list with each one's current run, its plan, its state version and its outputs
//! (`GET /organizations/:org/workspaces?include=current_run,current_run.plan,current-state-version,outputs`,
//! 100 a page), instead of two reads per run (the run with its plan, the state version with its outputs).
//!
//! Only pages asked for after a caller joined answer it, so what it gets was read after its run ended. A
//! caller that ends alone (no other run ended within [`ALONE`]), or whose workspace the pages read do not
//! show, gets `None` and reads what it needs itself, as before: batching saves requests, it never changes
//! what is reported.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use tfe_client::{Page, PageRequest, TfeClient, TfeError, WorkspaceResults};

use super::poller::Poller;

/// How long the first caller of a batch waits to see whether it ends alone (then it reads by itself, at
/// once: a single run's apply pays no more than this).
const ALONE: Duration = Duration::from_millis(50);
/// How long a batch gathers the callers once it is not alone: runs that the poller sees end in the next
/// round or two join it. It stops gathering sooner when no other run of the organization is waited on
/// (the last runs of an apply do not wait for runs that will not come).
const GATHER: Duration = Duration::from_secs(3);
/// How often the gathering checks whether other runs are still waited on.
const GATHER_CHECK: Duration = Duration::from_millis(100);
/// Workspaces listed per page: the API's most.
const PAGE_SIZE: u32 = 100;

/// What one caller gets: its workspace as a page showed it, or `None`: read it yourself.
type Delivery = Option<Arc<WorkspaceResults>>;

/// Where the batcher reads: the TFE client, or a fake in tests.
pub(crate) trait ResultsSource: Send + Sync + 'static {
    /// Page `number` (1-based) of the organization's workspaces with what their last runs did.
    fn workspace_results(
        &self,
        organization: &str,
        number: u32,
    ) -> impl Future<Output = Result<Page<WorkspaceResults>, TfeError>> + Send;
}

impl ResultsSource for TfeClient {
    fn workspace_results(
        &self,
        organization: &str,
        number: u32,
    ) -> impl Future<Output = Result<Page<WorkspaceResults>, TfeError>> + Send {
        self.organization_workspace_results(
            organization,
            PageRequest {
                number,
                size: PAGE_SIZE,
            },
        )
    }
}

#[derive(Default)]
struct State {
    /// Callers waiting for the next batch: organization, then workspace.
    waiting: HashMap<String, HashMap<String, Vec<oneshot::Sender<Delivery>>>>,
    leading: bool,
    /// List pages read so far, for tests and logs.
    list_pages: u64,
}

/// How many runs of an organization are still waited on (by the process's poller).
type StillWaitedOn = Box<dyn Fn(&str) -> usize + Send + Sync>;

struct Shared<S> {
    source: S,
    state: Mutex<State>,
    still_waited_on: StillWaitedOn,
}

/// The batched result reads of one provider process. Cheap to clone.
pub(crate) struct RunResults<S: ResultsSource> {
    shared: Arc<Shared<S>>,
}

impl<S: ResultsSource> Clone for RunResults<S> {
    fn clone(&self) -> Self {
        RunResults {
            shared: self.shared.clone(),
        }
    }
}

/// The batcher of the process's `tfe_workspace_run` resources, made with the client on first use.
#[derive(Default)]
pub(crate) struct ProcessRunResults(std::sync::OnceLock<RunResults<TfeClient>>);

impl ProcessRunResults {
    pub(crate) fn get(
        &self,
        client: &TfeClient,
        poller: &Poller<TfeClient>,
    ) -> &RunResults<TfeClient> {
        self.0.get_or_init(|| {
            let poller = poller.clone();
            RunResults::new(
                client.clone(),
                Box::new(move |organization| poller.waited_on_in(organization)),
            )
        })
    }
}

impl<S: ResultsSource> RunResults<S> {
    /// Reads through `source`; `still_waited_on` says how many runs of an organization may still end.
    pub(crate) fn new(source: S, still_waited_on: StillWaitedOn) -> Self {
        RunResults {
            shared: Arc::new(Shared {
                source,
                state: Mutex::new(State::default()),
                still_waited_on,
            }),
        }
    }

    /// Whether a run of an organization that callers wait for may still end and join them.
    fn more_may_end(&self) -> bool {
        let organizations: Vec<String> = self.lock().waiting.keys().cloned().collect();
        organizations
            .iter()
            .any(|organization| (self.shared.still_waited_on)(organization) > 0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// List pages read so far.
    #[cfg(test)]
    pub(crate) fn list_pages(&self) -> u64 {
        self.lock().list_pages
    }

    /// The workspace with its current run, plan, state version and outputs, read after this call from a
    /// list page shared with the other runs that ended with it; `None` when it ended alone or the pages
    /// read did not show it.
    pub(crate) async fn read(&self, organization: &str, workspace_id: &str) -> Delivery {
        let receiver = {
            let mut state = self.lock();
            let (sender, receiver) = oneshot::channel();
            state
                .waiting
                .entry(organization.to_string())
                .or_default()
                .entry(workspace_id.to_string())
                .or_default()
                .push(sender);
            if !state.leading {
                state.leading = true;
                tokio::spawn(lead(self.clone()));
            }
            receiver
        };
        receiver.await.ok().flatten()
    }

    /// Callers waiting now, with those who stopped waiting left out.
    fn waiting_count(&self) -> usize {
        let mut state = self.lock();
        state.waiting.retain(|_, workspaces| {
            workspaces.retain(|_, waiters| {
                waiters.retain(|w| !w.is_closed());
                !waiters.is_empty()
            });
            !workspaces.is_empty()
        });
        state.waiting.values().map(HashMap::len).sum()
    }

    /// One batch: every caller waiting now, organization by organization.
    async fn batch(&self) {
        let waiting = std::mem::take(&mut self.lock().waiting);
        for (organization, mut callers) in waiting {
            let mut wanted: HashSet<String> = callers.keys().cloned().collect();
            let mut number = 1;
            let mut pages_left: Option<u32> = None;
            // A page is worth it while the pages left could each answer a caller (each saves two reads).
            while !wanted.is_empty()
                && pages_left.is_none_or(|left| left > 0 && wanted.len() as u32 >= left)
            {
                self.lock().list_pages += 1;
                let page = match self
                    .shared
                    .source
                    .workspace_results(&organization, number)
                    .await
                {
                    Ok(page) => page,
                    Err(e) => {
                        tracing::debug!(
                            organization,
                            "listing the workspaces' results failed: {e}"
                        );
                        break;
                    }
                };
                let full = page.items.len() as u32 >= PAGE_SIZE;
                let more = full && page.pagination.next_page.is_some();
                pages_left = page
                    .pagination
                    .total_pages
                    .map(|total| total.saturating_sub(number))
                    .or(Some(u32::from(more)));
                for read in page.items {
                    if wanted.remove(&read.workspace.id) {
                        let read = Arc::new(read);
                        for waiter in callers.remove(&read.workspace.id).unwrap_or_default() {
                            let _ = waiter.send(Some(read.clone()));
                        }
                    }
                }
                if !more {
                    break;
                }
                number += 1;
            }
            // Not shown by the pages read: each reads its own. (Dropping a sender answers `None`.)
            drop(callers);
        }
    }
}

/// Batches until nobody waits. A caller alone is answered at once; several are gathered for a while, so
/// that one page answers the runs the poller sees end in the next rounds too.
async fn lead<S: ResultsSource>(results: RunResults<S>) {
    loop {
        tokio::time::sleep(ALONE).await;
        match results.waiting_count() {
            0 => {
                let mut state = results.lock();
                if state.waiting.is_empty() {
                    state.leading = false;
                    return;
                }
                continue;
            }
            // Alone, and no other run may end soon: dropping its sender sends it to read by itself.
            1 if !results.more_may_end() => {
                drop(std::mem::take(&mut results.lock().waiting));
                continue;
            }
            _ => {}
        }
        let until = tokio::time::Instant::now() + GATHER.saturating_sub(ALONE);
        while tokio::time::Instant::now() < until && results.more_may_end() {
            tokio::time::sleep(GATHER_CHECK).await;
        }
        tfe_client::limiter::with_priority(results.batch()).await;
    }
}

#[cfg(test)]
mod tests;
