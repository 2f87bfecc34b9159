//! Typed errors of the TFE client. Every API error carries the server's detail text; every message reads
//! as a sentence (no Rust debug formatting), because it ends up in front of Terraform users.

use std::fmt;
use std::time::Duration;

/// An error from a TFE API call.
#[derive(Debug, thiserror::Error)]
pub enum TfeError {
    /// 401: the token is missing, invalid or expired.
    #[error("unauthorized (401): {detail}")]
    Unauthorized {
        /// The server's error messages (joined by `; `), or the status's reason phrase when it sent none.
        detail: String,
    },
    /// 403: the token may not do this.
    #[error("forbidden (403): {detail}")]
    Forbidden {
        /// The server's error messages (joined by `; `), or the status's reason phrase when it sent none.
        detail: String,
    },
    /// 404: no such object, or the token may not see it (TFE answers 404 rather than 403 then).
    #[error("not found (404): {detail}")]
    NotFound {
        /// The server's error messages (joined by `; `), or the status's reason phrase when it sent none.
        detail: String,
    },
    /// 409: the object is not in a state that allows this (a run not awaiting confirmation, a workspace already
    /// locked...).
    #[error("conflict (409): {detail}")]
    Conflict {
        /// The server's error messages (joined by `; `), or the status's reason phrase when it sent none.
        detail: String,
    },
    /// 422: the server refused the request body.
    #[error("unprocessable (422): {detail}")]
    Unprocessable {
        /// The server's error messages (joined by `; `), or the status's reason phrase when it sent none. A 422 usually names the attribute.
        detail: String,
    },
    /// `retry_after` is the pause the client honours: the server's, capped by the client's maximum pause.
    #[error("rate limited (429){}: {detail}", AskedToWait(*retry_after))]
    RateLimited {
        /// The pause before the next attempt, if the server asked for one.
        retry_after: Option<Duration>,
        /// The server's error messages (joined by `; `), or the status's reason phrase when it sent none.
        detail: String,
    },
    /// A 5xx answer.
    #[error("server error ({status}): {detail}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's error messages (joined by `; `), or the status's reason phrase when it sent none.
        detail: String,
    },
    /// Any other status the client does not expect.
    #[error("unexpected HTTP status {status}: {detail}")]
    UnexpectedStatus {
        /// The HTTP status.
        status: u16,
        /// The server's error messages (joined by `; `), or the status's reason phrase when it sent none.
        detail: String,
    },
    /// The request got no answer: connection refused or reset, DNS failure...
    #[error("transport error talking to {url}: {detail}")]
    Transport {
        /// The URL requested.
        url: String,
        /// What the HTTP stack said.
        detail: String,
    },
    /// No connection could be made to a host that has not answered once since the process started (the
    /// connection was refused, the name does not resolve, nothing listens): more waiting would not help, so
    /// the client gives up after a short budget instead of its whole retry time.
    #[error(
        "{host} does not answer: {detail} ({attempts} attempts in {}, and it never answered before: its name \
         or port is probably wrong)",
        Readable(*elapsed)
    )]
    Unreachable {
        /// `host` or `host:port`, as the URL names it.
        host: String,
        /// The root cause the network stack gave (connection refused, name not known...).
        detail: String,
        /// Attempts made, the first included.
        attempts: u32,
        /// Time from the first attempt to giving up.
        elapsed: Duration,
    },
    /// The TLS handshake failed (untrusted certificate, wrong name...): not retried.
    #[error("TLS error talking to {url}: {detail}")]
    Tls {
        /// The URL requested.
        url: String,
        /// What the TLS stack said.
        detail: String,
    },
    /// No answer within the client's `request_timeout`.
    #[error("request to {url} timed out after {}", Readable(*timeout))]
    Timeout {
        /// The URL requested.
        url: String,
        /// The limit that passed.
        timeout: Duration,
    },
    /// A request that creates something failed in a way that leaves its effect unknown (timeout, 5xx,
    /// connection lost after sending). It was not retried, because a retry could create a duplicate.
    #[error("outcome of {request} is unknown (not retried, it may have taken effect): {source}")]
    OutcomeUnknown {
        /// Method and path, e.g. `POST /api/v2/runs`.
        request: String,
        /// What went wrong.
        source: Box<TfeError>,
    },
    /// The retry budget of one request ran out; `source` is the last failure.
    #[error(
        "{request} failed {attempts} times in {}, giving up; last error: {source}",
        Readable(*elapsed)
    )]
    RetriesExhausted {
        /// Method and path, e.g. `GET /api/v2/runs/run-123`.
        request: String,
        /// Attempts made, the first included.
        attempts: u32,
        /// Time from the first attempt to giving up.
        elapsed: Duration,
        /// The last failure.
        source: Box<TfeError>,
    },
    /// The server sent more than the client is willing to buffer.
    #[error(
        "the response of {url} is larger than {} MiB; refusing to read it",
        limit / (1024 * 1024)
    )]
    BodyTooLarge {
        /// The URL requested.
        url: String,
        /// The most the client reads, in bytes.
        limit: u64,
    },
    /// The answer is not the JSON:API document expected.
    #[error("could not decode the response of {url}: {detail}")]
    Decode {
        /// The URL requested.
        url: String,
        /// What did not fit.
        detail: String,
    },
    /// `/.well-known/terraform.json` could not be read or names no usable API.
    #[error("service discovery at {url} failed: {detail}")]
    Discovery {
        /// The discovery URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The client cannot be built, or a request cannot be made, from what it was given (empty token, bad
    /// hostname or path...).
    #[error("invalid client configuration: {0}")]
    Config(String),
}

