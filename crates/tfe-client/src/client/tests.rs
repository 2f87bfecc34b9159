//! Unit tests of the retry policy, redaction and the configuration's Debug.

use super::transport::*;
use super::*;

/// Captures what tracing writes while a test runs.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
    fn subscriber(&self) -> impl tracing::Subscriber + use<> {
        let me = self.clone();
        tracing_subscriber::fmt()
            .with_writer(move || me.clone())
            .with_ansi(false)
            .finish()
    }
}

fn limited(retry_after: &'static str) -> (TfeError, HeaderMap) {
    let mut h = HeaderMap::new();
    h.insert("retry-after", HeaderValue::from_static(retry_after));
    let error = response::status_error(429, &h, b"{}", SystemTime::now()).unwrap();
    (error, h)
}

#[tokio::test(start_paused = true)]
async fn a_huge_server_pause_is_capped_logged_and_shared() {
    let log = Captured::default();
    let _guard = tracing::subscriber::set_default(log.subscriber());
    let (mut error, headers) = limited("1e20");
    let cap = Duration::from_secs(60);
    let pause = retry_pause(&mut error, Some(&headers), 1, cap, "GET /api/v2/runs/run-1");
    assert!(
        pause >= cap && pause <= cap + Duration::from_millis(300),
        "{pause:?}"
    );
    assert!(
        matches!(error, TfeError::RateLimited { retry_after: Some(d), .. } if d == cap),
        "{error}"
    );
    assert!(error.to_string().contains("asked to wait 1 min"), "{error}");
    let text = log.text();
    assert!(
        text.contains("WARN") && text.contains("longer pause than allowed"),
        "{text}"
    );
    assert!(text.contains("GET /api/v2/runs/run-1"), "{text}");

    // The shared bucket honours the capped pause: the next request leaves after 60 s, not 1e20 s.
    let limiter = RateLimiter::unlimited();
    let started = tokio::time::Instant::now();
    limiter.pause_for(pause);
    limiter.acquire().await;
    let waited = started.elapsed();
    assert!(
        waited >= cap && waited <= cap + Duration::from_millis(301),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_pause_under_the_cap_is_taken_as_is_without_warning() {
    let log = Captured::default();
    let _guard = tracing::subscriber::set_default(log.subscriber());
    let (mut error, headers) = limited("2");
    let pause = retry_pause(
        &mut error,
        Some(&headers),
        1,
        Duration::from_secs(60),
        "GET /x",
    );
    assert!(pause >= Duration::from_secs(2) && pause <= Duration::from_millis(2300));
    assert!(!log.text().contains("WARN"), "{}", log.text());
    // Unusable, missing or past values: the default second (at least 100 ms), never zero.
    for header in ["NaN", "-5", "abc", "", "Thu, 01 Jan 1970 00:00:00 GMT"] {
        let (mut error, headers) = limited(header);
        let pause = retry_pause(
            &mut error,
            Some(&headers),
            1,
            Duration::from_secs(60),
            "GET /x",
        );
        assert!(pause >= MIN_RATE_LIMIT_PAUSE, "{header:?}: {pause:?}");
        assert!(
            pause <= Duration::from_millis(1300),
            "{header:?}: {pause:?}"
        );
    }
}

#[test]
fn a_503_with_retry_after_waits_at_least_that_long() {
    let mut h = HeaderMap::new();
    h.insert("retry-after", HeaderValue::from_static("3"));
    let mut error = response::status_error(503, &h, b"", SystemTime::now()).unwrap();
    let pause = retry_pause(&mut error, Some(&h), 1, Duration::from_secs(60), "GET /x");
    assert!(pause >= Duration::from_secs(3), "{pause:?}");
    let capped = retry_pause(&mut error, Some(&h), 1, Duration::from_secs(1), "GET /x");
    assert!(capped <= Duration::from_secs(1), "{capped:?}");
}

#[test]
fn giving_up_keeps_the_last_error_and_unknown_outcomes() {
    let url = Url::parse("https://tfe.example/api/v2/runs").unwrap();
    let read = Call::api(Method::GET, url.clone(), Payload::None, Retry::Idempotent);
    let create = Call::api(Method::POST, url, Payload::None, Retry::Unsafe);
    let server = || TfeError::Server {
        status: 503,
        detail: "down".into(),
    };
    let e = give_up(server(), &read, 7, Duration::from_secs(300), true);
    assert!(
        matches!(&e, TfeError::RetriesExhausted { attempts: 7, source, .. } if matches!(**source, TfeError::Server { status: 503, .. })),
        "{e}"
    );
    assert!(e.to_string().contains("down"), "{e}");
    let e = give_up(server(), &read, 1, Duration::ZERO, true);
    assert!(
        matches!(e, TfeError::Server { .. }),
        "a single attempt is not wrapped: {e}"
    );
    let e = give_up(server(), &create, 1, Duration::ZERO, false);
    assert!(matches!(e, TfeError::OutcomeUnknown { .. }), "{e}");
    let refused = TfeError::Transport {
        url: "u".into(),
        detail: format!("{CONNECT_PREFIX}connection refused"),
    };
    let e = give_up(refused, &create, 3, Duration::from_secs(9), true);
    assert!(
        matches!(e, TfeError::RetriesExhausted { .. }),
        "nothing reached the server: {e}"
    );
}

#[test]
fn an_echoed_token_is_redacted_from_error_text() {
    let mut e = TfeError::Unauthorized {
        detail: "token s3cret-tok is not valid".into(),
    };
    redact(&mut e, "s3cret-tok");
    assert_eq!(
        e.to_string(),
        "unauthorized (401): token <redacted> is not valid"
    );
}

#[test]
fn config_debug_redacts_token() {
    let c = TfeClientConfig {
        token: "secret-token".into(),
        ..Default::default()
    };
    assert!(!format!("{c:?}").contains("secret-token"));
}

/// A plain-HTTP server on a local port that answers discovery and the ping (stating a budget), each on a
/// connection of its own, until the returned task is aborted: then the port refuses connections.
async fn answering_then_gone() -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let server = tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let body = if request.starts_with(b"GET /.well-known/terraform.json") {
                r#"{"tfe.v2":"/api/v2/"}"#
            } else {
                ""
            };
            let answer = format!(
                "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\n\
                 x-ratelimit-limit: 30\r\nx-ratelimit-remaining: 29\r\nx-ratelimit-reset: 0.033\r\n\
                 content-length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (host, server)
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> String {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap().to_string()
}

fn plain_config(host: &str, token: &str, retry: Duration) -> TfeClientConfig {
    TfeClientConfig {
        hostname: format!("http://{host}"),
        token: token.into(),
        max_retry_time: retry,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_host_that_never_answered_is_given_up_on_early_naming_it() {
    let host = closed_port();
    // The whole retry budget is 5 minutes; a refused connection to a host that never answered gets 15 s.
    let started = std::time::Instant::now();
    let error = TfeClient::connect(plain_config(
        &host,
        "never-answered",
        TfeClientConfig::DEFAULT_MAX_RETRY_TIME,
    ))
    .await
    .expect_err("nothing listens there");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(10) && took <= Duration::from_secs(20),
        "gave up after {took:?}"
    );
    let TfeError::Unreachable {
        host: named,
        detail,
        attempts,
        ..
    } = &error
    else {
        panic!("expected Unreachable, got {error}");
    };
    assert_eq!(named, &host);
    assert!(detail.to_lowercase().contains("refused"), "{detail}");
    assert!(*attempts > 1, "retried meanwhile: {attempts}");
    let text = error.to_string();
    assert!(text.contains("name or port"), "{text}");
    assert!(
        !text.contains("error sending request"),
        "the root cause only: {text}"
    );
}

#[tokio::test]
async fn an_unknown_host_name_is_unreachable_too() {
    let error = TfeClient::connect(TfeClientConfig {
        hostname: "tfe.invalid".into(),
        token: "t".into(),
        max_retry_time: Duration::from_secs(2),
        ..Default::default()
    })
    .await
    .expect_err("the .invalid domain never resolves");
    assert!(
        matches!(&error, TfeError::Unreachable { host, .. } if host == "tfe.invalid"),
        "{error}"
    );
}

#[tokio::test]
async fn a_host_that_answered_before_keeps_its_whole_retry_budget() {
    let (host, server) = answering_then_gone().await;
    let token = "answered-before";
    let budget = Duration::from_secs(3);
    let client = TfeClient::connect(plain_config(&host, token, budget))
        .await
        .expect("it answers discovery and the ping");
    assert_eq!(client.rate_limit().0, 30.0, "the stated budget is spent");
    server.abort();
    let _ = server.await;
    let started = std::time::Instant::now();
    let error = client
        .workspace("ws-1")
        .await
        .expect_err("nothing listens now");
    let took = started.elapsed();
    // Retried for the whole budget (3 s here), not cut short as a wrong address: the same server
    // refusing connections after it answered is an outage that may pass.
    assert!(
        matches!(&error, TfeError::RetriesExhausted { source, .. } if matches!(**source, TfeError::Transport { .. })),
        "{error}"
    );
    assert!(took >= Duration::from_secs(2), "{took:?}");
    // A host that never answered, with the same budget, fails as unreachable.
    let error = TfeClient::connect(plain_config(&closed_port(), token, budget))
        .await
        .expect_err("nothing listens there");
    assert!(matches!(error, TfeError::Unreachable { .. }), "{error}");
}
