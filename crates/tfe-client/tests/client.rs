//! TfeClient against tfe-emulator: every operation and every error class. (`cargo test -p tfe-client`)

use std::time::{Duration, Instant};

use serde_json::json;
use test_support::api::{run_for, wait_for};
use test_support::emulator::TestEmulator;
use tfe_client::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_discovers_over_https_and_sizes_the_shared_limiter() {
    let emu = TestEmulator::start();
    // An application's own User-Agent, as the provider sets its name and version (the client crate's
    // default names the client).
    let user_agent = "an-application/1.2.3";
    let client = TfeClient::connect(TfeClientConfig {
        user_agent: Some(user_agent.to_string()),
        ..emu.client_config()
    })
    .await
    .expect("connect to tfe-emulator");
    assert_eq!(client.api_base(), format!("{}/api/v2/", emu.base_url));
    // The ping's answer stated the token's budget: the client spends it at the limit, leaving a fifth of
    // the bucket for other users of the token.
    let (rate, burst) = client.rate_limit();
    assert_eq!(rate, 30.0, "the stated limit, got {rate}");
    assert_eq!(burst, 24.0);
    assert_eq!(client.server_info().rate_limit, Some(30.0));
    let log = emu.requests();
    let routes: Vec<&str> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["route"].as_str().unwrap())
        .collect();
    assert_eq!(routes, vec!["/.well-known/terraform.json", "/api/v2/ping"]);
    for entry in log["requests"].as_array().unwrap() {
        assert_eq!(
            entry["user_agent"], user_agent,
            "every request carries the configured User-Agent"
        );
    }
    assert_eq!(
        client.run_url("acme", "app", "run-1"),
        format!(
            "https://{}/app/acme/workspaces/app/runs/run-1",
            emu.hostname
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_without_the_ca_fails_unless_verification_is_skipped() {
    let emu = TestEmulator::start();
    let mut config = emu.client_config();
    config.ca_file = None;
    let err = TfeClient::connect(config.clone())
        .await
        .expect_err("unknown CA must be rejected");
    assert!(matches!(err, TfeError::Discovery { .. }), "{err}");
    config.ssl_skip_verify = true;
    let client = TfeClient::connect(config)
        .await
        .expect("ssl_skip_verify accepts the certificate");
    let ws = emu.seed_workspace("acme", "app");
    assert_eq!(client.workspace(&ws).await.unwrap().attributes.name, "app");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_and_oauth_clients() {
    let emu = TestEmulator::start_http();
    let client = emu.client().await;
    let org = client
        .create_organization("acme", "ops@acme.test")
        .await
        .unwrap();
    assert_eq!(org.id, "acme");
    assert_eq!(
        client
            .organization("acme")
            .await
            .unwrap()
            .attributes
            .email
            .as_deref(),
        Some("ops@acme.test")
    );
    let dup = client
        .create_organization("acme", "ops@acme.test")
        .await
        .unwrap_err();
    assert!(
        matches!(&dup, TfeError::Unprocessable { detail } if detail.contains("already been taken")),
        "{dup}"
    );

    let options = CreateOAuthClient {
        service_provider: "github".into(),
        http_url: "https://github.com".into(),
        api_url: "https://api.github.com".into(),
        oauth_token_string: Some("ghp_x".into()),
        ..Default::default()
    };
    let oc = client.create_oauth_client("acme", &options).await.unwrap();
    let token_id = oc.oauth_token_id().expect("one oauth token").to_string();
    assert!(token_id.starts_with("ot-"));
    assert_eq!(
        client.oauth_client(&oc.id).await.unwrap().oauth_token_id(),
        Some(token_id.as_str())
    );
    client.delete_oauth_client(&oc.id).await.unwrap();
    assert!(matches!(
        client.oauth_client(&oc.id).await,
        Err(TfeError::NotFound { .. })
    ));

    client.delete_organization("acme").await.unwrap();
    let err = client.organization("acme").await.unwrap_err();
    assert!(
        matches!(&err, TfeError::NotFound { detail } if detail.contains("organization")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_crud_locks_and_safe_delete() {
    let emu = TestEmulator::start_http();
    let client = emu.client().await;
    client
        .create_organization("acme", "ops@acme.test")
        .await
        .unwrap();
    let options = WorkspaceOptions {
        name: Some("app".into()),
        auto_apply: Some(true),
        ..Default::default()
    };
    let ws = client.create_workspace("acme", &options).await.unwrap();
    assert!(ws.attributes.auto_apply);
    assert_eq!(ws.organization_name(), Some("acme"));
    assert_eq!(
        client.workspace_by_name("acme", "app").await.unwrap().id,
        ws.id
    );

    let update = WorkspaceOptions {
        auto_apply: Some(false),
        terraform_version: Some("1.5.7".into()),
        ..Default::default()
    };
    let updated = client.update_workspace(&ws.id, &update).await.unwrap();
    assert!(!updated.attributes.auto_apply);
    assert_eq!(
        updated.attributes.terraform_version.as_deref(),
        Some("1.5.7")
    );

    let locked = client.lock_workspace(&ws.id, "maintenance").await.unwrap();
    assert!(locked.attributes.locked);
    assert_eq!(locked.related_kind("locked-by"), Some("users"));
    let again = client.lock_workspace(&ws.id, "again").await.unwrap_err();
    assert!(matches!(again, TfeError::Conflict { .. }), "{again}");
    let safe = client.safe_delete_workspace(&ws.id).await.unwrap_err();
    assert!(
        matches!(&safe, TfeError::Conflict { detail } if detail.contains("locked")),
        "{safe}"
    );
    assert!(
        !client
            .unlock_workspace(&ws.id)
            .await
            .unwrap()
            .attributes
            .locked
    );
    let not_locked = client.unlock_workspace(&ws.id).await.unwrap_err();
    assert!(
        matches!(&not_locked, TfeError::Conflict { detail } if detail.contains("not locked")),
        "{not_locked}"
    );
    assert!(matches!(
        client.force_unlock_workspace(&ws.id).await,
        Err(TfeError::Conflict { .. })
    ));
    client.lock_workspace(&ws.id, "again").await.unwrap();
    assert!(
        !client
            .force_unlock_workspace(&ws.id)
            .await
            .unwrap()
            .attributes
            .locked
    );

    client.safe_delete_workspace(&ws.id).await.unwrap();
    assert!(matches!(
        client.workspace(&ws.id).await,
        Err(TfeError::NotFound { .. })
    ));

    let busy = emu.seed_workspace_with("acme", "busy", json!({"resource_count": 2}));
    let refused = client.safe_delete_workspace(&busy).await.unwrap_err();
    assert!(
        matches!(&refused, TfeError::Conflict { detail } if detail.contains("managing resources")),
        "{refused}"
    );
    client.delete_workspace(&busy).await.unwrap();
    assert!(matches!(
        client.workspace(&busy).await,
        Err(TfeError::NotFound { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_need_a_configuration_version_and_uploads_queue_one() {
    let emu = TestEmulator::start_http();
    let client = emu.client().await;
    client
        .create_organization("acme", "ops@acme.test")
        .await
        .unwrap();
    let ws = client
        .create_workspace(
            "acme",
            &WorkspaceOptions {
                name: Some("bare".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let err = client.create_run(run_for(&ws.id)).await.unwrap_err();
    assert!(err.is_configuration_version_missing(), "{err}");
    assert_eq!(err.detail(), Some("Configuration version is missing"));
    assert!(emu.runs().is_empty());

    let cv = client
        .create_configuration_version(&ws.id, true, false)
        .await
        .unwrap();
    assert_eq!(cv.attributes.status, "pending");
    let url = cv
        .attributes
        .upload_url
        .clone()
        .expect("upload url on create");
    client
        .upload_configuration(&url, b"not really a tarball".to_vec())
        .await
        .unwrap();
    assert_eq!(
        client
            .configuration_version(&cv.id)
            .await
            .unwrap()
            .attributes
            .status,
        "uploaded"
    );
    let listed = client
        .configuration_versions(&ws.id, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    let runs = emu.workspace_runs(&ws.id);
    assert_eq!(runs.len(), 1, "the upload queued one run");
    assert_eq!(
        client
            .run(&runs[0].id)
            .await
            .unwrap()
            .attributes
            .source
            .as_deref(),
        Some("tfe-configuration-version")
    );

    let missing = client
        .create_run(run_for("ws-doesnotexist"))
        .await
        .unwrap_err();
    assert!(matches!(missing, TfeError::NotFound { .. }), "{missing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_lifecycle_with_includes_plans_applies_and_estimates() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace("acme", "app");
    emu.seed_json(json!({"organizations": [{"name": "acme", "cost_estimation_enabled": true}]}));
    emu.set_workspace_knobs(
        &ws,
        json!({"plan_ms": 50, "apply_ms": 50, "cost_estimate_ms": 20}),
    );
    let client = emu.client().await;
    let created = client
        .create_run(CreateRun {
            message: Some("hello".into()),
            ..run_for(&ws)
        })
        .await
        .unwrap();
    assert_eq!(created.attributes.status, RunStatus::Pending);
    assert_eq!(created.workspace_id(), Some(ws.as_str()));
    assert!(
        created.cost_estimate_id().is_some(),
        "estimate exists from creation"
    );
    assert!(created.policy_check_ids().is_empty());

    let paused = wait_for(&client, &created.id, RunStatus::CostEstimated).await;
    assert!(paused.attributes.actions.is_confirmable);
    assert!(paused.attributes.has_changes);
    let full = client
        .run_with_includes(
            &created.id,
            &["plan", "apply", "workspace", "cost-estimate", "created_by"],
        )
        .await
        .unwrap();
    let plan: Plan = full
        .included("plans", full.run.plan_id().unwrap())
        .expect("plan included");
    assert_eq!(plan.attributes.status, PhaseStatus::Finished);
    assert_eq!(plan.attributes.resource_additions, 1);
    let included_ws: Workspace = full
        .included("workspaces", &ws)
        .expect("workspace included");
    assert_eq!(included_ws.current_run_id(), Some(created.id.as_str()));
    assert!(included_ws.attributes.locked);
    let estimate = client
        .cost_estimate(full.run.cost_estimate_id().unwrap())
        .await
        .unwrap();
    assert_eq!(estimate.attributes.status, "finished");
    assert_eq!(
        client
            .plan(full.run.plan_id().unwrap())
            .await
            .unwrap()
            .attributes
            .has_changes,
        Some(true)
    );
    let bad_include = client
        .run_with_includes(&created.id, &["bogus"])
        .await
        .unwrap_err();
    assert!(
        matches!(&bad_include, TfeError::UnexpectedStatus { status: 400, detail } if detail.contains("include")),
        "{bad_include}"
    );

    client
        .apply_run(&created.id, Some("ship it"))
        .await
        .unwrap();
    let applied = wait_for(&client, &created.id, RunStatus::Applied).await;
    assert!(
        applied
            .attributes
            .status_timestamps
            .contains_key("applied-at")
    );
    let apply = client.apply(applied.apply_id().unwrap()).await.unwrap();
    assert_eq!(apply.attributes.status, PhaseStatus::Finished);
    let again = client.apply_run(&created.id, None).await.unwrap_err();
    assert!(
        matches!(&again, TfeError::Conflict { detail } if detail.contains("not paused for confirmation")),
        "{again}"
    );
    let ws_after = client.workspace(&ws).await.unwrap();
    assert!(!ws_after.attributes.locked, "a final run releases the lock");
    assert_eq!(ws_after.attributes.resource_count, 1);
    assert!(
        client
            .run_task_stages(&created.id)
            .await
            .unwrap()
            .is_empty()
    );

    let listed = client
        .workspace_runs(&ws, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.pagination.total_count, Some(1));
    let org_listed = client
        .org_runs("acme", PageRequest::default())
        .await
        .unwrap();
    assert_eq!(org_listed.items[0].id, created.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discard_cancel_and_force_cancel_through_the_client() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    emu.set_workspace_knobs(
        &ws,
        json!({"plan_ms": 60000, "cancel_stuck": true, "force_cancel_cooloff_ms": 600}),
    );
    let client = emu.client().await;
    let first = client.create_run(run_for(&ws)).await.unwrap();
    let second = client.create_run(run_for(&ws)).await.unwrap();
    wait_for(&client, &first.id, RunStatus::Planning).await;
    assert_eq!(
        client.run(&second.id).await.unwrap().attributes.status,
        RunStatus::Pending
    );
    client.discard_run(&second.id, None).await.unwrap();
    assert_eq!(
        client.run(&second.id).await.unwrap().attributes.status,
        RunStatus::Discarded
    );

    let early = client.force_cancel_run(&first.id, None).await.unwrap_err();
    assert!(matches!(early, TfeError::Conflict { .. }), "{early}");
    client.cancel_run(&first.id, Some("stop")).await.unwrap();
    let cancelling = client.run(&first.id).await.unwrap();
    assert_eq!(
        cancelling.attributes.status,
        RunStatus::Planning,
        "cancel_stuck keeps it planning"
    );
    assert!(cancelling.attributes.force_cancel_available_at.is_some());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        client
            .run(&first.id)
            .await
            .unwrap()
            .attributes
            .actions
            .is_force_cancelable
    );
    client.force_cancel_run(&first.id, None).await.unwrap();
    let canceled = client.run(&first.id).await.unwrap();
    assert_eq!(canceled.attributes.status, RunStatus::Canceled);
    assert!(
        canceled
            .attributes
            .status_timestamps
            .contains_key("force-canceled-at")
    );
    assert!(!client.workspace(&ws).await.unwrap().attributes.locked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_checks_list_and_override() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace_with(
        "acme",
        "app",
        json!({"knobs": {"plan_ms": 30, "policy_check_ms": 20, "policy": "soft_fail"}}),
    );
    let client = emu.client().await;
    let run = client.create_run(run_for(&ws)).await.unwrap();
    assert_eq!(run.policy_check_ids().len(), 1);
    wait_for(&client, &run.id, RunStatus::PolicyOverride).await;
    let checks = client.run_policy_checks(&run.id).await.unwrap();
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].attributes.status, PolicyCheckStatus::SoftFailed);
    assert!(checks[0].attributes.actions.is_overridable);
    let overridden = client.override_policy_check(&checks[0].id).await.unwrap();
    assert_eq!(overridden.attributes.status, PolicyCheckStatus::Overridden);
    let again = client
        .override_policy_check(&checks[0].id)
        .await
        .unwrap_err();
    assert!(matches!(again, TfeError::Conflict { .. }), "{again}");
    let run = client.run(&run.id).await.unwrap();
    assert_eq!(run.attributes.status, RunStatus::PolicyChecked);
    assert!(run.attributes.actions.is_confirmable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_queue_and_capacity_report_waiting_runs() {
    let emu = TestEmulator::start_http();
    let a = emu.seed_workspace("acme", "a");
    let b = emu.seed_workspace("acme", "b");
    emu.set_org_knobs("acme", json!({"concurrency": 1, "plan_ms": 60000}));
    let client = emu.client().await;
    let ra = client.create_run(run_for(&a)).await.unwrap();
    wait_for(&client, &ra.id, RunStatus::Planning).await;
    let rb = client.create_run(run_for(&b)).await.unwrap();
    let queue = client
        .org_run_queue("acme", PageRequest::default())
        .await
        .unwrap();
    assert_eq!(queue.items.len(), 1);
    assert_eq!(queue.items[0].id, rb.id);
    assert_eq!(queue.items[0].attributes.status, RunStatus::PlanQueued);
    assert_eq!(queue.items[0].attributes.position_in_queue, Some(0));
    let capacity = client.org_capacity("acme").await.unwrap();
    assert_eq!(
        (capacity.attributes.running, capacity.attributes.pending),
        (1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_and_not_found_carry_the_api_detail() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    let mut config = emu.client_config();
    config.token = "wrong".into();
    let client = TfeClient::connect(config)
        .await
        .expect("discovery and ping need no token");
    let err = client.workspace(&ws).await.unwrap_err();
    assert!(
        matches!(&err, TfeError::Unauthorized { detail } if detail.contains("token")),
        "{err}"
    );
    assert!(!err.is_retryable());
    let good = emu.client().await;
    let err = good.run("run-nope").await.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.detail(), Some("run not found"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_retried_after_the_servers_delay() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    let client = emu.client().await;
    emu.add_fault(json!({"kind": "rate_limit", "reset_seconds": 0.3, "method": "GET", "path": "/api/v2/workspaces/*", "times": 1}));
    let started = Instant::now();
    client.workspace(&ws).await.expect("retried after the 429");
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited for X-RateLimit-Reset"
    );
    assert_eq!(emu.requests()["counters"]["served_429"], 1);

    let mut config = emu.client_config();
    config.max_retry_time = Duration::ZERO;
    let no_retry = TfeClient::connect(config).await.unwrap();
    emu.add_fault(json!({"kind": "rate_limit", "reset_seconds": 2, "path": "/api/v2/workspaces/*", "times": 1}));
    match no_retry.workspace(&ws).await.unwrap_err() {
        TfeError::RateLimited {
            retry_after,
            detail,
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(2)));
            assert!(detail.contains("rate limit"));
        }
        other => panic!("expected RateLimited, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_for_reads_only() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    let client = emu.client().await;
    emu.add_fault(json!({"kind": "status", "status": 503, "method": "GET", "path": "/api/v2/workspaces/*", "times": 2}));
    client.workspace(&ws).await.expect("two 503s then success");
    assert_eq!(emu.request_count("GET /api/v2/workspaces/{id}"), 3);

    // A create that fails after the server acted is not repeated: one run exists and the error says so.
    emu.add_fault(json!({"kind": "status", "status": 502, "when": "after", "method": "POST", "path": "/api/v2/runs", "times": 1}));
    let err = client.create_run(run_for(&ws)).await.unwrap_err();
    assert!(
        matches!(&err, TfeError::OutcomeUnknown { source, .. } if matches!(**source, TfeError::Server { status: 502, .. })),
        "{err}"
    );
    assert_eq!(emu.runs().len(), 1, "exactly one run, no blind retry");

    emu.add_fault(json!({"kind": "status", "status": 500, "method": "POST", "path": "/api/v2/runs", "times": 1}));
    let err = client.create_run(run_for(&ws)).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(emu.request_count("POST /api/v2/runs"), 2);

    let mut config = emu.client_config();
    config.max_retry_time = Duration::ZERO;
    let no_retry = TfeClient::connect(config).await.unwrap();
    emu.add_fault(json!({"kind": "status", "status": 500, "method": "GET", "path": "/api/v2/workspaces/*", "times": 1}));
    let err = no_retry.workspace(&ws).await.unwrap_err();
    assert!(
        matches!(err, TfeError::Server { status: 500, .. }) && err.is_retryable(),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_failures_timeouts_and_cancellation() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    let client = emu.client().await;
    emu.add_fault(
        json!({"kind": "reset", "method": "GET", "path": "/api/v2/workspaces/*", "times": 1}),
    );
    client
        .workspace(&ws)
        .await
        .expect("a reset read is retried");

    let mut config = emu.client_config();
    config.max_retry_time = Duration::ZERO;
    config.request_timeout = Duration::from_millis(300);
    let impatient = TfeClient::connect(config).await.unwrap();
    emu.add_fault(
        json!({"kind": "reset", "method": "GET", "path": "/api/v2/workspaces/*", "times": 1}),
    );
    let err = impatient.workspace(&ws).await.unwrap_err();
    assert!(matches!(err, TfeError::Transport { .. }), "{err}");
    emu.add_fault(json!({"kind": "delay", "ms": 1500, "method": "GET", "path": "/api/v2/workspaces/*", "times": 1}));
    let err = impatient.workspace(&ws).await.unwrap_err();
    assert!(matches!(err, TfeError::Timeout { .. }), "{err}");

    // Dropping a request future aborts it at once.
    emu.add_fault(json!({"kind": "delay", "ms": 5000, "method": "GET", "path": "/api/v2/workspaces/*", "times": 1}));
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_millis(200), client.workspace(&ws)).await;
    assert!(outcome.is_err(), "still waiting when dropped");
    assert!(started.elapsed() < Duration::from_secs(1));

    // With the server gone, a client without a retry budget fails at once with the connect error.
    drop(emu);
    let err = impatient.workspace(&ws).await.unwrap_err();
    assert!(
        matches!(&err, TfeError::Transport { detail, .. } if detail.starts_with("connect: ")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_for_the_same_host_and_token_share_one_limiter() {
    let emu = TestEmulator::start_http();
    emu.seed_workspace("acme", "app");
    emu.admin(
        "PUT",
        "/_emulator/settings",
        Some(json!({"enforce_rate_limit": true})),
    );
    let a = emu.client().await;
    let b = emu.client().await;
    // One budget for both: what the pings left (28 of 30), less what is kept back, leaves at once; the
    // rest at the server's 30 a second. 80 requests across the two clients take well over a second and
    // never meet an empty bucket.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..80 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            c.organization("acme").await.map(|_| ())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let took = started.elapsed();
    println!("80 requests in {took:?}");
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    assert_eq!(emu.requests()["counters"]["served_429"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enforced_server_limit_is_never_hit_by_limited_clients() {
    let emu = TestEmulator::start_http();
    emu.seed_workspace("acme", "app");
    emu.admin(
        "PUT",
        "/_emulator/settings",
        Some(json!({"enforce_rate_limit": true})),
    );
    // Without a limiter, a burst above 30 requests gets 429s.
    let raw = test_support::emulator::http_client(None);
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let resp = raw
            .get(format!("{}/api/v2/organizations/acme", emu.base_url))
            .bearer_auth(&emu.token)
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    assert!(
        statuses.contains(&429),
        "the server enforces its limit: {statuses:?}"
    );
    emu.reset_requests();
    tokio::time::sleep(Duration::from_millis(1100)).await; // let the server bucket refill

    let a = emu.client().await;
    let b = emu.client().await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            c.organization("acme").await.map(|_| ())
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        emu.requests()["counters"]["served_429"],
        0,
        "the shared bucket stays under the limit"
    );
}

/// The workspace read a run starts with includes its latest configuration version, and the current outputs
/// come with their state version in one request (plus one per sensitive output).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workspace_read_includes_the_configuration_and_outputs_come_with_their_state() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace_with(
        "acme",
        "outputs",
        json!({"knobs": {"plan_ms": 50, "apply_ms": 50, "outputs": {"a": 1, "b": ["x"], "secret": "s"},
                         "sensitive_outputs": ["secret"]}}),
    );
    let client = emu.client().await;
    let read = client.workspace_with_current_run(&ws).await.expect("read");
    let latest = read
        .latest_configuration
        .expect("the latest configuration, included");
    assert_eq!(
        Some(latest.id.as_str()),
        read.workspace.current_configuration_version_id()
    );
    assert!(latest.is_uploaded());
    assert!(read.current_run.is_none());

    let run = client
        .create_run(CreateRun {
            auto_apply: Some(true),
            ..run_for(&ws)
        })
        .await
        .expect("create");
    wait_for(&client, &run.id, RunStatus::Applied).await;
    let read = client.workspace_with_current_run(&ws).await.expect("read");
    assert_eq!(read.current_run.map(|r| r.id), Some(run.id));

    emu.reset_requests();
    let current = client
        .current_outputs(&ws)
        .await
        .expect("outputs")
        .expect("a state version");
    assert!(current.processed());
    let names: Vec<&str> = current.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "secret"]);
    let secret = current.outputs.iter().find(|o| o.sensitive).unwrap();
    assert_eq!(secret.value, json!("s"));
    assert_eq!(
        emu.request_count("GET /api/v2/workspaces/{id}/current-state-version"),
        1
    );
    assert_eq!(
        emu.request_count("GET /api/v2/state-version-outputs/{id}"),
        1,
        "one read for the sensitive output"
    );
    assert_eq!(emu.total_requests(), 2, "{}", emu.requests()["counters"]);
}