impl TfeError {
    /// True for errors that a later identical request may not hit: 429, 5xx, transport failures, timeouts.
    /// An exhausted retry budget is not: the client already spent the time it was given.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            TfeError::RateLimited { .. }
                | TfeError::Server { .. }
                | TfeError::Transport { .. }
                | TfeError::Timeout { .. }
        )
    }

    /// The API's detail text, when the error came from the API.
    pub fn detail(&self) -> Option<&str> {
        match self {
            TfeError::Unauthorized { detail }
            | TfeError::Forbidden { detail }
            | TfeError::NotFound { detail }
            | TfeError::Conflict { detail }
            | TfeError::Unprocessable { detail }
            | TfeError::RateLimited { detail, .. }
            | TfeError::Server { detail, .. }
            | TfeError::UnexpectedStatus { detail, .. } => Some(detail),
            TfeError::OutcomeUnknown { source, .. } | TfeError::RetriesExhausted { source, .. } => {
                source.detail()
            }
            _ => None,
        }
    }

    /// The HTTP status the error came with, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            TfeError::Unauthorized { .. } => Some(401),
            TfeError::Forbidden { .. } => Some(403),
            TfeError::NotFound { .. } => Some(404),
            TfeError::Conflict { .. } => Some(409),
            TfeError::Unprocessable { .. } => Some(422),
            TfeError::RateLimited { .. } => Some(429),
            TfeError::Server { status, .. } | TfeError::UnexpectedStatus { status, .. } => {
                Some(*status)
            }
            TfeError::OutcomeUnknown { source, .. } | TfeError::RetriesExhausted { source, .. } => {
                source.status()
            }
            _ => None,
        }
    }

    /// Whether the server said the object does not exist (404): a read that finds nothing, a delete of
    /// something already gone.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    // Only the HTTP client rewrites and builds errors from answers.
    #[cfg(feature = "http")]
    pub(crate) fn detail_mut(&mut self) -> Option<&mut String> {
        match self {
            TfeError::Unauthorized { detail }
            | TfeError::Forbidden { detail }
            | TfeError::NotFound { detail }
            | TfeError::Conflict { detail }
            | TfeError::Unprocessable { detail }
            | TfeError::RateLimited { detail, .. }
            | TfeError::Server { detail, .. }
            | TfeError::UnexpectedStatus { detail, .. } => Some(detail),
            _ => None,
        }
    }

    /// The last failure behind retry or outcome wrappers.
    pub fn last_error(&self) -> &TfeError {
        match self {
            TfeError::OutcomeUnknown { source, .. } | TfeError::RetriesExhausted { source, .. } => {
                source.last_error()
            }
            other => other,
        }
    }

    /// True when a run create failed because the workspace has no configuration version.
    pub fn is_configuration_version_missing(&self) -> bool {
        matches!(self, TfeError::Unprocessable { detail } if detail.to_lowercase().contains("configuration version is missing"))
    }

    #[cfg(feature = "http")]
    pub(crate) fn from_status(
        status: u16,
        detail: String,
        retry_after: Option<Duration>,
    ) -> TfeError {
        match status {
            401 => TfeError::Unauthorized { detail },
            403 => TfeError::Forbidden { detail },
            404 => TfeError::NotFound { detail },
            409 => TfeError::Conflict { detail },
            422 => TfeError::Unprocessable { detail },
            429 => TfeError::RateLimited {
                retry_after,
                detail,
            },
            500..=599 => TfeError::Server { status, detail },
            _ => TfeError::UnexpectedStatus { status, detail },
        }
    }
}

