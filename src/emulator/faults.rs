//! Fault injection: rules matched against each TFE API request.

use serde::{Deserialize, Serialize};

/// What a matching rule does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Leftover keys reach this enum through `flatten`, so an unknown field in a rule is refused here.
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    /// Answer 429 with `Retry-After` and `X-RateLimit-Reset` set to `reset_seconds`.
    RateLimit {
        #[serde(default = "default_reset")]
        reset_seconds: f64,
    },
    /// Answer with this 5xx status. `when: before` skips the handler; `after` runs it first (the state
    /// change happens) and then replaces its answer.
    Status {
        status: u16,
        #[serde(default)]
        when: When,
    },
    /// Break the connection instead of answering (the handler does not run).
    Reset,
    /// Wait this long before handling the request.
    Delay { ms: u64 },
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
        match self.kind {
            FaultKind::Status { status, .. } if !(400..=599).contains(&status) => {
                return Err(format!(
                    "fault status {status} is not an error status (allowed: 400-599)"
                ));
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
pub fn glob_match(pattern: &str, text: &str) -> bool {
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
            kind: FaultKind::RateLimit { reset_seconds: 1.0 },
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
