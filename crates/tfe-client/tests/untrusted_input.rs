//! TfeClient against tfe-emulator serving broken, hostile and flaky answers: bad pause headers, faults on
//! discovery and the ping, long 429 streaks, permanent 503s, answers that never come, commits after the
//! client gave up, malformed and huge bodies. Each test checks what the user would see (success or the
//! typed error and its text), how long it took, and how many requests reached the server.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use test_support::emulator::TestEmulator;
use tfe_client::*;

/// A client with a small retry budget and pause cap, so that the tests stay fast.
fn config(emu: &TestEmulator, budget: Duration, max_pause: Duration) -> TfeClientConfig {
    TfeClientConfig {
        max_retry_time: budget,
        max_server_pause: max_pause,
        request_timeout: Duration::from_secs(5),
        ..emu.client_config()
    }
}

async fn connect(config: TfeClientConfig) -> TfeClient {
    TfeClient::connect(config).await.expect("connect")
}

/// The fault notes of logged requests to `route` (`"/api/v2/workspaces/{id}"` style).
fn faults_on(emu: &TestEmulator, route: &str) -> Vec<Option<String>> {
    emu.requests()["requests"]
        .as_array()
        .expect("request log")
        .iter()
        .filter(|e| e["route"] == route)
        .map(|e| e["fault"].as_str().map(str::to_string))
        .collect()
}

fn run_for(ws: &str) -> CreateRun {
    CreateRun {
        workspace_id: ws.to_string(),
        ..Default::default()
    }
}

/// Polls `check` for up to `timeout`.
async fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

