//! The transport: one logical request sent under the one retry policy (the shared rate limiter, backoff,
//! the server's pauses, never repeating a create whose outcome is unknown), discovery, and what a transport
//! failure says.

use super::*;

/// The pause after a 429 that names none, and the least pause after any 429 (as go-tfe).
pub(super) const DEFAULT_RATE_LIMIT_PAUSE: Duration = Duration::from_secs(1);
pub(super) const MIN_RATE_LIMIT_PAUSE: Duration = Duration::from_millis(100);
/// The retry budget for connecting to a host that has never answered: a refused connection or an unknown
/// name there is most likely a wrong address, which waiting does not fix.
pub(super) const UNREACHABLE_BUDGET: Duration = Duration::from_secs(15);

/// Sending with the one retry policy: the HTTP pool, the shared bucket and the limits.
pub(super) struct Wire {
    pub(super) http: reqwest::Client,
    pub(super) limiter: Arc<RateLimiter>,
    pub(super) config: TfeClientConfig,
}

/// Whether a request may be repeated after an unclear failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Retry {
    /// GET/PATCH/DELETE and similar: retry 429, 5xx and transport failures.
    Idempotent,
    /// Creates and actions: retry only when the server certainly did nothing (429, connect failure).
    Unsafe,
}

pub(super) struct RawResponse {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: bytes::Bytes,
}

/// What a request sends.
#[derive(Clone, Copy)]
pub(super) enum Payload<'a> {
    None,
    Json(&'a Value),
    /// The configuration upload.
    Octets(&'a bytes::Bytes),
}

/// One logical request, sent as often as the retry policy allows.
pub(super) struct Call<'a> {
    pub(super) method: Method,
    pub(super) url: Url,
    pub(super) payload: Payload<'a>,
    pub(super) retry: Retry,
    pub(super) accept: &'static str,
    /// The bearer token goes to the API only (not to discovery or the upload URL).
    pub(super) auth: bool,
    /// The ping: a non-2xx answer that is not retried is still an answer (its headers matter).
    pub(super) any_status: bool,
}

impl Call<'_> {
    pub(super) fn api(method: Method, url: Url, payload: Payload<'_>, retry: Retry) -> Call<'_> {
        Call {
            method,
            url,
            payload,
            retry,
            accept: JSONAPI,
            auth: true,
            any_status: false,
        }
    }

    pub(super) fn describe(&self) -> String {
        format!("{} {}", self.method, self.url.path())
    }
}

impl Wire {
    /// `/.well-known/terraform.json`, retried like any read; every failure is a `Discovery` error but an
    /// unreachable host, which is no discovery problem.
    pub(super) async fn discover(&self, url: &Url) -> Result<Url, TfeError> {
        let fail = |detail: String| TfeError::Discovery {
            url: url.to_string(),
            detail,
        };
        let response = self
            .execute(Call {
                accept: "application/json",
                auth: false,
                ..Call::api(Method::GET, url.clone(), Payload::None, Retry::Idempotent)
            })
            .await
            .map_err(|e| match e {
                TfeError::Unreachable { .. } => e,
                other => fail(other.to_string()),
            })?;
        response::api_base_from_discovery(url, &response.body).map_err(fail)
    }

