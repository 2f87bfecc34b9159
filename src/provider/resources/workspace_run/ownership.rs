//! Which runs are ours, exactly.
//!
//! Every run this resource queues carries a tag at the end of its message,
//! `[tfe_workspace_run apply 3f9a0c2b7d1e]`: the operation and a random reference made for that
//! one create. The tag is what makes a run provably ours:
//! - after a create whose answer was lost, the run with our reference is the one we made (and no
//!   other run is ever adopted in its place);
//! - before queuing, an unfinished run tagged for the same operation in the workspace that no
//!   resource of this process has claimed is one a previous, interrupted or killed apply left
//!   behind: it is adopted instead of queuing a second run beside it.
//!
//! [`Claims`] is the process-wide set of references in use, so two resources on one workspace
//! never take each other's run.

use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;

use rand::Rng;

use super::lifecycle::Operation;

const TAG_PREFIX: &str = "[tfe_workspace_run ";

/// The tag of one create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RunTag {
    pub operation: Operation,
    /// 12 lowercase hex digits, random per create.
    pub reference: String,
}

impl RunTag {
    pub(super) fn new(operation: Operation) -> RunTag {
        let bits: u64 = rand::rng().random();
        RunTag {
            operation,
            reference: format!("{:012x}", bits & 0xffff_ffff_ffff),
        }
    }

    /// `message` with this tag appended (a space between them when the message is not empty).
    pub(super) fn stamp(&self, message: &str) -> String {
        if message.is_empty() {
            self.to_string()
        } else {
            format!("{message} {self}")
        }
    }

    /// The tag at the end of a run's message, if it has one.
    pub(super) fn parse(message: &str) -> Option<RunTag> {
        let start = message.rfind(TAG_PREFIX)?;
        let inner = message[start + TAG_PREFIX.len()..].strip_suffix(']')?;
        let (operation, reference) = inner.split_once(' ')?;
        let operation = match operation {
            "apply" => Operation::Apply,
            "destroy" => Operation::Destroy,
            _ => return None,
        };
        let well_formed = reference.len() == 12
            && reference
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        well_formed.then(|| RunTag {
            operation,
            reference: reference.to_string(),
        })
    }
}

impl fmt::Display for RunTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{TAG_PREFIX}{} {}]", self.operation, self.reference)
    }
}

/// The references of the runs this provider process created or adopted. A reference is claimed
/// before its create is sent, so another resource looking for leftovers never mistakes a run in
/// flight for one.
#[derive(Debug, Default)]
pub(super) struct Claims {
    references: Mutex<HashSet<String>>,
}

impl Claims {
    /// Claims `reference`; false when it was already claimed.
    pub(super) fn claim(&self, reference: &str) -> bool {
        self.references
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(reference.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_round_trips_through_a_message() {
        let tag = RunTag::new(Operation::Destroy);
        assert_eq!(tag.reference.len(), 12);
        let message = tag.stamp("by hand");
        assert!(message.starts_with("by hand [tfe_workspace_run destroy "));
        assert_eq!(RunTag::parse(&message), Some(tag.clone()));
        assert_eq!(RunTag::parse(&tag.stamp("")), Some(tag));
    }

    #[test]
    fn only_well_formed_tags_at_the_end_count() {
        for message in [
            "",
            "Queued manually",
            "[tfe_workspace_run apply 3f9a0c2b7d1e] then more",
            "[tfe_workspace_run apply 3F9A0C2B7D1E]",
            "[tfe_workspace_run apply 3f9a0c2b7d1]",
            "[tfe_workspace_run plan 3f9a0c2b7d1e]",
            "[tfe_workspace_run apply]",
        ] {
            assert_eq!(RunTag::parse(message), None, "{message:?}");
        }
        let tag = RunTag::parse("x [tfe_workspace_run apply 3f9a0c2b7d1e]").unwrap();
        assert_eq!(tag.operation, Operation::Apply);
        assert_eq!(tag.reference, "3f9a0c2b7d1e");
    }

    #[test]
    fn a_reference_is_claimed_once() {
        let claims = Claims::default();
        assert!(claims.claim("a"));
        assert!(!claims.claim("a"));
        assert!(claims.claim("b"));
    }
}
