//! `--format nagios`: the run as a Nagios plugin's answer, so `runbook run`
//! can itself be a check in Nagios, Icinga or Sensu. One status line with the
//! counts, a line per step that needs attention (the plugin protocol's long
//! text), and perfdata: the counts, the run's duration and every numeric
//! capture as `'step.name'=value`. The exit code is the state ([`State`]).

use std::fmt::Write as _;

use serde_json::Value;

use crate::record::{RunRecord, RunStatus, Severity, StepResult, Verdict};

/// A Nagios state; its exit code is what the plugin protocol reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Warning => "WARNING",
            Self::Critical => "CRITICAL",
            Self::Unknown => "UNKNOWN",
        }
    }

    pub fn code(self) -> u8 {
        self as u8
    }

    /// The state of a finished run. A run that did not complete says nothing of the
    /// system: UNKNOWN. A critical-severity step that failed or errored (or an action left
    /// unconfirmed) is CRITICAL; a warning-severity one, a `warn` or a manual step nobody
    /// answered is WARNING: someone should look, nothing critical is known broken.
    pub fn of(record: &RunRecord) -> Self {
        if record.status != RunStatus::Complete {
            Self::Unknown
        } else if !record.is_clean_at(Severity::Critical) {
            Self::Critical
        } else if !record.is_clean()
            || record.steps.iter().any(|s| matches!(s.verdict, Verdict::Warn | Verdict::Pending))
            || record.steps.iter().any(StepResult::is_snoozed_failure)
        {
            Self::Warning
        } else {
            Self::Ok
        }
    }
}

/// The plugin answer for `record`.
pub fn render(record: &RunRecord) -> String {
    let state = State::of(record);
    let mut out = format!("CHECKLIST {} - {}: {}", state.name(), plain(&record.playbook), counts(record));
    out.push_str(" | ");
    out.push_str(&perfdata(record).join(" "));
    out.push('\n');
    // The long text: a follow-up (`run --rerun-failed`) says which run it followed up first.
    if let Some(note) = record.follow_up_note() {
        let _ = writeln!(out, "{}", plain(&note));
    }
    for step in record.steps.iter().filter(|s| needs_attention(s)) {
        let first = step.message.lines().next().unwrap_or("");
        let message = match &step.snoozed {
            Some(snooze) => format!("{first} [{}]", snooze.describe()),
            None => first.to_owned(),
        };
        let _ = writeln!(
            out,
            "{} ({}): {} [{}]: {}",
            step.verdict.name(),
            step.severity.name(),
            plain(&step.title),
            plain(&step.id),
            plain(&message)
        );
    }
    if let Some(chain) = &record.chain {
        let _ = writeln!(out, "{}", chain.describe());
    }
    if let Some((progress, signers)) = crate::record::signoff::described(&record.signoff) {
        let _ = writeln!(out, "sign-off: {}", plain(&progress));
        for line in signers {
            let _ = writeln!(out, "{}", plain(&line));
        }
    }
    out
}

fn needs_attention(step: &StepResult) -> bool {
    matches!(step.verdict, Verdict::Fail | Verdict::Error | Verdict::Warn | Verdict::Pending)
        || step.is_unconfirmed_action()
}

/// `2 failed, 1 error, 5 passed, 1 warning`: the non-zero counts, worst first.
fn counts(record: &RunRecord) -> String {
    let c = &record.counts;
    let parts = [
        (c.fail, "failed", "failed"),
        (c.error, "error", "errors"),
        (c.pending, "pending", "pending"),
        (c.warn, "warning", "warnings"),
        (c.pass, "passed", "passed"),
        (c.waived, "waived", "waived"),
        (c.skipped, "skipped", "skipped"),
        (c.not_due, "not due", "not due"),
        (c.snoozed, "snoozed", "snoozed"),
    ];
    let said: Vec<String> = parts
        .iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
        .collect();
    if said.is_empty() { "no steps".to_owned() } else { said.join(", ") }
}

/// The counts, the duration and each numeric capture, in the perfdata grammar.
fn perfdata(record: &RunRecord) -> Vec<String> {
    let c = &record.counts;
    let total = record.steps.len();
    let mut items: Vec<String> = [
        ("passed", c.pass),
        ("warnings", c.warn),
        ("failed", c.fail),
        ("errors", c.error),
        ("skipped", c.skipped),
        ("pending", c.pending),
        ("waived", c.waived),
    ]
    .iter()
    .map(|(label, n)| format!("{}={n};;;0;{total}", label_of(label)))
    .collect();
    items.push(format!("{}={:.3}s;;;0", label_of("duration"), record.duration_ms as f64 / 1000.0));
    for step in &record.steps {
        for (name, value) in &step.captured {
            if let Some(shown) = number(value) {
                items.push(format!("{}={shown}", label_of(&format!("{}.{name}", step.id))));
            }
        }
    }
    items
}

/// A JSON number in perfdata's grammar: digits, `-` and `.`, never an exponent (which
/// serde_json writes for large floats; Rust's `Display` for f64 does not).
fn number(value: &Value) -> Option<String> {
    let Value::Number(n) = value else { return None };
    n.as_i64()
        .map(|i| i.to_string())
        .or_else(|| n.as_u64().map(|u| u.to_string()))
        .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f.to_string()))
}

/// A quoted label: `'` doubled, as the plugin guidelines quote labels.
fn label_of(text: &str) -> String {
    format!("'{}'", plain(text).replace('\'', "''"))
}

/// One line that cannot open perfdata: line breaks become spaces, `|` becomes `/`.
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == '|' {
                '/'
            } else if c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect()
}
