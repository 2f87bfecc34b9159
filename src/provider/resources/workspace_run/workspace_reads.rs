//! Workspace reads of the `tfe_workspace_run` instances of one provider process, batched: when several
//! start at once (hundreds, in one apply), their workspaces are read from their organization's workspace
//! list (`GET /organizations/:org/workspaces?include=current_run`, 50 a page) instead of one
//! `GET /workspaces/:id` each.
//!
//! The instances only know their workspace IDs, so the organization comes from a workspace read by
//! itself: the first read of a batch goes alone when no organization is known yet, then the others
//! are looked for in the lists of the organizations seen so far, page after page while the pages
//! left could each hold one of them. Every workspace a page shows is kept for a few seconds
//! ([`FRESH`]), so that the instances Terraform starts a little later find theirs without a request. A
//! workspace the lists do not show (in another organization, beyond the pages read, or a list that
//! failed) is read by its caller itself, with the caller's own bounds and errors: batching saves
//! requests, it never changes an outcome.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use tfe_client::{Page, PageRequest, TfeClient, TfeError, Workspace, WorkspaceWithCurrent};

/// How long a batch waits for the callers that start at nearly the same moment.
const GATHER: Duration = Duration::from_millis(30);
/// Fewer waiting reads than this are not worth a list page: they go by themselves.
const BATCH_MIN: usize = 8;
/// Workspaces listed per page: half the API's most, because a page of 100 workspaces with their current
/// runs and configuration versions is about 700 KB of JSON, and hundreds of instances starting at once
/// keep a few in memory (a destroy of 500 peaked at 44 MiB with 100, 41 with 50, for 20 more requests).
const PAGE_SIZE: u32 = 50;
/// Pages read beyond the ones the wanted workspaces could fill, when the list does not say how many
/// pages it has.
const EXTRA_PAGES: u32 = 2;
/// How long a workspace read (from a page or by itself) answers later reads of it. Its current run
/// may have moved on meanwhile: whoever acts on it (discarding a run that was waiting, say) is told
/// by the server when it did, as after any read.
const FRESH: Duration = Duration::from_secs(5);

/// A workspace with its current run and latest configuration, as one read returns them; shared by
/// every caller of a batch (and the few seconds' keeping), so hundreds of instances hold one copy of
/// each.
pub(crate) type WorkspaceRead = Arc<WorkspaceWithCurrent>;

/// A read as the client returns it, made shareable: without the `links` nobody here reads.
fn shareable(mut read: WorkspaceWithCurrent) -> WorkspaceRead {
    read.workspace.links = None;
    read.workspace
        .relationships
        .values_mut()
        .for_each(|r| r.links = None);
    if let Some(run) = &mut read.current_run {
        run.links = None;
        run.relationships.values_mut().for_each(|r| r.links = None);
    }
    Arc::new(read)
}

/// Where the batcher reads workspaces: the TFE client, or a fake in tests.
pub(crate) trait WorkspaceSource: Send + Sync + 'static {
    /// `GET /workspaces/:id?include=current_run`.
    fn workspace(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<WorkspaceWithCurrent, TfeError>> + Send;
    /// `GET /organizations/:org/workspaces?include=current_run`, page `number` (1-based) of 100.
    fn org_workspaces(
        &self,
        organization: &str,
        number: u32,
    ) -> impl Future<Output = Result<Page<WorkspaceWithCurrent>, TfeError>> + Send;
}

