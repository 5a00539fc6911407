//! The latest run of each playbook in the Prometheus text exposition format
//! (version 0.0.4), for `GET /metrics` of `runbook serve`.
//!
//! Families (all gauges except the counter):
//! - `runbook_step_verdict{playbook,section,step,severity,verdict}`: one-hot, 1
//!   for the step's verdict in the last run and 0 for every other verdict, so
//!   `runbook_step_verdict{verdict="fail",severity="critical"} == 1` is an alert rule;
//! - `runbook_step_duration_seconds{playbook,section,step}`;
//! - `runbook_step_value{playbook,section,step,name}`: every captured value
//!   that is a number (booleans as 1/0; text and lists are left out);
//! - `runbook_run_timestamp_seconds`, `runbook_run_duration_seconds`,
//!   `runbook_run_clean` (1 when nothing failed or errored),
//!   `runbook_run_steps{verdict}`, all labelled `playbook`;
//! - `runbook_step_not_judged{playbook,section,step,rule}` and `runbook_run_steps_not_judged{playbook}`:
//!   checks not judged for want of history (a first run), whatever the step's verdict;
//! - `runbook_runs_total{playbook}`: runs since the server started.
//!
//! Every family's samples come together, as the format requires. Label values
//! are escaped (`\\`, `\"`, `\n`); values come from the redacted record only.

use std::fmt::Write as _;

use serde_json::Value;

use crate::record::{RunRecord, Verdict};

/// A per-run family: name, help, value.
type PerRun = (&'static str, &'static str, fn(&RunRecord) -> f64);

/// One playbook's latest run and how many runs it has had.
pub struct Latest<'a> {
    pub record: &'a RunRecord,
    pub runs: u64,
}

/// The whole `/metrics` page.
pub fn render(latest: &[Latest]) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "runbook_step_verdict",
        "gauge",
        "The step's verdict in the last run: 1 for it, 0 for the others.",
    );
    for l in latest {
        for step in &l.record.steps {
            for verdict in Verdict::ALL {
                let labels =
                    step_labels(l.record, step, &[("severity", step.severity.name()), ("verdict", verdict.name())]);
                sample(&mut out, "runbook_step_verdict", &labels, f64::from(u8::from(step.verdict == verdict)));
            }
        }
    }
    family(&mut out, "runbook_step_duration_seconds", "gauge", "How long the step took in the last run.");
    for l in latest {
        for step in &l.record.steps {
            sample(
                &mut out,
                "runbook_step_duration_seconds",
                &step_labels(l.record, step, &[]),
                seconds(step.duration_ms),
            );
        }
    }
    family(&mut out, "runbook_step_value", "gauge", "A numeric value the step captured in the last run.");
    for l in latest {
        for step in &l.record.steps {
            for (name, value) in &step.captured {
                if let Some(number) = numeric(value) {
                    sample(&mut out, "runbook_step_value", &step_labels(l.record, step, &[("name", name)]), number);
                }
            }
        }
    }
    let per_run: [PerRun; 3] = [
        ("runbook_run_timestamp_seconds", "When the last run finished, in Unix seconds.", |r| {
            crate::history::millis(&r.finished) as f64 / 1000.0
        }),
        ("runbook_run_duration_seconds", "How long the last run took.", |r| seconds(r.duration_ms)),
        ("runbook_run_clean", "1 when the last run completed with no step failed or errored.", |r| {
            f64::from(u8::from(r.is_clean()))
        }),
    ];
    for (name, help, value) in per_run {
        family(&mut out, name, "gauge", help);
        for l in latest {
            sample(&mut out, name, &playbook_labels(l.record, &[]), value(l.record));
        }
    }
    family(&mut out, "runbook_run_steps", "gauge", "Steps of the last run by verdict.");
    for l in latest {
        let counts = &l.record.counts;
        let by_verdict =
            [counts.pass, counts.warn, counts.fail, counts.error, counts.skipped, counts.pending, counts.waived];
        for (verdict, count) in Verdict::ALL.iter().zip(by_verdict) {
            sample(
                &mut out,
                "runbook_run_steps",
                &playbook_labels(l.record, &[("verdict", verdict.name())]),
                count as f64,
            );
        }
    }
    not_judged(&mut out, latest);
    family(&mut out, "runbook_runs_total", "counter", "Runs of the playbook since the server started.");
    for l in latest {
        sample(&mut out, "runbook_runs_total", &playbook_labels(l.record, &[]), l.runs as f64);
    }
    out
}

/// Checks not judged for want of history: a step's verdict alone would hide them (a `pass`
/// rule passes, a `warn` rule warns), so they get their own families.
fn not_judged(out: &mut String, latest: &[Latest]) {
    let help = "1 when a check of the step was not judged in the last run (no earlier value yet); \
                `rule` is the on_no_history rule applied.";
    family(out, "runbook_step_not_judged", "gauge", help);
    for l in latest {
        for step in &l.record.steps {
            let rule = step.not_judged.as_ref().map_or("none", |n| n.rule.name());
            let labels = step_labels(l.record, step, &[("rule", rule)]);
            sample(out, "runbook_step_not_judged", &labels, f64::from(u8::from(step.not_judged.is_some())));
        }
    }
    let help = "Steps of the last run with a check not judged for want of history.";
    family(out, "runbook_run_steps_not_judged", "gauge", help);
    for l in latest {
        let count = l.record.counts.not_judged as f64;
        sample(out, "runbook_run_steps_not_judged", &playbook_labels(l.record, &[]), count);
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &str, value: f64) {
    let _ = writeln!(out, "{name}{{{labels}}} {}", number(value));
}

fn playbook_labels(record: &RunRecord, extra: &[(&str, &str)]) -> String {
    labels(&[&[("playbook", record.playbook.as_str())], extra].concat())
}

fn step_labels(record: &RunRecord, step: &crate::record::StepResult, extra: &[(&str, &str)]) -> String {
    let base = [("playbook", record.playbook.as_str()), ("section", step.section.as_str()), ("step", step.id.as_str())];
    labels(&[&base[..], extra].concat())
}

fn labels(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}=\"{}\"", escape_label(v))).collect::<Vec<_>>().join(",")
}

/// A label value as the exposition format quotes it.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A sample value: Go-style `NaN`, `+Inf`, `-Inf`, else the shortest exact decimal.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf".to_owned() } else { "-Inf".to_owned() }
    } else {
        format!("{value}")
    }
}

fn numeric(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(1e21), "1000000000000000000000");
        assert_eq!(number(0.25), "0.25");
    }
}
