//! Why a run failed, from its own log: the errored phase's `log-read-url` (plan, else apply) is read,
//! and the diagnostic gets the `Error:` summary line and the last lines of the log. When the API
//! gives no log URL this says nothing; when reading the log fails it says so.

use std::time::Duration;

use tfe_client::models::PhaseStatus;
use tfe_client::{RunLog, TfeClient, TfeError};

use super::lifecycle::{FailureReason, RunFailure};
use super::messages;
use crate::provider::api_errors::explain;

/// How many lines of the log the diagnostic shows.
pub(super) const TAIL_LINES: usize = 20;
/// The whole look-up (run, phase, log) is given up after this: a failure is reported either way.
const READ_LIMIT: Duration = Duration::from_secs(15);

/// What the log of a failed run says, ready to append to the failure's detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LogExcerpt {
    /// The phase whose log this is: "plan" or "apply".
    pub phase: &'static str,
    /// The `Error:` summary line, without the box drawing around it.
    pub error: Option<String>,
    /// The last [`TAIL_LINES`] lines, without colour codes.
    pub tail: String,
}

impl LogExcerpt {
    pub(super) fn from_log(phase: &'static str, log: &RunLog) -> LogExcerpt {
        let text = strip_ansi(&log.text);
        let error = text.lines().rev().find_map(|line| {
            let line = line.trim_start_matches(['│', '╷', ' ']).trim_end();
            line.strip_prefix("Error: ")
                .map(|summary| summary.trim().to_string())
        });
        let tail = RunLog {
            text,
            complete: log.complete,
        }
        .tail(TAIL_LINES)
        .to_string();
        LogExcerpt { phase, error, tail }
    }

    /// The text appended to the failure's detail.
    pub(super) fn render(&self) -> String {
        let mut text = String::new();
        if let Some(error) = &self.error {
            text.push_str(&messages::log_error(self.phase, error));
        }
        text.push_str(&messages::log_tail(self.phase, &indent(&self.tail)));
        text
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Removes ANSI escape sequences (the colours Terraform writes into run logs).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The log URL of the phase that failed: the plan's if it errored (or never finished), else the apply's.
async fn failed_phase_log_url(
    client: &TfeClient,
    run_id: &str,
) -> Result<Option<(&'static str, String)>, TfeError> {
    let run = client.run(run_id).await?;
    let mut last = None;
    if let Some(plan_id) = run.plan_id() {
        let plan = client.plan(plan_id).await?;
        let url = plan.attributes.log_read_url.filter(|u| !u.is_empty());
        if plan.attributes.status != PhaseStatus::Finished {
            return Ok(url.map(|u| ("plan", u)));
        }
        last = url.map(|u| ("plan", u));
    }
    if let Some(apply_id) = run.apply_id() {
        let apply = client.apply(apply_id).await?;
        let started = !matches!(
            apply.attributes.status,
            PhaseStatus::Pending | PhaseStatus::Unreachable | PhaseStatus::Created
        );
        if started && let Some(url) = apply.attributes.log_read_url.filter(|u| !u.is_empty()) {
            last = Some(("apply", url));
        }
    }
    Ok(last)
}

/// What to append to the detail of `run_id`'s failure: the log excerpt, a note that the log could
/// not be read, or nothing when the API gives no log URL.
pub(super) async fn failure_log_text(client: &TfeClient, run_id: &str) -> String {
    let work = async {
        let Some((phase, url)) = failed_phase_log_url(client, run_id).await? else {
            return Ok(None);
        };
        let log = client.read_log(&url).await?;
        Ok::<_, TfeError>(Some(LogExcerpt::from_log(phase, &log)))
    };
    match tokio::time::timeout(READ_LIMIT, work).await {
        Ok(Ok(Some(excerpt))) => excerpt.render(),
        Ok(Ok(None)) => String::new(),
        Ok(Err(e)) => messages::log_unreadable(&explain(&e)),
        Err(_) => messages::log_too_slow(READ_LIMIT),
    }
}

/// Appends what the run's log says to a failure whose run ended (errored, canceled...).
pub(super) async fn add_log_to(client: &TfeClient, failure: &mut RunFailure) {
    if let (FailureReason::RunEnded { .. }, Some(run_id)) = (&failure.reason, &failure.run_id) {
        let text = failure_log_text(client, run_id).await;
        failure.message.push_str(&text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_summary_and_the_tail_come_from_the_log() {
        let mut text = String::from("Terraform v1.9.0\n");
        for i in 0..30 {
            text.push_str(&format!("line {i}\n"));
        }
        text.push_str("\u{1b}[31m╷\u{1b}[0m\n\u{1b}[31m│\u{1b}[0m \u{1b}[1m\u{1b}[31mError: \u{1b}[0mInvalid provider configuration\n│ \n│ more detail\n╵\n");
        let log = RunLog {
            text,
            complete: true,
        };
        let excerpt = LogExcerpt::from_log("plan", &log);
        assert_eq!(
            excerpt.error.as_deref(),
            Some("Invalid provider configuration")
        );
        assert_eq!(excerpt.tail.lines().count(), TAIL_LINES);
        assert!(excerpt.tail.ends_with("╵"), "{}", excerpt.tail);
        assert!(!excerpt.tail.contains('\u{1b}'));
        let rendered = excerpt.render();
        assert!(rendered.contains("Error in the plan: Invalid provider configuration"));
        assert!(rendered.contains("Last lines of the plan log:\n  line "));
    }

    #[test]
    fn a_log_without_an_error_block_has_no_summary() {
        let log = RunLog {
            text: "Apply complete!\n".into(),
            complete: true,
        };
        let excerpt = LogExcerpt::from_log("apply", &log);
        assert_eq!(excerpt.error, None);
        assert_eq!(excerpt.tail, "Apply complete!");
    }
}