    /// The one retry loop. Every request goes through it: 429s (any method) and, for idempotent requests,
    /// 5xx, timeouts and broken connections are retried until the time budget is spent, honouring the
    /// server's pause headers up to the configured cap. Creates and actions are only repeated when the
    /// server certainly did nothing (429, connect failure). A host that never answered gets
    /// [`UNREACHABLE_BUDGET`] for its connect failures, then an `Unreachable` error.
    pub(super) async fn execute(&self, call: Call<'_>) -> Result<RawResponse, TfeError> {
        let config = &self.config;
        let started = tokio::time::Instant::now();
        let mut attempts: u32 = 0;
        loop {
            attempts = attempts.saturating_add(1);
            let (mut error, headers) = match self.send_once(&call).await {
                Ok(raw) => {
                    let status = raw.status.as_u16();
                    match response::status_error(status, &raw.headers, &raw.body, SystemTime::now())
                    {
                        None => return Ok(raw),
                        Some(e) if call.any_status && !may_retry(&e, call.retry) => return Ok(raw),
                        Some(e) => (e, Some(raw.headers)),
                    }
                }
                Err(e) => (e, None),
            };
            redact(&mut error, &config.token);
            let pause = retry_pause(
                &mut error,
                headers.as_ref(),
                attempts,
                config.max_server_pause,
                &call.describe(),
            );
            let elapsed = started.elapsed();
            let retrying = may_retry(&error, call.retry);
            let unreachable = is_connect_failure(&error) && !self.limiter.has_answered();
            let budget = if unreachable {
                config.max_retry_time.min(UNREACHABLE_BUDGET)
            } else {
                config.max_retry_time
            };
            if retrying && elapsed.saturating_add(pause) <= budget {
                if matches!(error, TfeError::RateLimited { .. }) {
                    // Everyone sharing the bucket waits, not just this request.
                    self.limiter.pause_for(pause);
                }
                tracing::debug!(request = %call.describe(), attempts, delay_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX), error = %error, "retrying TFE request");
                tokio::time::sleep(pause).await;
                continue;
            }
            if unreachable {
                return Err(unreachable_error(error, &call.url, attempts, elapsed));
            }
            return Err(give_up(error, &call, attempts, elapsed, retrying));
        }
    }

    /// One HTTP exchange after taking a token from the shared bucket; what the answer says of the budget
    /// goes back to the bucket.
    pub(super) async fn send_once(&self, call: &Call<'_>) -> Result<RawResponse, TfeError> {
        let ticket = self.limiter.acquire().await;
        let url = &call.url;
        let mut request = self
            .http
            .request(call.method.clone(), url.clone())
            .header("accept", call.accept);
        if call.auth {
            request = request.bearer_auth(&self.config.token);
        }
        match call.payload {
            Payload::None if call.method == Method::GET => {}
            Payload::None => {
                request = request.header("content-type", HeaderValue::from_static(JSONAPI));
            }
            Payload::Json(body) => {
                request = request
                    .header("content-type", HeaderValue::from_static(JSONAPI))
                    .body(body.to_string());
            }
            Payload::Octets(bytes) => {
                request = request
                    .header("content-type", "application/octet-stream")
                    .body(bytes.clone());
            }
        }
        let timeout = self.config.request_timeout;
        let mut response = request
            .send()
            .await
            .map_err(|e| transport_error(url, e, timeout))?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        self.limiter.observe(
            ticket,
            response::server_budget(&headers, SystemTime::now(), self.config.max_server_pause),
        );
        let too_large = || TfeError::BodyTooLarge {
            url: format!("{}{}", url.origin().ascii_serialization(), url.path()),
            limit: MAX_BODY_BYTES,
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES)
        {
            return Err(too_large());
        }
        // Read chunk by chunk so a body without (or with a lying) Content-Length is still bounded.
        let mut body = Vec::with_capacity(
            usize::try_from(response.content_length().unwrap_or(0).min(1 << 20)).unwrap_or(0),
        );
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(url, e, timeout))?
        {
            if (body.len() as u64).saturating_add(chunk.len() as u64) > MAX_BODY_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RawResponse {
            status,
            headers,
            body: bytes::Bytes::from(body),
        })
    }
}

/// A connection that could not be made (refused, unknown name, no route, connect timeout): the server
/// certainly saw nothing.
pub(super) fn is_connect_failure(error: &TfeError) -> bool {
    matches!(error, TfeError::Transport { detail, .. } if detail.starts_with(CONNECT_PREFIX))
}

/// The error for a host that never answered: its name and the root cause, not the whole chain.
pub(super) fn unreachable_error(
    error: TfeError,
    url: &Url,
    attempts: u32,
    elapsed: Duration,
) -> TfeError {
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => url.origin().ascii_serialization(),
    };
    let detail = match error {
        TfeError::Transport { detail, .. } => {
            // The last two links ("tcp connect error: Connection refused (os error 111)", "failed to
            // lookup address information: Name or service not known"), without the HTTP stack's wrappers.
            let chain = detail.strip_prefix(CONNECT_PREFIX).unwrap_or(&detail);
            let links: Vec<&str> = chain
                .split(": ")
                .filter(|l| {
                    !l.starts_with("error sending request") && !l.starts_with("client error")
                })
                .collect();
            let root = links[links.len().saturating_sub(2)..].join(": ");
            if root.is_empty() {
                chain.to_string()
            } else {
                root
            }
        }
        other => other.to_string(),
    };
    TfeError::Unreachable {
        host,
        detail,
        attempts,
        elapsed,
    }
}

