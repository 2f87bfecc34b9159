//! The one way a TFE API error becomes words for Terraform: the client's message, plus a hint for the
//! statuses a user can act on. Every resource, the data source, the run lifecycle and the client's connect
//! step go through [`explain`], so the same refusal reads the same wherever it happens.

use tfe_client::TfeError;
use tfplugin::Diagnostics;

/// The error with a hint for the statuses a user can do something about.
pub(crate) fn explain(error: &TfeError) -> String {
    format!("{error}{}", hint(error))
}

/// What to check, for the statuses a user can do something about; empty for the others.
pub(crate) fn hint(error: &TfeError) -> &'static str {
    if let TfeError::Unreachable { .. } = error.last_error() {
        return ". Check the provider's `hostname` argument, or TFE_HOSTNAME when it is not set: the name \
                must resolve, and the port (443 unless written as host:port) must accept HTTPS.";
    }
    match error.status() {
        Some(401) => " (the API token was refused: check the provider's token)",
        Some(403) => " (the token is not allowed to do this: check its team's permissions)",
        Some(404) => " (it does not exist, or the token cannot see it)",
        _ => "",
    }
}

/// An API error as one error diagnostic: `summary` says what failed, the detail is [`explain`]'s.
pub(crate) fn api_error(summary: impl Into<String>, error: &TfeError) -> Diagnostics {
    Diagnostics::from_error(summary, explain(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_token_reads_the_same_from_every_caller() {
        let refused = TfeError::Unauthorized {
            detail: "invalid token".into(),
        };
        let text = explain(&refused);
        assert!(text.starts_with(&refused.to_string()), "{text}");
        assert!(text.ends_with("(the API token was refused: check the provider's token)"));
        let diags = api_error("Reading workspace failed", &refused);
        assert_eq!(diags.0[0].detail, text);
        let server = TfeError::Server {
            status: 502,
            detail: "bad gateway".into(),
        };
        assert_eq!(explain(&server), server.to_string(), "no hint to give");
        let unreachable = TfeError::Unreachable {
            host: "127.0.0.1:1".into(),
            detail: "Connection refused (os error 111)".into(),
            attempts: 6,
            elapsed: std::time::Duration::from_secs(14),
        };
        let text = explain(&unreachable);
        for what in ["127.0.0.1:1", "`hostname`", "TFE_HOSTNAME", "port"] {
            assert!(text.contains(what), "{what} in {text}");
        }
    }
}