const WORKSPACE_ROUTE: &str = "GET /api/v2/workspaces/{id}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pause_headers_neither_panic_nor_stall() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    let cap = Duration::from_millis(300);
    let client = connect(config(&emu, Duration::from_secs(10), cap)).await;
    // (header value, longest acceptable wait): huge values are capped, unusable ones fall back to 1 s.
    let cases: Vec<(Value, Duration)> = vec![
        (json!("1e20"), Duration::from_millis(1000)),
        (json!("18446744073709551616"), Duration::from_millis(1000)),
        (json!("-5"), Duration::from_millis(1800)),
        (json!("NaN"), Duration::from_millis(1800)),
        (json!("inf"), Duration::from_millis(1800)),
        (json!("abc"), Duration::from_millis(1800)),
        (json!(""), Duration::from_millis(1800)),
        (json!([255, 254, 0x31]), Duration::from_millis(1800)),
        (
            json!("Wed, 21 Oct 2015 07:28:00 GMT"),
            Duration::from_millis(1000),
        ),
    ];
    for (value, longest) in cases {
        emu.reset_requests();
        emu.add_fault(
            json!({"kind": "rate_limit", "retry_after": value, "reset": value,
            "method": "GET", "path": "/api/v2/workspaces/*", "times": 1}),
        );
        let started = Instant::now();
        let got = client.workspace(&ws).await;
        let took = started.elapsed();
        assert!(got.is_ok(), "{value}: {}", got.unwrap_err());
        assert!(took <= longest, "{value}: took {took:?}");
        assert_eq!(
            faults_on(&emu, "/api/v2/workspaces/{id}"),
            vec![Some("429".to_string()), None],
            "{value}: one 429, then one successful retry"
        );
    }

    // A date in the future means "until then".
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let date = at
        .format(time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        ))
        .unwrap();
    let patient = connect(config(
        &emu,
        Duration::from_secs(10),
        Duration::from_secs(5),
    ))
    .await;
    emu.add_fault(
        json!({"kind": "rate_limit", "retry_after": date, "method": "GET",
        "path": "/api/v2/workspaces/*", "times": 1}),
    );
    let started = Instant::now();
    patient
        .workspace(&ws)
        .await
        .expect("retried after the date");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took <= Duration::from_secs(4),
        "{date}: took {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_error_says_how_long_the_server_asked_to_wait() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    let no_retry = connect(config(&emu, Duration::ZERO, Duration::from_secs(60))).await;
    emu.add_fault(json!({"kind": "rate_limit", "retry_after": "1.5", "path": "/api/v2/workspaces/*", "times": 1}));
    let err = no_retry.workspace(&ws).await.unwrap_err();
    assert!(
        matches!(&err, TfeError::RateLimited { retry_after: Some(d), .. } if *d == Duration::from_millis(1500)),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "rate limited (429); the server asked to wait 1.5 s: You have exceeded the API's rate limit."
    );
    // A huge request is reported as the capped pause the client would honour.
    emu.add_fault(json!({"kind": "rate_limit", "retry_after": "1e20", "path": "/api/v2/workspaces/*", "times": 1}));
    let err = no_retry.workspace(&ws).await.unwrap_err();
    assert!(
        err.to_string().contains("asked to wait 1 min"),
        "capped at 60 s: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_and_ping_are_retried_like_any_read() {
    let emu = TestEmulator::start_http();
    let faults = [
        json!({"kind": "status", "status": 503}),
        json!({"kind": "rate_limit", "retry_after": "0.2"}),
        json!({"kind": "reset"}),
    ];
    for path in ["/.well-known/terraform.json", "/api/v2/ping"] {
        for fault in &faults {
            emu.reset_requests();
            let mut rule = fault.clone();
            rule["path"] = json!(path);
            rule["times"] = json!(1);
            emu.add_fault(rule);
            let client = TfeClient::connect(config(
                &emu,
                Duration::from_secs(10),
                Duration::from_secs(5),
            ))
            .await;
            assert!(client.is_ok(), "{fault} on {path}: {}", client.unwrap_err());
            assert_eq!(
                emu.request_count(&format!("GET {path}")),
                2,
                "{fault} on {path}: one failure, one retry"
            );
            assert_eq!(
                client.unwrap().server_info().rate_limit,
                Some(30.0),
                "the ping's headers were read"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_failure_ends_after_the_budget_with_the_last_error() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    let budget = Duration::from_secs(2);
    let client = connect(config(&emu, budget, Duration::from_secs(1))).await;

    emu.add_fault(
        json!({"kind": "status", "status": 503, "method": "GET", "path": "/api/v2/workspaces/*"}),
    );
    let started = Instant::now();
    let err = client.workspace(&ws).await.unwrap_err();
    let took = started.elapsed();
    // No retry starts once its pause would end past the budget, so the client may give up before 2 s: the
    // earliest is after three pauses at their shortest (125 + 250 + 500 ms of the jittered backoff) when the
    // fourth would be its longest (2 s).
    assert!(
        took >= Duration::from_millis(875) && took <= budget + Duration::from_secs(1),
        "took {took:?}"
    );
    match &err {
        TfeError::RetriesExhausted {
            attempts, source, ..
        } => {
            assert!(*attempts >= 3, "{err}");
            assert!(
                matches!(**source, TfeError::Server { status: 503, .. }),
                "{err}"
            );
            assert_eq!(
                u64::from(*attempts),
                emu.request_count(WORKSPACE_ROUTE),
                "every attempt reached the server"
            );
        }
        other => panic!("expected RetriesExhausted, got {other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("server error (503): injected fault") && text.contains("giving up"),
        "{text}"
    );
    assert!(!text.contains(&emu.token), "{text}");

    // Discovery fails the same way, as a discovery error naming the last failure.
    emu.add_fault(json!({"kind": "status", "status": 503, "path": "/.well-known/terraform.json"}));
    let started = Instant::now();
    let err = TfeClient::connect(config(&emu, budget, Duration::from_secs(1)))
        .await
        .unwrap_err();
    assert!(started.elapsed() <= budget + Duration::from_secs(1));
    assert!(
        matches!(&err, TfeError::Discovery { detail, .. } if detail.contains("503") && detail.contains("giving up")),
        "{err}"
    );

    // A create answered 503 may have happened: it is sent once and reported as an unknown outcome.
    emu.clear_faults();
    emu.reset_requests();
    emu.add_fault(
        json!({"kind": "status", "status": 503, "method": "POST", "path": "/api/v2/runs"}),
    );
    let err = client.create_run(run_for(&ws)).await.unwrap_err();
    assert!(matches!(err, TfeError::OutcomeUnknown { .. }), "{err}");
    assert_eq!(emu.request_count("POST /api/v2/runs"), 1);

    // A create that is always rate limited certainly never happened: retried until the budget, no run.
    emu.clear_faults();
    emu.reset_requests();
    emu.add_fault(json!({"kind": "rate_limit", "retry_after": "0.3", "method": "POST", "path": "/api/v2/runs"}));
    let started = Instant::now();
    let err = client.create_run(run_for(&ws)).await.unwrap_err();
    assert!(started.elapsed() <= budget + Duration::from_secs(1));
    assert!(
        matches!(&err, TfeError::RetriesExhausted { source, .. } if matches!(**source, TfeError::RateLimited { .. })),
        "{err}"
    );
    assert!(emu.request_count("POST /api/v2/runs") >= 3);
    assert!(emu.runs().is_empty(), "no run was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_rate_limits_in_a_row_are_outlasted() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    let client = connect(config(
        &emu,
        Duration::from_secs(20),
        Duration::from_secs(5),
    ))
    .await;

    emu.add_fault(json!({"kind": "rate_limit", "retry_after": "0", "method": "POST", "path": "/api/v2/runs", "times": 12}));
    let run = client
        .create_run(run_for(&ws))
        .await
        .expect("the create outlasts 12 429s");
    assert_eq!(emu.request_count("POST /api/v2/runs"), 13);
    assert_eq!(emu.runs().len(), 1, "exactly one run");

    emu.add_fault(json!({"kind": "rate_limit", "retry_after": "0", "method": "GET", "path": "/api/v2/workspaces/*", "times": 12}));
    client
        .workspace(&ws)
        .await
        .expect("the read outlasts 12 429s");
    assert_eq!(emu.request_count(WORKSPACE_ROUTE), 13);

    emu.add_fault(json!({"kind": "rate_limit", "retry_after": "0", "method": "GET", "path": "/api/v2/runs/*", "times": 12}));
    let refreshed = client
        .run(&run.id)
        .await
        .expect("the refresh outlasts 12 429s");
    assert_eq!(refreshed.id, run.id);
    assert_eq!(emu.request_count("GET /api/v2/runs/{id}"), 13);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_after_the_commit() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    let client = connect(config(&emu, Duration::from_secs(5), Duration::from_secs(1))).await;

    // A read is simply asked again.
    emu.add_fault(json!({"kind": "reset", "when": "after", "method": "GET", "path": "/api/v2/workspaces/*", "times": 1}));
    client
        .workspace(&ws)
        .await
        .expect("retried after the reset");
    assert_eq!(
        faults_on(&emu, "/api/v2/workspaces/{id}"),
        vec![Some("reset after 200".to_string()), None]
    );

    // A create is not: the run exists, the client says it cannot know.
    emu.add_fault(json!({"kind": "reset", "when": "after", "method": "POST", "path": "/api/v2/runs", "times": 1}));
    let err = client.create_run(run_for(&ws)).await.unwrap_err();
    assert!(
        matches!(&err, TfeError::OutcomeUnknown { source, .. } if matches!(**source, TfeError::Transport { .. })),
        "{err}"
    );
    assert_eq!(
        emu.runs().len(),
        1,
        "the handler committed before the reset"
    );
    assert_eq!(emu.request_count("POST /api/v2/runs"), 1, "not repeated");
    assert_eq!(
        faults_on(&emu, "/api/v2/runs"),
        vec![Some("reset after 201".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_commit_lands_after_the_client_gave_up() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    let mut impatient = config(&emu, Duration::from_secs(5), Duration::from_secs(1));
    impatient.request_timeout = Duration::from_millis(300);
    let client = connect(impatient).await;

    emu.add_fault(json!({"kind": "late_commit", "ms": 800, "method": "POST", "path": "/api/v2/runs", "times": 1}));
    let started = Instant::now();
    let err = client.create_run(run_for(&ws)).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(800));
    assert!(
        matches!(&err, TfeError::OutcomeUnknown { source, .. } if matches!(**source, TfeError::Timeout { .. })),
        "{err}"
    );
    assert!(
        emu.runs().is_empty(),
        "nothing happened while the client waited"
    );
    assert!(
        eventually(Duration::from_secs(3), || emu.runs().len() == 1).await,
        "the run appears after the client gave up"
    );
    assert!(
        eventually(Duration::from_secs(2), || {
            faults_on(&emu, "/api/v2/runs")
                == vec![Some("late_commit 800ms (no answer sent)".into())]
        })
        .await,
        "{:?}",
        faults_on(&emu, "/api/v2/runs")
    );

    // An idempotent update is asked again on its own; the late copy lands later too.
    emu.reset_requests();
    emu.add_fault(json!({"kind": "late_commit", "ms": 600, "method": "PATCH", "path": "/api/v2/workspaces/*", "times": 1}));
    let updated = client
        .update_workspace(
            &ws,
            &WorkspaceOptions {
                auto_apply: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("the retried update is answered");
    assert!(updated.attributes.auto_apply);
    assert!(
        eventually(Duration::from_secs(3), || emu
            .request_count("PATCH /api/v2/workspaces/{id}")
            == 2)
        .await,
        "the answered retry and the late commit are both logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_are_typed_errors() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    let client = connect(config(&emu, Duration::from_secs(5), Duration::from_secs(1))).await;

    for shape in ["not_json", "wrong_shape"] {
        emu.reset_requests();
        emu.add_fault(json!({"kind": "malformed_body", "body": shape, "method": "GET", "path": "/api/v2/workspaces/*", "times": 2}));
        let err = client.workspace(&ws).await.unwrap_err();
        assert!(matches!(err, TfeError::Decode { .. }), "{shape}: {err}");
        let err = client
            .workspace_runs(&ws, PageRequest::default())
            .await
            .unwrap_err();
        assert!(matches!(err, TfeError::Decode { .. }), "{shape}: {err}");
        assert_eq!(
            emu.request_count(WORKSPACE_ROUTE),
            1,
            "a 200 that cannot be read is not asked again"
        );
        assert_eq!(
            faults_on(&emu, "/api/v2/workspaces/{id}"),
            vec![Some(format!("malformed_body {shape}"))]
        );
    }

    // The status still decides the error class when the error document is garbage.
    emu.add_fault(
        json!({"kind": "malformed_body", "method": "GET", "path": "/api/v2/runs/*", "times": 1}),
    );
    let err = client.run("run-nope").await.unwrap_err();
    assert!(
        matches!(&err, TfeError::NotFound { detail } if detail == "Not Found"),
        "{err}"
    );

    // A create whose answer is unreadable did happen: an unknown outcome, so callers look for it.
    emu.add_fault(
        json!({"kind": "malformed_body", "method": "POST", "path": "/api/v2/runs", "times": 1}),
    );
    let err = client.create_run(run_for(&ws)).await.unwrap_err();
    assert!(
        matches!(&err, TfeError::OutcomeUnknown { source, .. } if matches!(**source, TfeError::Decode { .. })),
        "{err}"
    );
    assert_eq!(emu.runs().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_bodies_are_refused_without_buffering_them() {
    let emu = TestEmulator::start_http();
    let ws = emu.seed_workspace("acme", "app");
    let client = connect(config(&emu, Duration::from_secs(5), Duration::from_secs(1))).await;
    for chunked in [false, true] {
        emu.reset_requests();
        emu.add_fault(
            json!({"kind": "huge_body", "bytes": 1u64 << 40, "chunked": chunked,
            "method": "GET", "path": "/api/v2/workspaces/*", "times": 1}),
        );
        let started = Instant::now();
        let err = client.workspace(&ws).await.unwrap_err();
        assert!(
            matches!(&err, TfeError::BodyTooLarge { limit, .. } if *limit == 32 << 20),
            "chunked {chunked}: {err}"
        );
        assert!(err.to_string().contains("larger than 32 MiB"), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a TiB body is refused early, not read: {:?}",
            started.elapsed()
        );
        assert_eq!(emu.request_count(WORKSPACE_ROUTE), 1, "not asked again");
        assert_eq!(
            faults_on(&emu, "/api/v2/workspaces/{id}"),
            vec![Some(format!("huge_body {} bytes", 1u64 << 40))]
        );
    }
    // Under the limit it is read, and is merely not a document.
    emu.add_fault(json!({"kind": "huge_body", "bytes": 1 << 20, "method": "GET", "path": "/api/v2/workspaces/*", "times": 1}));
    let err = client.workspace(&ws).await.unwrap_err();
    assert!(matches!(err, TfeError::Decode { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_not_retried() {
    let emu = TestEmulator::start();
    let mut cfg = config(&emu, Duration::from_secs(10), Duration::from_secs(1));
    cfg.ca_file = None;
    let started = Instant::now();
    let err = TfeClient::connect(cfg).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(&err, TfeError::Discovery { detail, .. } if detail.contains("TLS")),
        "{err}"
    );
    assert_eq!(emu.request_count("GET /.well-known/terraform.json"), 0);
}
