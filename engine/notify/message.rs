//! What a notification says, from the (already redacted) run record.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::report::RunRecord;

/// Why a run is worth telling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Not clean, after a clean run (or the first run).
    Failure,
    /// Not clean, like the run before.
    StillFailing,
    /// Clean after a run that was not.
    Recovery,
    /// Clean, like the one before (or the first).
    Clean,
}

impl Event {
    pub fn name(self) -> &'static str {
        match self {
            Self::Failure => "failure",
            Self::StillFailing => "still failing",
            Self::Recovery => "recovery",
            Self::Clean => "clean",
        }
    }
}

/// The event of `record`, given whether the previous run was clean (`None`: no previous run known).
pub fn event_of(record: &RunRecord, previous_clean: Option<bool>) -> Event {
    match (record.is_clean(), previous_clean) {
        (false, Some(false)) => Event::StillFailing,
        (false, _) => Event::Failure,
        (true, Some(false)) => Event::Recovery,
        (true, _) => Event::Clean,
    }
}

/// The human message: a headline, then each failed or errored step with its observed values.
pub fn text(record: &RunRecord, event: Event) -> String {
    let c = &record.counts;
    let mut out = match event {
        Event::Failure | Event::StillFailing => format!(
            "runbook: {} on {} FAILED ({} fail, {} error of {} steps)",
            record.playbook,
            record.host,
            c.fail,
            c.error,
            record.steps.len()
        ),
        Event::Recovery => format!("runbook: {} on {} recovered: no step fails", record.playbook, record.host),
        Event::Clean => format!("runbook: {} on {}: no step fails", record.playbook, record.host),
    };
    for step in record.steps.iter().filter(|s| s.verdict.is_bad() || s.is_unconfirmed_action()) {
        let _ = write!(out, "\n- {} [{}] {}: {}", step.verdict.name(), step.id, step.title, step.message);
    }
    out
}

/// The JSON summary a `body: json` webhook receives.
pub fn summary(record: &RunRecord, event: Event) -> Value {
    let failed: Vec<Value> = record
        .steps
        .iter()
        .filter(|s| s.verdict.is_bad() || s.is_unconfirmed_action())
        .map(|s| {
            json!({
                "id": s.id, "section": s.section, "title": s.title, "verdict": s.verdict,
                "message": s.message, "captured": s.captured,
            })
        })
        .collect();
    json!({
        "event": event.name(),
        "text": text(record, event),
        "playbook": record.playbook,
        "host": record.host,
        "started": record.started,
        "finished": record.finished,
        "duration_ms": record.duration_ms,
        "status": record.status,
        "verdict": record.verdict,
        "counts": record.counts,
        "failed": failed,
    })
}
