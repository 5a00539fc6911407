//! The checklist as text: grouped by section, a mark per step, the observed
//! values under each failure, then the counts. Colour only when asked.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::record::{RunRecord, RunStatus, Severity, StepResult, Verdict};

/// ANSI styling, or none.
#[derive(Clone, Copy)]
pub struct Style {
    pub colour: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.colour { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_owned() }
    }

    pub fn verdict(self, verdict: Verdict) -> String {
        let (code, mark) = match verdict {
            Verdict::Pass => ("32", "✓"),
            Verdict::Warn => ("33", "!"),
            Verdict::Fail => ("31", "✗"),
            Verdict::Error => ("1;31", "✗"),
            Verdict::Skipped => ("2", "-"),
            Verdict::Pending => ("36", "?"),
            Verdict::Waived => ("35", "~"),
            Verdict::NotDue => ("2", "·"),
        };
        self.paint(code, mark)
    }

    /// `critical: ` or `warning: ` before the title of a step that failed or errored.
    pub fn severity(self, step: &StepResult) -> String {
        if !step.verdict.is_bad() {
            return String::new();
        }
        let code = match step.severity {
            Severity::Critical => "1;31",
            Severity::Warning => "33",
        };
        self.paint(code, &format!("{}:", step.severity.name())) + " "
    }

    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Something the reader must not miss, e.g. a step that skipped TLS verification.
    pub fn caution(self, text: &str) -> String {
        self.paint("33", text)
    }
}

/// The whole checklist.
pub fn render(record: &RunRecord, style: Style) -> String {
    render_observed(record, style, &BTreeMap::new())
}

/// The checklist with each step's observation (by step id, secrets already masked) under it.
pub fn render_observed(record: &RunRecord, style: Style, observed: &BTreeMap<String, Value>) -> String {
    // Values from probed systems reach a terminal here: none may drive it.
    let shown = printable_record(record);
    let record = shown.as_ref().unwrap_or(record);
    let mut out = String::new();
    let _ = writeln!(out, "{}  {}", style.bold(&record.playbook), style.dim(&format!("({})", record.file)));
    if let Some(note) = record.follow_up_note() {
        let _ = writeln!(out, "{}", style.caution(&note));
    }
    for section in &record.sections {
        let steps: Vec<_> = record.steps.iter().filter(|s| &s.section == section).collect();
        if steps.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", style.bold(section));
        for step in steps {
            let tag = match step.verdict {
                // A not-due message starts with `not due:` already.
                Verdict::Pass | Verdict::Warn | Verdict::Fail | Verdict::NotDue => String::new(),
                other => format!("{}: ", other.name()),
            };
            let mut marks = if step.insecure { style.caution(" (TLS verification off)") } else { String::new() };
            // A step passed by `on_no_history: pass` must still not read as a plain pass.
            if let Some(nj) = &step.not_judged {
                marks += &style.caution(&format!(" (not judged, on_no_history: {})", nj.rule.name()));
            }
            if step.snoozed.is_some() {
                marks += &style.caution(" (snoozed)");
            }
            let _ = writeln!(
                out,
                "  {} {}{}  {}{}{marks}",
                style.verdict(step.verdict),
                style.severity(step),
                step.title,
                style.dim(&format!("[{}]", step.id)),
                style.dim(&format!(" {}ms", step.duration_ms)),
            );
            if !step.message.is_empty() {
                for line in step.message.lines() {
                    let _ = writeln!(out, "      {tag}{line}");
                }
            }
            if let Some(snooze) = &step.snoozed {
                let _ = writeln!(out, "      {}", style.caution(&snooze.describe()));
            }
            // What the operator said about a manual check is part of its result.
            if let Some(answer) = &step.answer {
                let _ = writeln!(out, "      {}", answered(answer));
            }
            if let Some(observation) = observed.get(&step.id) {
                let _ = writeln!(out, "      {}", style.dim("observed:"));
                for line in shown_observation(observation).lines() {
                    let _ = writeln!(out, "        {}", style.dim(line));
                }
            }
            if let Some(note) = step.tries_note() {
                let _ = writeln!(out, "      {}", style.dim(&note));
            }
            if let Some(approvals) = &step.approvals {
                let _ = writeln!(out, "      {}", style.dim(&approvals.describe()));
            }
            if let Some(note) = record.follow_up_of.as_ref().and_then(|f| f.was_note(&step.id)) {
                let _ = writeln!(out, "      {}", style.dim(&note));
            }
            if let Some(c) = step.confirmation.as_ref().filter(|c| c.confirmed) {
                let _ = writeln!(
                    out,
                    "      {}",
                    style.dim(&format!("action confirmed by {} ({}) at {}", c.by, c.how, c.at))
                );
            }
        }
    }
    footer(&mut out, record, style);
    out
}