/// A duration as people write it: "250 ms", "1.5 s", "2 min 5 s", "1 h 30 min".
#[derive(Debug, Clone, Copy)]
pub struct Readable(pub Duration);

impl fmt::Display for Readable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        let secs = d.as_secs();
        if secs == 0 {
            return write!(f, "{} ms", d.as_millis());
        }
        if secs < 60 {
            let tenths = d.as_millis() / 100;
            return if tenths.is_multiple_of(10) {
                write!(f, "{secs} s")
            } else {
                write!(f, "{}.{} s", tenths / 10, tenths % 10)
            };
        }
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        match (h, m, s) {
            (0, m, 0) => write!(f, "{m} min"),
            (0, m, s) => write!(f, "{m} min {s} s"),
            (h, 0, _) => write!(f, "{h} h"),
            (h, m, _) => write!(f, "{h} h {m} min"),
        }
    }
}

/// "; the server asked to wait 1.5 s", or nothing when it did not say.
struct AskedToWait(Option<Duration>);

impl fmt::Display for AskedToWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(f, "; the server asked to wait {}", Readable(d)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_prose() {
        let cases = [
            (Duration::from_millis(250), "250 ms"),
            (Duration::from_millis(1500), "1.5 s"),
            (Duration::from_secs(30), "30 s"),
            (Duration::from_secs(60), "1 min"),
            (Duration::from_secs(125), "2 min 5 s"),
            (Duration::from_secs(5400), "1 h 30 min"),
            (Duration::MAX, "5124095576030431 h"),
        ];
        for (d, want) in cases {
            assert_eq!(Readable(d).to_string(), want);
        }
    }

    #[test]
    fn no_message_shows_debug_formatting() {
        let limited = TfeError::RateLimited {
            retry_after: Some(Duration::from_millis(1500)),
            detail: "You have exceeded the API's rate limit.".into(),
        };
        assert_eq!(
            limited.to_string(),
            "rate limited (429); the server asked to wait 1.5 s: You have exceeded the API's rate limit."
        );
        let silent = TfeError::RateLimited {
            retry_after: None,
            detail: "slow down".into(),
        };
        assert_eq!(silent.to_string(), "rate limited (429): slow down");
        let timeout = TfeError::Timeout {
            url: "https://tfe.example/api/v2/runs/run-1".into(),
            timeout: Duration::from_secs(30),
        };
        assert_eq!(
            timeout.to_string(),
            "request to https://tfe.example/api/v2/runs/run-1 timed out after 30 s"
        );
        let exhausted = TfeError::RetriesExhausted {
            request: "GET /api/v2/runs/run-1".into(),
            attempts: 12,
            elapsed: Duration::from_secs(300),
            source: Box::new(TfeError::Server {
                status: 503,
                detail: "service unavailable".into(),
            }),
        };
        assert_eq!(
            exhausted.to_string(),
            "GET /api/v2/runs/run-1 failed 12 times in 5 min, giving up; last error: server error (503): service unavailable"
        );
        assert_eq!(exhausted.status(), Some(503));
        assert!(!exhausted.is_retryable());
        assert!(matches!(
            exhausted.last_error(),
            TfeError::Server { status: 503, .. }
        ));
        let large = TfeError::BodyTooLarge {
            url: "https://tfe.example/api/v2/runs".into(),
            limit: 32 * 1024 * 1024,
        };
        assert!(large.to_string().contains("larger than 32 MiB"), "{large}");
        let unreachable = TfeError::Unreachable {
            host: "127.0.0.1:1".into(),
            detail: "Connection refused (os error 111)".into(),
            attempts: 6,
            elapsed: Duration::from_millis(14_200),
        };
        assert_eq!(
            unreachable.to_string(),
            "127.0.0.1:1 does not answer: Connection refused (os error 111) (6 attempts in 14.2 s, and it \
             never answered before: its name or port is probably wrong)"
        );
        assert!(!unreachable.is_retryable(), "the budget for it is spent");
        for e in [limited, silent, timeout, exhausted, large, unreachable] {
            let text = e.to_string();
            assert!(
                !text.contains("Some(") && !text.contains("None") && !text.contains("{"),
                "{text}"
            );
        }
    }
}
