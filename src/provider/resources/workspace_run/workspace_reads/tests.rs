//! The batcher against a fake API: which requests a batch makes, and that every caller gets its own
//! workspace whatever the lists show.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use tfe_client::Run;

/// Organizations and their workspaces (ids in list order); every request is counted.
#[derive(Default)]
struct FakeApi {
    organizations: BTreeMap<String, Vec<String>>,
    /// Workspaces whose current run the list names but does not include.
    current_not_included: HashSet<String>,
    failing_lists: bool,
    log: Mutex<Vec<String>>,
}

fn workspace(id: &str, organization: &str, current: Option<&str>) -> Workspace {
    serde_json::from_value(json!({
        "id": id, "type": "workspaces", "attributes": {"name": id},
        "relationships": {
            "organization": {"data": {"id": organization, "type": "organizations"}},
            "current-run": {"data": current.map(|r| json!({"id": r, "type": "runs"}))}
        }
    }))
    .unwrap()
}

fn current_run(workspace_id: &str) -> Run {
    serde_json::from_value(json!({"id": format!("run-{workspace_id}"), "type": "runs",
        "attributes": {"status": "applied"}}))
    .unwrap()
}

impl FakeApi {
    fn with(organization: &str, count: usize) -> FakeApi {
        let mut api = FakeApi::default();
        api.organizations.insert(
            organization.into(),
            (0..count)
                .map(|i| format!("ws-{organization}{i:04}"))
                .collect(),
        );
        api
    }

    fn organization_of(&self, id: &str) -> Option<&str> {
        self.organizations
            .iter()
            .find(|(_, ids)| ids.iter().any(|i| i == id))
            .map(|(org, _)| org.as_str())
    }

