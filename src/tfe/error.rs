//! Typed errors of the TFE client. Every API error carries the server's detail text.

use std::time::Duration;

/// An error from a TFE API call.
#[derive(Debug, thiserror::Error)]
pub enum TfeError {
    #[error("unauthorized (401): {detail}")]
    Unauthorized { detail: String },
    #[error("forbidden (403): {detail}")]
    Forbidden { detail: String },
    #[error("not found (404): {detail}")]
    NotFound { detail: String },
    #[error("conflict (409): {detail}")]
    Conflict { detail: String },
    #[error("unprocessable (422): {detail}")]
    Unprocessable { detail: String },
    #[error("rate limited (429), retry after {retry_after:?}: {detail}")]
    RateLimited {
        retry_after: Option<Duration>,
        detail: String,
    },
    #[error("server error ({status}): {detail}")]
    Server { status: u16, detail: String },
    #[error("unexpected HTTP status {status}: {detail}")]
    UnexpectedStatus { status: u16, detail: String },
    #[error("transport error talking to {url}: {detail}")]
    Transport { url: String, detail: String },
    #[error("request to {url} timed out after {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    /// A request that creates something failed in a way that leaves its effect unknown (timeout, 5xx,
    /// connection lost after sending). It was not retried, because a retry could create a duplicate.
    #[error("outcome of {request} is unknown (not retried, it may have taken effect): {source}")]
    OutcomeUnknown {
        request: String,
        source: Box<TfeError>,
    },
    #[error("could not decode the response of {url}: {detail}")]
    Decode { url: String, detail: String },
    #[error("service discovery at {url} failed: {detail}")]
    Discovery { url: String, detail: String },
    #[error("invalid client configuration: {0}")]
    Config(String),
}

impl TfeError {
    /// True for errors that a later identical request may not hit: 429, 5xx, transport failures, timeouts.
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
            TfeError::OutcomeUnknown { source, .. } => source.detail(),
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
            TfeError::OutcomeUnknown { source, .. } => source.status(),
            _ => None,
        }
    }

    /// True when a run create failed because the workspace has no configuration version.
    pub fn is_configuration_version_missing(&self) -> bool {
        matches!(self, TfeError::Unprocessable { detail } if detail.to_lowercase().contains("configuration version is missing"))
    }

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
