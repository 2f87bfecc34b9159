//! The result batcher against a fake API: a run that ends alone costs no page, runs that end together
//! share pages read after they ended, and a workspace the pages do not show is left to its caller.

use serde_json::json;

use super::*;
use tfe_client::Pagination;

/// One organization's workspaces (ids in list order), the current run of each, and every page request
/// with the generation it saw (bumped by the test to say "the runs moved on").
struct FakeApi {
    organization: String,
    workspaces: Vec<String>,
    generation: Mutex<u32>,
    pages: Mutex<Vec<(u32, u32)>>,
}

impl FakeApi {
    fn with(count: usize) -> Arc<FakeApi> {
        Arc::new(FakeApi {
            organization: "org".into(),
            workspaces: (0..count).map(|i| format!("ws-{i:04}")).collect(),
            generation: Mutex::new(0),
            pages: Mutex::new(Vec::new()),
        })
    }

    fn results_of(&self, id: &str, generation: u32) -> WorkspaceResults {
        let run_id = format!("run-{id}-{generation}");
        WorkspaceResults {
            workspace: serde_json::from_value(json!({
                "id": id, "type": "workspaces", "attributes": {"name": id},
                "relationships": {"current-run": {"data": {"id": run_id, "type": "runs"}}}
            }))
            .unwrap(),
            current_run: Some(
                serde_json::from_value(json!({"id": run_id, "type": "runs",
                    "attributes": {"status": "applied"}}))
                .unwrap(),
            ),
            current_plan: None,
            state_version: None,
            outputs: Some(Vec::new()),
        }
    }
}

impl ResultsSource for Arc<FakeApi> {
    async fn workspace_results(
        &self,
        organization: &str,
        number: u32,
    ) -> Result<Page<WorkspaceResults>, TfeError> {
        assert_eq!(organization, self.organization);
        let generation = *self.generation.lock().unwrap();
        self.pages.lock().unwrap().push((number, generation));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let total = (self.workspaces.len() as u32).div_ceil(PAGE_SIZE).max(1);
        let start = ((number - 1) * PAGE_SIZE) as usize;
        let items = self
            .workspaces
            .iter()
            .skip(start)
            .take(PAGE_SIZE as usize)
            .map(|id| self.results_of(id, generation))
            .collect();
        Ok(Page {
            items,
            pagination: Pagination {
                current_page: number,
                next_page: (number < total).then_some(number + 1),
                total_pages: Some(total),
                ..Pagination::default()
            },
        })
    }
}

/// Reads for every id at once, as instances whose runs end together do.
async fn read_all(results: &RunResults<Arc<FakeApi>>, ids: &[String]) -> Vec<Delivery> {
    let handles: Vec<_> = ids
        .iter()
        .map(|id| {
            let (results, id) = (results.clone(), id.clone());
            tokio::spawn(async move { results.read("org", &id).await })
        })
        .collect();
    let mut reads = Vec::new();
    for handle in handles {
        reads.push(handle.await.expect("no panic"));
    }
    reads
}

fn run_of(read: &Delivery) -> Option<String> {
    read.as_ref()
        .and_then(|r| r.current_run.as_ref())
        .map(|run| run.id.clone())
}

#[tokio::test(start_paused = true)]
async fn a_run_that_ends_alone_reads_by_itself_at_once() {
    let api = FakeApi::with(250);
    let results = RunResults::new(api.clone(), Box::new(|_| 0));
    let started = tokio::time::Instant::now();
    let read = results.read("org", "ws-0007").await;
    assert!(read.is_none(), "a caller alone is sent to read by itself");
    assert!(started.elapsed() <= ALONE + Duration::from_millis(5));
    assert_eq!(results.list_pages(), 0);
}

#[tokio::test(start_paused = true)]
async fn runs_that_end_together_share_the_pages_read_after_they_ended() {
    let api = FakeApi::with(250);
    let results = RunResults::new(api.clone(), Box::new(|_| 1));
    // What the lists showed before these runs ended must not answer them.
    *api.generation.lock().unwrap() = 1;
    let wanted: Vec<String> = (0..250).step_by(2).map(|i| format!("ws-{i:04}")).collect();
    let reads = read_all(&results, &wanted).await;
    for (id, read) in wanted.iter().zip(&reads) {
        assert_eq!(
            run_of(read),
            Some(format!("run-{id}-1")),
            "{id} got its own"
        );
    }
    // 125 callers over 3 pages of 100: each page read once, all after they joined.
    assert_eq!(*api.pages.lock().unwrap(), vec![(1, 1), (2, 1), (3, 1)]);

    // Runs that end later get pages read after they ended, not the earlier ones.
    *api.generation.lock().unwrap() = 2;
    let later: Vec<String> = (0..10).map(|i| format!("ws-{i:04}")).collect();
    let reads = read_all(&results, &later).await;
    for (id, read) in later.iter().zip(&reads) {
        assert_eq!(run_of(read), Some(format!("run-{id}-2")));
    }
}

#[tokio::test(start_paused = true)]
async fn a_workspace_the_pages_do_not_show_is_left_to_its_caller() {
    let api = FakeApi::with(30);
    let results = RunResults::new(api.clone(), Box::new(|_| 1));
    let (listed, unlisted) = tokio::join!(
        results.read("org", "ws-0003"),
        results.read("org", "ws-elsewhere")
    );
    assert_eq!(run_of(&listed), Some("run-ws-0003-0".to_string()));
    assert!(unlisted.is_none());
    assert_eq!(results.list_pages(), 1);
}

#[tokio::test(start_paused = true)]
async fn few_runs_in_a_large_organization_read_no_more_pages_than_they_save() {
    // 2 callers, 20 pages: page 1 tells how many pages are left, and 19 pages for 2 callers are not
    // worth it.
    let api = FakeApi::with(2000);
    let results = RunResults::new(api.clone(), Box::new(|_| 1));
    let (a, b) = tokio::join!(
        results.read("org", "ws-1500"),
        results.read("org", "ws-1900")
    );
    assert!(a.is_none() && b.is_none());
    assert_eq!(results.list_pages(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_last_runs_to_end_do_not_wait_for_runs_that_will_not_come() {
    let api = FakeApi::with(30);
    let results = RunResults::new(api.clone(), Box::new(|_| 0));
    let started = tokio::time::Instant::now();
    let ids: Vec<String> = (0..5).map(|i| format!("ws-{i:04}")).collect();
    let reads = read_all(&results, &ids).await;
    assert!(reads.iter().all(Option::is_some));
    assert!(
        started.elapsed() < ALONE + Duration::from_millis(100),
        "batched at once: {:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_run_that_ends_first_waits_for_the_others_still_running() {
    let api = FakeApi::with(30);
    let results = RunResults::new(api.clone(), Box::new(|_| 5));
    let started = tokio::time::Instant::now();
    let read = results.read("org", "ws-0004").await;
    assert_eq!(run_of(&read), Some("run-ws-0004-0".to_string()));
    assert!(
        started.elapsed() >= GATHER,
        "it gathered: {:?}",
        started.elapsed()
    );
    assert_eq!(results.list_pages(), 1);
}
