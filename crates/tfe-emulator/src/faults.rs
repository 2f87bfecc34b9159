//! Fault injection: rules matched against each TFE API request.

use serde::{Deserialize, Serialize};

/// What a matching rule does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Leftover keys reach this enum through `flatten`, so an unknown field in a rule is refused here.
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    /// Answer 429. Without `retry_after`/`reset`, both `Retry-After` and `X-RateLimit-Reset` are
    /// `reset_seconds`; with either, exactly the given raw values are sent, verbatim (to test clients
    /// against broken headers).
    RateLimit {
        #[serde(default = "default_reset")]
        reset_seconds: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<RawHeader>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reset: Option<RawHeader>,
    },
    /// Answer with this 5xx status. `when: before` skips the handler; `after` runs it first (the state
    /// change happens) and then replaces its answer.
    Status {
        status: u16,
        #[serde(default)]
        when: When,
    },
    /// Break the connection instead of answering. `before`: the handler does not run; `after`: it runs
    /// (and commits) first.
    Reset {
        #[serde(default)]
        when: When,
    },
    /// Wait this long before handling the request.
    Delay { ms: u64 },
    /// No answer at all: the connection stays open until the client gives up; the handler runs `ms`
    /// later on its own, so the change lands after the client stopped waiting.
    LateCommit { ms: u64 },
    /// The handler runs and its status stays, but the body is replaced by something a client cannot use.
    MalformedBody {
        #[serde(default)]
        body: Malformed,
    },
    /// A 200 with a body of `bytes` bytes, streamed (never held in memory). `chunked: true` leaves out
    /// the Content-Length header. The handler does not run.
    HugeBody {
        bytes: u64,
        #[serde(default)]
        chunked: bool,
    },
}

/// A header value sent verbatim: a string (its UTF-8 bytes) or a list of bytes, for values that are
/// not valid UTF-8, e.g. `[255, 254]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RawHeader {
    Text(String),
    Bytes(Vec<u8>),
}

impl RawHeader {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            RawHeader::Text(t) => t.as_bytes(),
            RawHeader::Bytes(b) => b,
        }
    }
}

/// What `malformed_body` sends instead of the real body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Malformed {
    /// Text that is not JSON (an HTML error page, cut short).
    #[default]
    NotJson,
    /// Valid JSON of the wrong shape (`data` is a number, `meta.pagination` a string).
    WrongShape,
}

fn default_reset() -> f64 {
    1.0
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    #[default]
    Before,
    After,
}

/// One rule. `path` is a glob (`*` matches anything, including `/`) tested against the request path;
/// `method` is optional. `every_n` fires on every Nth match; `times` limits how often it fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    #[serde(default)]
    pub id: u64,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default = "any_path")]
    pub path: String,
    #[serde(flatten)]
    pub kind: FaultKind,
    #[serde(default)]
    pub every_n: Option<u64>,
    #[serde(default)]
    pub times: Option<u64>,
    /// Matches seen and faults fired so far (read-only in the admin API).
    #[serde(default)]
    pub matched: u64,
    #[serde(default)]
    pub fired: u64,
}

fn any_path() -> String {
    "*".into()
}

impl FaultRule {
    pub fn validate(&self) -> Result<(), String> {
        match &self.kind {
            FaultKind::Status { status, .. } if !(400..=599).contains(status) => {
                return Err(format!(
                    "fault status {status} is not an error status (allowed: 400-599)"
                ));
            }
            FaultKind::RateLimit {
                retry_after, reset, ..
            } => {
                for (name, value) in [("retry_after", retry_after), ("reset", reset)] {
                    if let Some(v) = value
                        && axum::http::HeaderValue::from_bytes(v.as_bytes()).is_err()
                    {
                        return Err(format!(
                            "{name} cannot be sent as a header value (no CR, LF, NUL or other control bytes)"
                        ));
                    }
                }
            }
            _ => {}
        }
        if self.every_n == Some(0) {
            return Err("every_n must be at least 1".into());
        }
        Ok(())
    }

    /// Counts the request and says whether the rule fires for it.
    fn check(&mut self, method: &str, path: &str) -> bool {
        if self
            .method
            .as_deref()
            .is_some_and(|m| !m.eq_ignore_ascii_case(method))
            || !glob_match(&self.path, path)
        {
            return false;
        }
        if self.times.is_some_and(|t| self.fired >= t) {
            return false;
        }
        self.matched += 1;
        if self
            .every_n
            .is_some_and(|n| !self.matched.is_multiple_of(n))
        {
            return false;
        }
        self.fired += 1;
        true
    }
}

/// The active rules.
#[derive(Debug, Default)]
pub struct Faults {
    pub rules: Vec<FaultRule>,
    next_id: u64,
}

