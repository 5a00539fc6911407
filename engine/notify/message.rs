//! What a notification says, from the (already redacted) run record: the
//! event, the JSON summary, and the text — built in, or a target's own
//! handlebars template over the summary.

use std::fmt::Write as _;

use handlebars::Handlebars;
use serde_json::{Value, json};

use super::NotifyError;
use crate::record::Severity;
use crate::record::{RunRecord, StepResult};

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

/// The event of `record` for a target that counts failures of `min` severity and above, given the
/// run before (`None`: no run before is known).
pub fn event_of(record: &RunRecord, previous: Option<&RunRecord>, min: Severity) -> Event {
    match (record.is_clean_at(min), previous.map(|p| p.is_clean_at(min))) {
        (false, Some(false)) => Event::StillFailing,
        (false, _) => Event::Failure,
        (true, Some(false)) => Event::Recovery,
        (true, _) => Event::Clean,
    }
}

/// The steps a message lists: failed, errored or unconfirmed, of `min` severity or above.
fn listed(record: &RunRecord, min: Severity) -> impl Iterator<Item = &StepResult> {
    record.steps.iter().filter(move |s| s.counts_against(min))
}

/// The built-in message: a headline, then each listed step with its severity and observed values.
pub fn text(record: &RunRecord, event: Event, min: Severity) -> String {
    let c = &record.counts;
    let mut out = match event {
        Event::Failure | Event::StillFailing => format!(
            "runbook: {} on {} FAILED ({} fail, {} error of {} steps: {})",
            record.playbook,
            record.host,
            c.fail,
            c.error,
            record.steps.len(),
            record.counts.failed_by_severity
        ),
        Event::Recovery => format!("runbook: {} on {} recovered: no step fails", record.playbook, record.host),
        Event::Clean => format!("runbook: {} on {}: no step fails", record.playbook, record.host),
    };
    for step in listed(record, min) {
        let _ = write!(
            out,
            "\n- {} ({}) [{}] {}: {}",
            step.verdict.name(),
            step.severity.name(),
            step.id,
            step.title,
            step.message
        );
    }
    out
}

/// The JSON summary a `body: json` webhook receives and templates read; `text` is the message.
pub fn summary(record: &RunRecord, event: Event, min: Severity, text: &str) -> Value {
    let failed: Vec<Value> = listed(record, min)
        .map(|s| {
            json!({
                "id": s.id, "section": s.section, "title": s.title, "verdict": s.verdict,
                "severity": s.severity, "message": s.message, "captured": s.captured,
            })
        })
        .collect();
    json!({
        "event": event.name(),
        "text": text,
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

/// The message text: `template` rendered over the summary, or the built-in text.
pub fn message(record: &RunRecord, event: Event, min: Severity, template: Option<&str>) -> Result<String, NotifyError> {
    let builtin = text(record, event, min);
    match template {
        None => Ok(builtin),
        Some(source) => render(source, &summary(record, event, min, &builtin)),
    }
}

/// Renders a template over a summary, as plain text (nothing escaped).
pub fn render(source: &str, summary: &Value) -> Result<String, NotifyError> {
    crate::bounded_template::render(&registry(source)?, "t", summary).map_err(NotifyError::TemplateFailed)
}

/// Compiles a template, so a broken one is refused before anything runs.
pub fn check_template(source: &str) -> Result<(), NotifyError> {
    registry(source).map(|_| ())
}

fn registry(source: &str) -> Result<Handlebars<'static>, NotifyError> {
    let mut registry = crate::bounded_template::registry();
    registry.register_escape_fn(handlebars::no_escape);
    crate::bounded_template::add_template(&mut registry, "t", source).map_err(NotifyError::BadTemplate)?;
    Ok(registry)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A finished run whose steps have these (id, verdict, severity).
    fn record(steps: &[(&str, &str, &str)]) -> RunRecord {
        let steps: Vec<Value> = steps
            .iter()
            .map(|(id, verdict, severity)| {
                json!({"id": id, "section": "S", "title": format!("{id} ok"), "kind": "shell", "verdict": verdict,
                       "severity": severity, "message": format!("{id} = 1"), "captured": {}, "duration_ms": 0,
                       "attempts": 1})
            })
            .collect();
        crate::record::complete_run_of(steps)
    }

    #[test]
    fn a_message_template_is_held_to_the_template_limits() {
        let error =
            render(r#"{{#*inline "again"}}{{> again}}{{/inline}}{{> again}}"#, &json!({})).unwrap_err().to_string();
        assert!(error.starts_with("bad template at 1:1: ") && error.contains("cannot define partials"), "{error}");
    }

    #[test]
    fn a_critical_only_target_counts_warning_failures_as_clean() {
        let clean = record(&[("db", "pass", "critical"), ("lat", "pass", "warning")]);
        let warning = record(&[("db", "pass", "critical"), ("lat", "fail", "warning")]);
        let both = record(&[("db", "error", "critical"), ("lat", "fail", "warning")]);
        assert_eq!(event_of(&warning, Some(&clean), Severity::Warning), Event::Failure);
        assert_eq!(event_of(&warning, Some(&clean), Severity::Critical), Event::Clean);
        assert_eq!(event_of(&both, Some(&warning), Severity::Critical), Event::Failure);
        assert_eq!(event_of(&both, Some(&warning), Severity::Warning), Event::StillFailing);
        assert_eq!(event_of(&warning, Some(&both), Severity::Critical), Event::Recovery);
        assert_eq!(event_of(&clean, None, Severity::Warning), Event::Clean);
    }

    #[test]
    fn a_template_reads_the_summary_with_the_report_helpers_and_nothing_is_escaped() {
        let run = record(&[("db", "fail", "critical"), ("lat", "fail", "warning")]);
        let template = "{{upper event}} {{playbook}} <{{counts.failed_by_severity.critical}}>\
                        {{#each failed}} {{severity}}:{{id}}{{/each}}";
        let text = message(&run, Event::Failure, Severity::Critical, Some(template)).unwrap();
        assert_eq!(text, "FAILURE P <1> critical:db");
        let builtin = message(&run, Event::Failure, Severity::Warning, None).unwrap();
        assert!(builtin.ends_with("\n- fail (critical) [db] db ok: db = 1\n- fail (warning) [lat] lat ok: lat = 1"));
        assert!(check_template("{{#each failed}").unwrap_err().to_string().starts_with("bad template at 1:"));
    }
}