/// Whether the policy repeats a request after this error.
pub(super) fn may_retry(error: &TfeError, retry: Retry) -> bool {
    match error {
        TfeError::RateLimited { .. } => true,
        _ if is_connect_failure(error) => true,
        TfeError::Server { .. } | TfeError::Timeout { .. } | TfeError::Transport { .. } => {
            retry == Retry::Idempotent
        }
        _ => false,
    }
}

/// How long to wait before the next attempt. The server's pause (capped; the cap is logged) wins over the
/// backoff when it is longer; a 429's error is updated to carry the pause actually honoured.
pub(super) fn retry_pause(
    error: &mut TfeError,
    headers: Option<&HeaderMap>,
    attempts: u32,
    max_server_pause: Duration,
    request: &str,
) -> Duration {
    let asked = headers.and_then(|h| response::server_pause(h, SystemTime::now()));
    let honoured = asked.map(|asked| {
        if asked > max_server_pause {
            tracing::warn!(
                request,
                asked = %Readable(asked),
                cap = %Readable(max_server_pause),
                "the server asked for a longer pause than allowed; waiting the maximum instead"
            );
            max_server_pause
        } else {
            asked
        }
    });
    match error {
        TfeError::RateLimited { retry_after, .. } => {
            *retry_after = honoured;
            honoured
                .unwrap_or(DEFAULT_RATE_LIMIT_PAUSE)
                .max(MIN_RATE_LIMIT_PAUSE)
                + jitter(300)
        }
        _ => backoff(attempts.saturating_sub(1)).max(honoured.unwrap_or_default()),
    }
}

/// The error the caller sees once the policy stops.
pub(super) fn give_up(
    error: TfeError,
    call: &Call<'_>,
    attempts: u32,
    elapsed: Duration,
    out_of_time: bool,
) -> TfeError {
    let connect_failed = is_connect_failure(&error);
    let maybe_acted = matches!(
        error,
        TfeError::Server { .. }
            | TfeError::Timeout { .. }
            | TfeError::Transport { .. }
            | TfeError::BodyTooLarge { .. }
    ) && !connect_failed;
    if call.retry == Retry::Unsafe && maybe_acted {
        TfeError::OutcomeUnknown {
            request: call.describe(),
            source: Box::new(error),
        }
    } else if out_of_time && attempts > 1 {
        TfeError::RetriesExhausted {
            request: call.describe(),
            attempts,
            elapsed,
            source: Box::new(error),
        }
    } else {
        error
    }
}

/// A hostile or buggy server could echo the token back in its error text.
pub(super) fn redact(error: &mut TfeError, token: &str) {
    if token.is_empty() {
        return;
    }
    if let Some(detail) = error.detail_mut()
        && detail.contains(token)
    {
        *detail = detail.replace(token, "<redacted>");
    }
}

pub(super) const CONNECT_PREFIX: &str = "connect: ";

pub(super) fn transport_error(url: &Url, e: reqwest::Error, timeout: Duration) -> TfeError {
    let url = format!("{}{}", url.origin().ascii_serialization(), url.path());
    if e.is_connect() && e.is_timeout() {
        // Nothing was sent: a connect failure, not a request that may have acted.
        TfeError::Transport {
            url,
            detail: format!("{CONNECT_PREFIX}{}", error_chain(&e)),
        }
    } else if e.is_timeout() {
        TfeError::Timeout { url, timeout }
    } else if is_tls_failure(&e) {
        // A certificate problem does not go away by asking again.
        TfeError::Tls {
            url,
            detail: error_chain(&e),
        }
    } else if e.is_connect() {
        TfeError::Transport {
            url,
            detail: format!("{CONNECT_PREFIX}{}", error_chain(&e)),
        }
    } else {
        TfeError::Transport {
            url,
            detail: error_chain(&e),
        }
    }
}

/// True when a rustls error is somewhere in the chain (io::Error hides its payload from `source()`).
pub(super) fn is_tls_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if err.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && is_tls_failure(inner)
        {
            return true;
        }
        current = err.source();
    }
    false
}

pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Exponential backoff with full jitter: up to 250 ms * 2^attempt, capped at 8 s.
pub(super) fn backoff(attempt: u32) -> Duration {
    let cap = 250u64.saturating_mul(1u64 << attempt.min(5)).min(8_000);
    Duration::from_millis(cap / 2) + jitter(cap / 2)
}

pub(super) fn jitter(max_ms: u64) -> Duration {
    Duration::from_millis(rand::rng().random_range(0..=max_ms))
}