    fn read_of(&self, id: &str, organization: &str) -> WorkspaceWithCurrent {
        let run = current_run(id);
        WorkspaceWithCurrent {
            workspace: workspace(id, organization, Some(&run.id)),
            current_run: Some(run),
            latest_configuration: None,
        }
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

impl WorkspaceSource for Arc<FakeApi> {
    async fn workspace(&self, id: &str) -> Result<WorkspaceWithCurrent, TfeError> {
        self.log.lock().unwrap().push(format!("GET {id}"));
        tokio::time::sleep(Duration::from_millis(5)).await;
        match self.organization_of(id) {
            Some(org) => Ok(self.read_of(id, org)),
            None => Err(TfeError::NotFound {
                detail: "workspace not found".into(),
            }),
        }
    }

    async fn org_workspaces(
        &self,
        organization: &str,
        number: u32,
    ) -> Result<Page<WorkspaceWithCurrent>, TfeError> {
        self.log
            .lock()
            .unwrap()
            .push(format!("LIST {organization} {number}"));
        tokio::time::sleep(Duration::from_millis(5)).await;
        if self.failing_lists {
            return Err(TfeError::Server {
                status: 503,
                detail: "unavailable".into(),
            });
        }
        let ids = self
            .organizations
            .get(organization)
            .cloned()
            .unwrap_or_default();
        let start = ((number - 1) * PAGE_SIZE) as usize;
        let items: Vec<WorkspaceWithCurrent> = ids
            .iter()
            .skip(start)
            .take(PAGE_SIZE as usize)
            .map(|id| {
                let mut read = self.read_of(id, organization);
                if self.current_not_included.contains(id) {
                    read.current_run = None;
                }
                read
            })
            .collect();
        let more = start + items.len() < ids.len();
        let pagination = serde_json::from_value(json!({"current-page": number,
            "next-page": if more { Some(number + 1) } else { None },
            "total-pages": ids.len().div_ceil(PAGE_SIZE as usize)}))
        .unwrap();
        Ok(Page { items, pagination })
    }
}

/// Reads `ids` all at once through one batcher; returns what each caller got.
async fn read_all(
    reads: &WorkspaceReads<Arc<FakeApi>>,
    ids: &[String],
) -> Vec<Result<WorkspaceRead, TfeError>> {
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let (reads, id) = (reads.clone(), id.clone());
            tokio::spawn(async move { reads.read(&id).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

/// Asks for the organizations of `ids` all at once.
async fn organizations_of(
    reads: &WorkspaceReads<Arc<FakeApi>>,
    ids: &[String],
) -> Vec<Option<String>> {
    let tasks: Vec<_> = ids
        .iter()
        .map(|id| {
            let (reads, id) = (reads.clone(), id.clone());
            tokio::spawn(async move { reads.organization_of(&id).await })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

fn check_answers(ids: &[String], answers: &[Result<WorkspaceRead, TfeError>]) {
    for (id, answer) in ids.iter().zip(answers) {
        let read = answer.as_ref().unwrap_or_else(|e| panic!("{id}: {e}"));
        let (w, run) = (&read.workspace, &read.current_run);
        assert_eq!(&w.id, id);
        assert_eq!(
            run.as_ref().map(|r| r.id.clone()),
            Some(format!("run-{id}"))
        );
    }
}

#[tokio::test(start_paused = true)]
async fn many_workspaces_starting_at_once_cost_one_read_and_their_pages() {
    let api = Arc::new(FakeApi::with("acme", 300));
    let reads = WorkspaceReads::new(api.clone());
    let ids: Vec<String> = api.organizations["acme"][..250].to_vec();
    let answers = read_all(&reads, &ids).await;
    check_answers(&ids, &answers);
    // One read to learn the organization, then the pages holding the 249 others.
    let pages = 250u32.div_ceil(PAGE_SIZE) as u64;
    assert_eq!(
        api.requests().len() as u64,
        1 + pages,
        "{:?}",
        api.requests()
    );
    assert_eq!(reads.requests(), (1, pages));
}

#[tokio::test(start_paused = true)]
async fn a_few_reads_go_by_themselves() {
    let api = Arc::new(FakeApi::with("acme", 300));
    let reads = WorkspaceReads::new(api.clone());
    let ids: Vec<String> = api.organizations["acme"][..BATCH_MIN - 1].to_vec();
    let answers = read_all(&reads, &ids).await;
    check_answers(&ids, &answers);
    let requests = api.requests();
    assert_eq!(requests.len(), BATCH_MIN - 1, "{requests:?}");
    assert!(
        requests.iter().all(|r| r.starts_with("GET ")),
        "{requests:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn workspaces_the_lists_do_not_show_are_read_by_their_callers_with_their_errors() {
    let mut api = FakeApi::with("acme", 120);
    api.organizations.insert(
        "other".into(),
        (0..3).map(|i| format!("ws-other{i}")).collect(),
    );
    api.current_not_included.insert("ws-acme0007".into());
    let api = Arc::new(api);
    let reads = WorkspaceReads::new(api.clone());
    // Learn acme first.
    read_all(&reads, &["ws-acme0000".to_string()]).await;
    let mut ids: Vec<String> = api.organizations["acme"][1..20].to_vec();
    ids.extend(api.organizations["other"].iter().cloned());
    ids.push("ws-nowhere".into());
    let answers = read_all(&reads, &ids).await;
    let (nowhere, found) = answers.split_last().unwrap();
    check_answers(&ids[..ids.len() - 1], found);
    assert!(
        matches!(nowhere, Err(TfeError::NotFound { .. })),
        "the caller's own 404"
    );
    let requests = api.requests();
    for single in [
        "GET ws-acme0007",
        "GET ws-other0",
        "GET ws-other1",
        "GET ws-other2",
        "GET ws-nowhere",
    ] {
        assert!(
            requests.iter().any(|r| r == single),
            "{single} in {requests:?}"
        );
    }
    // Both organizations are known now: the next batch lists the one it needs.
    assert!(reads.lock().organizations.contains(&"other".to_string()));
}

#[tokio::test(start_paused = true)]
async fn a_failing_list_leaves_every_caller_to_its_own_read() {
    let mut api = FakeApi::with("acme", 50);
    api.failing_lists = true;
    let api = Arc::new(api);
    let reads = WorkspaceReads::new(api.clone());
    let ids: Vec<String> = api.organizations["acme"].clone();
    let answers = read_all(&reads, &ids).await;
    check_answers(&ids, &answers);
    let gets = api
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET "))
        .count();
    // One read learnt the organization; its caller got that one. The 49 others read their own.
    assert_eq!(gets, 50);
}

#[tokio::test(start_paused = true)]
async fn two_instances_of_one_workspace_get_the_same_read() {
    let api = Arc::new(FakeApi::with("acme", 20));
    let reads = WorkspaceReads::new(api.clone());
    read_all(&reads, &["ws-acme0000".to_string()]).await;
    let mut ids: Vec<String> = api.organizations["acme"][1..12].to_vec();
    ids.push("ws-acme0005".into());
    let answers = read_all(&reads, &ids).await;
    check_answers(&ids, &answers);
    assert_eq!(
        api.requests().len(),
        2,
        "one read, then one page: {:?}",
        api.requests()
    );
}

#[tokio::test(start_paused = true)]
async fn the_organization_of_many_workspaces_costs_what_their_reads_cost_and_of_a_few_nothing() {
    let api = Arc::new(FakeApi::with("acme", 300));
    let reads = WorkspaceReads::new(api.clone());
    // A few: not worth a request; their callers read their runs directly.
    let few = organizations_of(&reads, &api.organizations["acme"][..3]).await;
    assert_eq!(few, vec![None, None, None]);
    assert!(api.requests().is_empty(), "{:?}", api.requests());
    // Many: one read and the pages, then known without a request.
    let ids: Vec<String> = api.organizations["acme"][..150].to_vec();
    let many = organizations_of(&reads, &ids).await;
    assert!(
        many.iter().all(|o| o.as_deref() == Some("acme")),
        "{many:?}"
    );
    let spent = 1 + 150usize.div_ceil(PAGE_SIZE as usize);
    assert_eq!(api.requests().len(), spent, "{:?}", api.requests());
    assert_eq!(
        reads.organization_of("ws-acme0001").await.as_deref(),
        Some("acme")
    );
    assert_eq!(api.requests().len(), spent);
}

#[tokio::test(start_paused = true)]
async fn instances_starting_a_little_later_find_their_workspace_on_the_pages_already_read() {
    let api = Arc::new(FakeApi::with("acme", 300));
    let reads = WorkspaceReads::new(api.clone());
    // The first to start are spread over the list's three pages (Terraform walks the instances in
    // its own order), so all three are read.
    let all = &api.organizations["acme"];
    let first: Vec<String> = all.iter().step_by(3).cloned().collect();
    let later: Vec<String> = all
        .iter()
        .filter(|id| !first.contains(id))
        .cloned()
        .collect();
    read_all(&reads, &first).await;
    let spent = api.requests().len();
    assert_eq!(
        spent,
        1 + 300usize.div_ceil(PAGE_SIZE as usize),
        "one read and every page: {:?}",
        api.requests()
    );
    // Half a second later, the others, in small groups: every page was read already.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for group in later.chunks(3) {
        let answers = read_all(&reads, group).await;
        check_answers(group, &answers);
    }
    assert_eq!(api.requests().len(), spent, "{:?}", api.requests());
    // Reads older than a few seconds are not used: the workspace is read again.
    tokio::time::sleep(FRESH).await;
    read_all(&reads, &later[..1]).await;
    assert_eq!(api.requests().len(), spent + 1);
}

#[tokio::test(start_paused = true)]
async fn a_large_organization_is_not_listed_for_a_few_of_its_workspaces() {
    let api = Arc::new(FakeApi::with("acme", 2000));
    let reads = WorkspaceReads::new(api.clone());
    read_all(&reads, &["ws-acme0000".to_string()]).await;
    // Ten workspaces spread over twenty pages: after the first page shows how many there are, the
    // others are read one by one rather than page by page.
    let ids: Vec<String> = (1..=10).map(|i| format!("ws-acme{:04}", i * 150)).collect();
    let answers = read_all(&reads, &ids).await;
    check_answers(&ids, &answers);
    let pages = api
        .requests()
        .iter()
        .filter(|r| r.starts_with("LIST"))
        .count();
    assert_eq!(pages, 1, "{:?}", api.requests());
}