/// The counts, the run's place in the history chain, and how far the sign-off got.
fn footer(out: &mut String, record: &RunRecord, style: Style) {
    let _ = writeln!(out, "\n{}", summary(record));
    if let Some(chain) = &record.chain {
        let _ = writeln!(out, "{}", style.dim(&chain.describe()));
    }
    if let Some((progress, signers)) = crate::record::signoff::described(&record.signoff) {
        let _ = writeln!(out, "{}", style.bold(&format!("Sign-off: {progress}")));
        for line in signers {
            let _ = writeln!(out, "  {line}");
        }
    }
}

/// The most of one observation shown: a whole HTTP body would bury the checklist.
const MAX_OBSERVATION_SHOWN: usize = 4000;

/// An observation as indented JSON, control characters made visible, cut at
/// [`MAX_OBSERVATION_SHOWN`] characters.
fn shown_observation(observation: &Value) -> String {
    let mut value = observation.clone();
    crate::printable::printable_json(&mut value);
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    let total = text.chars().count();
    if total <= MAX_OBSERVATION_SHOWN {
        return text;
    }
    let cut: String = text.chars().take(MAX_OBSERVATION_SHOWN).collect();
    format!("{cut}\n… ({} more characters)", total - MAX_OBSERVATION_SHOWN)
}

/// `answered fail at the prompt: “feeds are down”`.
fn answered(answer: &crate::record::ManualAnswer) -> String {
    let from = match answer.source {
        crate::record::AnswerSource::Prompt => "at the prompt",
        crate::record::AnswerSource::AnswersFile => "in the answers file",
    };
    let comment = answer.comment.as_deref().map(|c| format!(": “{c}”")).unwrap_or_default();
    format!("answered {} {from}{comment}", answer.verdict.name())
}

/// `12 passed, 1 warned, 1 failed, 0 errors (1 critical, 0 warning), 2 skipped, 0 pending in 1.23s`;
/// the split by severity only when something failed or errored.
pub fn summary(record: &RunRecord) -> String {
    let c = &record.counts;
    let stopped = if record.status == RunStatus::Interrupted { " (interrupted)" } else { "" };
    let unconfirmed = record.steps.iter().filter(|s| s.is_unconfirmed_action()).count();
    let unconfirmed = match unconfirmed {
        0 => String::new(),
        1 => " (1 action not confirmed)".to_owned(),
        n => format!(" ({n} actions not confirmed)"),
    };
    let by_severity = if c.fail + c.error > 0 { format!(" ({})", c.failed_by_severity) } else { String::new() };
    // Only when there are any, so runs without waivers read as before.
    let waived = if c.waived > 0 { format!(", {} waived", c.waived) } else { String::new() };
    let not_judged = if c.not_judged > 0 { format!(", {} not judged", c.not_judged) } else { String::new() };
    let not_due = if c.not_due > 0 { format!(", {} not due", c.not_due) } else { String::new() };
    let snoozed = if c.snoozed > 0 { format!(" ({} snoozed)", c.snoozed) } else { String::new() };
    format!(
        "{} passed, {} warned, {} failed, {} {}{by_severity}{snoozed}, {} skipped, {} pending{waived}{not_judged}{not_due} in {:.2}s{stopped}{unconfirmed}",
        c.pass,
        c.warn,
        c.fail,
        c.error,
        if c.error == 1 { "error" } else { "errors" },
        c.skipped,
        c.pending,
        record.duration_ms as f64 / 1000.0
    )
}

/// A copy of `record` with every string [`printable`](crate::printable), or `None` when it
/// holds no control character.
fn printable_record(record: &RunRecord) -> Option<RunRecord> {
    // The text first: a `Value` tree of every record cost a 500-step run 5 % of its time.
    let text = serde_json::to_string(record).ok()?;
    if !crate::printable::json_text_has_hidden(&text) {
        return None;
    }
    let mut value: serde_json::Value = serde_json::from_str(&text).ok()?;
    crate::printable::printable_json(&mut value);
    serde_json::from_value(value).ok()
}