impl Faults {
    pub fn add(&mut self, mut rule: FaultRule) -> Result<u64, String> {
        rule.validate()?;
        self.next_id += 1;
        rule.id = self.next_id;
        rule.matched = 0;
        rule.fired = 0;
        self.rules.push(rule);
        Ok(self.next_id)
    }

    /// The faults that fire for a request, in rule order.
    pub fn fire(&mut self, method: &str, path: &str) -> Vec<FaultKind> {
        self.rules
            .iter_mut()
            .filter_map(|r| r.check(method, path).then(|| r.kind.clone()))
            .collect()
    }
}

/// `*` matches any run of characters; everything else matches itself.
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(pos) = rest.find(part) else {
                return false;
            };
            rest = &rest[pos + part.len()..];
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unknown_field_in_a_rule_is_refused() {
        let ok: Result<super::FaultRule, _> = serde_json::from_str(
            r#"{"path": "/api/v2/runs/*", "kind": "status", "status": 503, "times": 1}"#,
        );
        assert!(ok.is_ok(), "{ok:?}");
        let typo: Result<super::FaultRule, _> = serde_json::from_str(
            r#"{"path": "/api/v2/runs/*", "kind": "status", "status": 503, "timess": 1}"#,
        );
        let error = typo.unwrap_err().to_string();
        assert!(error.contains("timess"), "{error}");
    }

    use super::*;

    fn rule(json: &str) -> Result<FaultRule, String> {
        let rule: FaultRule = serde_json::from_str(json).map_err(|e| e.to_string())?;
        rule.validate()?;
        Ok(rule)
    }

    #[test]
    fn new_fault_kinds_parse_with_their_defaults() {
        let raw =
            rule(r#"{"kind": "rate_limit", "retry_after": "1e20", "reset": [255, 254]}"#).unwrap();
        assert_eq!(
            raw.kind,
            FaultKind::RateLimit {
                reset_seconds: 1.0,
                retry_after: Some(RawHeader::Text("1e20".into())),
                reset: Some(RawHeader::Bytes(vec![255, 254])),
            }
        );
        let bad = rule(r#"{"kind": "rate_limit", "retry_after": "1\r\nx: y"}"#).unwrap_err();
        assert!(bad.contains("retry_after"), "{bad}");
        assert_eq!(
            rule(r#"{"kind": "reset"}"#).unwrap().kind,
            FaultKind::Reset { when: When::Before }
        );
        assert_eq!(
            rule(r#"{"kind": "reset", "when": "after"}"#).unwrap().kind,
            FaultKind::Reset { when: When::After }
        );
        assert_eq!(
            rule(r#"{"kind": "late_commit", "ms": 300}"#).unwrap().kind,
            FaultKind::LateCommit { ms: 300 }
        );
        assert_eq!(
            rule(r#"{"kind": "malformed_body"}"#).unwrap().kind,
            FaultKind::MalformedBody {
                body: Malformed::NotJson
            }
        );
        assert_eq!(
            rule(r#"{"kind": "malformed_body", "body": "wrong_shape"}"#)
                .unwrap()
                .kind,
            FaultKind::MalformedBody {
                body: Malformed::WrongShape
            }
        );
        assert_eq!(
            rule(r#"{"kind": "huge_body", "bytes": 1000}"#)
                .unwrap()
                .kind,
            FaultKind::HugeBody {
                bytes: 1000,
                chunked: false
            }
        );
        assert!(
            rule(r#"{"kind": "huge_body"}"#).is_err(),
            "bytes is required"
        );
    }

    #[test]
    fn glob_matches_wildcards() {
        assert!(glob_match("*", "/api/v2/runs"));
        assert!(glob_match("/api/v2/runs", "/api/v2/runs"));
        assert!(!glob_match("/api/v2/runs", "/api/v2/runs/x"));
        assert!(glob_match(
            "/api/v2/runs/*/actions/*",
            "/api/v2/runs/run-1/actions/apply"
        ));
        assert!(!glob_match(
            "/api/v2/runs/*/actions/*",
            "/api/v2/workspaces/ws-1"
        ));
    }

    #[test]
    fn every_n_and_times_limit_firing() {
        let mut faults = Faults::default();
        let rule = FaultRule {
            id: 0,
            method: Some("GET".into()),
            path: "*".into(),
            kind: FaultKind::RateLimit {
                reset_seconds: 1.0,
                retry_after: None,
                reset: None,
            },
            every_n: Some(2),
            times: Some(2),
            matched: 0,
            fired: 0,
        };
        faults.add(rule).unwrap();
        let fired: Vec<bool> = (0..6)
            .map(|_| !faults.fire("GET", "/x").is_empty())
            .collect();
        assert_eq!(fired, vec![false, true, false, true, false, false]);
        assert!(faults.fire("POST", "/x").is_empty());
    }
}
