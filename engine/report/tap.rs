//! `--format tap`: the run as TAP version 13, one test point per step
//! (`title [id]`), sections as comments. A skipped step is `ok … # SKIP`; a
//! manual step nobody answered, a waived failure and a snoozed one are
//! `not ok … # TODO` (known, and not failing the run, as TAP means by TODO);
//! a step not due (outside its `active:` window) is `ok … # SKIP`. Every step that
//! did not plainly pass carries a YAML block with its verdict, severity,
//! message and what the failed checks observed. The YAML is written as JSON
//! scalars, which YAML reads as they are, so no value can break the block.
//! A follow-up run (`run --rerun-failed`) says so in a comment before the first
//! point, and each step it ran again says what it was (`follow_up: was fail in run 12`).

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::record::{RunRecord, StepResult, Verdict};

/// The record as TAP.
pub fn render(record: &RunRecord) -> String {
    let mut out = format!("TAP version 13\n1..{}\n", record.steps.len());
    if let Some(note) = record.follow_up_note() {
        let _ = writeln!(out, "# {}", one_line(&note));
    }
    let mut section = None;
    for (i, step) in record.steps.iter().enumerate() {
        if section != Some(&step.section) {
            section = Some(&step.section);
            let _ = writeln!(out, "# {}", one_line(&step.section));
        }
        let _ = writeln!(out, "{}", point(i + 1, step));
        let was = record.follow_up_of.as_ref().and_then(|f| f.was_note(&step.id));
        if step.verdict != Verdict::Pass
            || step.insecure
            || step.not_judged.is_some()
            || step.approvals.is_some()
            || was.is_some()
        {
            out.push_str(&diagnostics(step, was));
        }
    }
    if let Some(chain) = &record.chain {
        let _ = writeln!(out, "# {}", chain.describe());
    }
    if let Some((progress, signers)) = crate::record::signoff::described(&record.signoff) {
        let _ = writeln!(out, "# sign-off: {}", one_line(&progress));
        for line in signers {
            let _ = writeln!(out, "# {}", one_line(&line));
        }
    }
    out
}

/// `ok 3 - title [id] # SKIP why`.
fn point(number: usize, step: &StepResult) -> String {
    let ok = match step.verdict {
        Verdict::Pass | Verdict::Warn | Verdict::Skipped | Verdict::NotDue => "ok",
        Verdict::Fail | Verdict::Error | Verdict::Pending | Verdict::Waived => "not ok",
    };
    let description = escape(&format!("{} [{}]", step.title, step.id));
    let directive = match step.verdict {
        // A snoozed failure is a known one someone is on: TODO, so it does not fail the stream.
        Verdict::Fail | Verdict::Error if step.snoozed.is_some() => {
            format!(" # TODO {}", escape(&step.snoozed.as_ref().map(|s| s.describe()).unwrap_or_default()))
        }
        Verdict::Skipped | Verdict::NotDue => format!(" # SKIP {}", escape(&step.message)),
        Verdict::Pending => format!(" # TODO pending: {}", escape(&step.message)),
        Verdict::Waived => format!(" # TODO waived: {}", escape(&step.message)),
        _ => String::new(),
    };
    format!("{ok} {number} - {description}{directive}")
}

/// The YAML block: verdict, severity, message, the checks that missed with what they saw.
fn diagnostics(step: &StepResult, was: Option<String>) -> String {
    let mut fields = vec![
        ("verdict", json!(step.verdict.name())),
        ("severity", json!(step.severity.name())),
        ("message", json!(step.message)),
    ];
    if let Some(was) = was {
        fields.push(("follow_up", json!(was)));
    }
    if let Some(kind) = &step.error_kind {
        fields.push(("error_kind", json!(kind)));
    }
    if step.insecure {
        fields.push(("tls_verification", json!("off")));
    }
    if let Some(nj) = &step.not_judged {
        fields.push(("not_judged", json!(nj.checks)));
    }
    if let Some(snooze) = &step.snoozed {
        fields.push(("snoozed", json!(snooze.describe())));
    }
    let missed: Vec<Value> = step
        .checks
        .iter()
        .filter(|c| !c.held)
        .map(|c| json!({"expression": c.expression, "observed": c.observed}))
        .collect();
    if !missed.is_empty() {
        fields.push(("observed", Value::Array(missed)));
    }
    if let Some(approvals) = &step.approvals {
        fields.push(("approvals", json!(approvals)));
    }
    if step.tries.len() > 1 {
        let tries: Vec<Value> =
            step.tries.iter().map(|t| json!({"verdict": t.verdict.name(), "message": t.message})).collect();
        fields.push(("attempts", Value::Array(tries)));
    }
    let mut out = String::from("  ---\n");
    for (key, value) in fields {
        let _ = writeln!(out, "  {key}: {value}");
    }
    out.push_str("  ...\n");
    out
}

/// A description or directive text: one line, `\` and `#` escaped as TAP asks.
fn escape(text: &str) -> String {
    one_line(text).replace('\\', "\\\\").replace('#', "\\#")
}

fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}