impl WorkspaceSource for TfeClient {
    fn workspace(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<WorkspaceWithCurrent, TfeError>> + Send {
        self.workspace_with_current_run(id)
    }

    fn org_workspaces(
        &self,
        organization: &str,
        number: u32,
    ) -> impl Future<Output = Result<Page<WorkspaceWithCurrent>, TfeError>> + Send {
        self.organization_workspaces(
            organization,
            PageRequest {
                number,
                size: PAGE_SIZE,
            },
        )
    }
}

/// What a waiting caller gets: the workspace from a batch, or `None`: read it yourself.
type Delivery = Option<WorkspaceRead>;

#[derive(Default)]
struct State {
    /// Organizations whose workspaces this process read, most recent first.
    organizations: Vec<String>,
    /// The organization of every workspace read so far.
    organization_of: HashMap<String, String>,
    /// Recent reads, for the instances that start a little later: when, and what.
    recent: HashMap<String, (tokio::time::Instant, WorkspaceRead)>,
    waiting: HashMap<String, Vec<oneshot::Sender<Delivery>>>,
    leading: bool,
    /// Counters, for tests and logs.
    single_reads: u64,
    list_pages: u64,
}

struct Shared<S> {
    source: S,
    state: Mutex<State>,
}

/// The batched workspace reads of one provider process. Cheap to clone.
pub(crate) struct WorkspaceReads<S: WorkspaceSource> {
    shared: Arc<Shared<S>>,
}

impl<S: WorkspaceSource> Clone for WorkspaceReads<S> {
    fn clone(&self) -> Self {
        WorkspaceReads {
            shared: self.shared.clone(),
        }
    }
}

/// The batcher of the process's `tfe_workspace_run` resources, made with the client on first use.
#[derive(Default)]
pub(crate) struct ProcessWorkspaceReads(std::sync::OnceLock<WorkspaceReads<TfeClient>>);

impl ProcessWorkspaceReads {
    pub(crate) fn get(&self, client: &TfeClient) -> &WorkspaceReads<TfeClient> {
        self.0.get_or_init(|| WorkspaceReads::new(client.clone()))
    }
}

impl<S: WorkspaceSource> WorkspaceReads<S> {
    pub(crate) fn new(source: S) -> Self {
        WorkspaceReads {
            shared: Arc::new(Shared {
                source,
                state: Mutex::new(State::default()),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `(single reads, list pages)` made by batches so far.
    #[cfg(test)]
    pub(crate) fn requests(&self) -> (u64, u64) {
        let state = self.lock();
        (state.single_reads, state.list_pages)
    }

    /// The workspace and its current run: from a batch with the others starting now, or else read by
    /// itself, here, by the caller's future (so the caller's bounds and errors apply as they always did).
    pub(crate) async fn read(&self, workspace_id: &str) -> Result<WorkspaceRead, TfeError> {
        let receiver = {
            let mut state = self.lock();
            if let Some((at, read)) = state.recent.get(workspace_id)
                && at.elapsed() < FRESH
            {
                return Ok(read.clone());
            }
            self.join_batch(&mut state, workspace_id)
        };
        if let Ok(Some(found)) = receiver.await {
            return Ok(found);
        }
        let found = shareable(self.shared.source.workspace(workspace_id).await?);
        self.keep(&found);
        Ok(found)
    }

    /// The organization of a workspace, for a caller that needs no more of it (to read the run an
    /// instance recorded through the organization's run list): known from an earlier read, or from a
    /// batch with the others starting now. `None` when neither has it (few start together, or the
    /// lists do not show it): then a batched read is not worth a request, and the caller reads its run
    /// directly.
    pub(crate) async fn organization_of(&self, workspace_id: &str) -> Option<String> {
        let receiver = {
            let mut state = self.lock();
            if let Some(known) = state.organization_of.get(workspace_id) {
                return Some(known.clone());
            }
            self.join_batch(&mut state, workspace_id)
        };
        let read = receiver.await.ok().flatten()?;
        read.workspace.organization_name().map(str::to_string)
    }

    /// Puts the caller in line for the next batch (starting the batches if none runs): its workspace
    /// will come through the receiver, or `None`: read it yourself.
    fn join_batch(&self, state: &mut State, workspace_id: &str) -> oneshot::Receiver<Delivery> {
        let (sender, receiver) = oneshot::channel();
        state
            .waiting
            .entry(workspace_id.to_string())
            .or_default()
            .push(sender);
        if !state.leading {
            state.leading = true;
            tokio::spawn(lead(self.clone()));
        }
        receiver
    }

    /// Remembers the workspace's organization, for the next batches.
    fn learn(&self, workspace: &Workspace) {
        let Some(organization) = workspace.organization_name() else {
            return;
        };
        let mut state = self.lock();
        state
            .organization_of
            .insert(workspace.id.clone(), organization.to_string());
        if state.organizations.first().map(String::as_str) != Some(organization) {
            state.organizations.retain(|o| o != organization);
            state.organizations.insert(0, organization.to_string());
        }
    }

    /// Keeps a read for the callers that come a little later, and its organization.
    fn keep(&self, read: &WorkspaceRead) {
        self.learn(&read.workspace);
        let mut state = self.lock();
        let now = tokio::time::Instant::now();
        state
            .recent
            .retain(|_, (at, _)| now.duration_since(*at) < FRESH);
        state
            .recent
            .insert(read.workspace.id.clone(), (now, read.clone()));
    }

    /// Hands a read to everyone waiting for that workspace.
    fn deliver(&self, workspace_id: &str, delivery: Delivery) {
        let waiters = self.lock().waiting.remove(workspace_id).unwrap_or_default();
        for waiter in waiters {
            let _ = waiter.send(delivery.clone());
        }
    }

    /// One batch: what is waiting now, from the known organizations' lists.
    async fn batch(&self) {
        let (mut wanted, organizations): (HashSet<String>, Vec<String>) = {
            let mut state = self.lock();
            // Callers that stopped waiting need nothing.
            state.waiting.retain(|_, waiters| {
                waiters.retain(|w| !w.is_closed());
                !waiters.is_empty()
            });
            (
                state.waiting.keys().cloned().collect(),
                state.organizations.clone(),
            )
        };
        if wanted.len() < BATCH_MIN {
            for id in wanted {
                self.deliver(&id, None);
            }
            return;
        }
        if organizations.is_empty() {
            // Learn the organization from one read, then list it for the others.
            let first = wanted.iter().next().cloned().expect("not empty");
            self.lock().single_reads += 1;
            let delivery = match self.shared.source.workspace(&first).await {
                Ok(found) => {
                    let found = shareable(found);
                    self.keep(&found);
                    Some(found)
                }
                // The caller reads it again and gets the error with its own bounds.
                Err(_) => None,
            };
            self.deliver(&first, delivery);
            return;
        }
        for organization in organizations {
            let mut pages_left: Option<u32> = None;
            let mut number = 1;
            loop {
                // Another page is worth it while the pages left could each hold a wanted workspace.
                let worth_it = match pages_left {
                    Some(left) => left > 0 && wanted.len() as u32 >= left,
                    None => number <= (wanted.len() as u32).div_ceil(PAGE_SIZE) + EXTRA_PAGES,
                };
                if wanted.is_empty() || !worth_it {
                    break;
                }
                self.lock().list_pages += 1;
                let page = match self
                    .shared
                    .source
                    .org_workspaces(&organization, number)
                    .await
                {
                    Ok(page) => page,
                    Err(e) => {
                        tracing::debug!(
                            organization,
                            "listing the organization's workspaces failed: {e}"
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
                    .or(pages_left.map(|left| left.saturating_sub(1)));
                for read in page.items {
                    // A current run or configuration named but not included would read as none:
                    // leave it to a single read.
                    let workspace = &read.workspace;
                    if (workspace.current_run_id().is_some() && read.current_run.is_none())
                        || (workspace.current_configuration_version_id().is_some()
                            && read.latest_configuration.is_none())
                    {
                        continue;
                    }
                    let read = shareable(read);
                    self.keep(&read);
                    if wanted.remove(&read.workspace.id) {
                        let id = read.workspace.id.clone();
                        self.deliver(&id, Some(read));
                    }
                }
                if !more {
                    break;
                }
                number += 1;
            }
            if wanted.is_empty() {
                return;
            }
        }
        // Not in any list read: each caller reads its own.
        for id in wanted {
            self.deliver(&id, None);
        }
    }
}

/// Batches until nobody waits. A batch's few reads unblock many instances: like the run poller's,
/// they go before the creates waiting for the process's rate limit.
async fn lead<S: WorkspaceSource>(reads: WorkspaceReads<S>) {
    loop {
        tokio::time::sleep(GATHER).await;
        {
            let mut state = reads.lock();
            if state.waiting.is_empty() {
                state.leading = false;
                return;
            }
        }
        tfe_client::limiter::with_priority(reads.batch()).await;
    }
}

#[cfg(test)]
mod tests;
