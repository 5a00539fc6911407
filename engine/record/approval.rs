//! Approvals of an action step (`approvals: N`): who approved, when, how, and
//! the exact action they approved (rendered, secrets masked). An approval
//! counts only for that exact action text, and each approver once: names are
//! compared case-insensitively after trimming.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One approver's yes to one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Approval {
    /// Who approved, as they gave their name.
    pub approver: String,
    /// When, RFC 3339.
    pub at: String,
    /// The action approved, exactly as it runs (templates rendered, secrets masked).
    pub action: String,
    /// How it was given: `interactive`, or `file <sha256 of the approvals file>`.
    pub via: String,
}

/// What an action step that needs approvals got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Approvals {
    /// How many distinct approvers the step needs (the playbook's `approvals`).
    pub needed: u32,
    /// The approvals that counted: distinct approvers, each for the exact action that was to run.
    pub given: Vec<Approval>,
}

impl Approvals {
    /// Whether enough distinct approvers approved.
    pub fn met(&self) -> bool {
        self.given.len() >= usize::try_from(self.needed).unwrap_or(usize::MAX)
    }

    /// `unapproved (1 of 2 approvals)`: why an action below quorum did not run.
    pub fn shortfall(&self) -> String {
        format!("unapproved ({} of {} approvals)", self.given.len(), self.needed)
    }

    /// One line for reports: `2 of 2 approvals: alice (interactive, at …), bob (file 3f…, at …);
    /// action: POST …`.
    pub fn describe(&self) -> String {
        let who: Vec<String> = self.given.iter().map(|a| format!("{} ({}, at {})", a.approver, a.via, a.at)).collect();
        let names = if who.is_empty() { "none".to_owned() } else { who.join(", ") };
        let action = self.given.first().map(|a| format!("; action: {}", a.action)).unwrap_or_default();
        format!("{} of {} approvals: {names}{action}", self.given.len(), self.needed)
    }
}

/// An approver's name as compared: trimmed, case folded.
pub fn same_approver(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// The approvals in `offered` that count for `action`: those for exactly that text, with a
/// non-empty name, each approver once (the first kept).
pub fn counting(offered: impl IntoIterator<Item = Approval>, action: &str) -> Vec<Approval> {
    let mut kept: Vec<Approval> = Vec::new();
    for approval in offered {
        let named = !approval.approver.trim().is_empty();
        if named && approval.action == action && !kept.iter().any(|k| same_approver(&k.approver, &approval.approver)) {
            kept.push(approval);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by(name: &str, action: &str) -> Approval {
        Approval {
            approver: name.into(),
            at: "2026-01-01T00:00:00Z".into(),
            action: action.into(),
            via: "interactive".into(),
        }
    }

    #[test]
    fn one_approver_counts_once_whatever_the_case_and_spaces() {
        let kept = counting([by("Alice", "run x"), by(" alice ", "run x"), by("bob", "run x")], "run x");
        assert_eq!(kept.iter().map(|a| a.approver.as_str()).collect::<Vec<_>>(), ["Alice", "bob"]);
    }

    #[test]
    fn an_approval_of_another_action_or_without_a_name_does_not_count() {
        assert!(counting([by("alice", "run y"), by("  ", "run x")], "run x").is_empty());
    }

    #[test]
    fn the_quorum_needs_as_many_distinct_approvers_as_asked() {
        let state = Approvals { needed: 2, given: counting([by("a", "x"), by("A", "x")], "x") };
        assert!(!state.met());
        assert_eq!(state.shortfall(), "unapproved (1 of 2 approvals)");
    }
}
