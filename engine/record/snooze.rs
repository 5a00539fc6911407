//! Snoozes (`runbook snooze`): a step someone is already on. Unlike a waiver (a
//! known exception in the playbook, by date) a snooze lives in the history store,
//! so every host sharing it sees it, and it ends at an exact time. A snoozed step
//! still runs and keeps its real verdict; while the snooze is in force its `fail`
//! or `error` does not fail the run or notify, and the sign-off names it.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::RunRecord;

/// A snooze on one step of one playbook, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Snooze {
    /// Its number in the store (`runbook snooze --lift ID`).
    pub id: i64,
    /// The step id.
    pub step: String,
    /// The one host it covers; absent: every host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Who snoozed it.
    pub owner: String,
    /// Why.
    pub reason: String,
    /// When it ends, RFC 3339 UTC.
    pub until: String,
}

impl Snooze {
    /// `snoozed by OWNER until T: REASON`, as every report names it.
    pub fn describe(&self) -> String {
        format!("snoozed by {} until {}: {}", self.owner, self.until, self.reason)
    }

    /// Whether it covers a run on `host` at `now`.
    pub fn covers(&self, host: &str, now: DateTime<Utc>) -> bool {
        let ends = DateTime::parse_from_rfc3339(&self.until).map(|t| t.with_timezone(&Utc));
        // An end that does not parse covers nothing: a snooze is never forever.
        ends.is_ok_and(|end| now < end) && self.host.as_deref().is_none_or(|h| h == host)
    }
}

/// Marks each step of `record` that a snooze in force at `now` covers, then recounts.
pub fn apply(record: &mut RunRecord, snoozes: &[Snooze], now: DateTime<Utc>) {
    for step in &mut record.steps {
        step.snoozed = snoozes.iter().find(|s| s.step == step.id && s.covers(&record.host, now)).cloned();
    }
    record.recount();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snooze(host: Option<&str>, until: &str) -> Snooze {
        Snooze {
            id: 1,
            step: "disk".into(),
            host: host.map(str::to_owned),
            owner: "ana".into(),
            reason: "new volume on Friday".into(),
            until: until.into(),
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_snooze_covers_until_its_end_and_not_at_it() {
        let s = snooze(None, "2026-03-08T14:00:00Z");
        assert!(s.covers("web1", at("2026-03-08T13:59:59Z")));
        assert!(!s.covers("web1", at("2026-03-08T14:00:00Z")));
    }

    #[test]
    fn a_host_snooze_covers_that_host_only() {
        let s = snooze(Some("web1"), "2026-03-08T14:00:00Z");
        assert!(s.covers("web1", at("2026-03-08T12:00:00Z")));
        assert!(!s.covers("web2", at("2026-03-08T12:00:00Z")));
    }

    #[test]
    fn an_unreadable_end_covers_nothing() {
        assert!(!snooze(None, "soon").covers("web1", at("2026-03-08T12:00:00Z")));
    }
}
