//! JUnit XML for CI servers: the playbook is the report, each section a
//! testsuite, each step a testcase named `title [id]`. Failures and errors
//! carry the step's message (the observed values) as message and text;
//! skipped and pending steps are `<skipped>`; warnings pass with the warning
//! in `system-out`, as does every attempt of a step observed more than once.
//!
//! The file validates against the strictest reader's schema, the Jenkins xunit
//! plugin's `junit-10.xsd` (the tests fetch it, see `.ci/services.sh`): a
//! testcase may not hold `<properties>` and `<testsuites>` may not say
//! `skipped` or `timestamp`. So what a step says beyond pass or fail (its
//! severity, TLS verification off, checks not judged, the attempts) leads its
//! `system-out` as `name: value` lines, and the run's start time is on each
//! testsuite. A follow-up run (`run --rerun-failed`) is a `follow_up` property of
//! each testsuite, and a `follow_up: was fail in run 12` line of each step run again.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, SerializeError, TestCase, TestCaseStatus, TestSuite};

use crate::record::{RunRecord, StepResult, Verdict};

/// The record as JUnit XML.
pub fn render(record: &RunRecord) -> Result<String, SerializeError> {
    let mut report = Report::new(record.playbook.as_str());
    let started = chrono::DateTime::parse_from_rfc3339(&record.started).ok();
    report.set_time(Duration::from_millis(record.duration_ms));
    for section in &record.sections {
        let steps: Vec<&StepResult> = record.steps.iter().filter(|s| &s.section == section).collect();
        if steps.is_empty() {
            continue;
        }
        let mut suite = TestSuite::new(section.as_str());
        suite.set_time(Duration::from_millis(steps.iter().map(|s| s.duration_ms).sum()));
        if let Some(started) = started {
            suite.set_timestamp(started);
        }
        suite.add_property(Property::new("playbook", record.file.as_str()));
        suite.add_property(Property::new("host", record.host.as_str()));
        if let Some(operator) = &record.signoff.operator {
            suite.add_property(Property::new("operator", operator.as_str()));
        }
        if let Some(chain) = &record.chain {
            suite.add_property(Property::new("history_chain", chain.describe()));
        }
        if let Some((progress, signers)) = crate::record::signoff::described(&record.signoff) {
            suite.add_property(Property::new("signoff", progress.as_str()));
            for (n, line) in (1..).zip(&signers) {
                suite.add_property(Property::new(format!("signoff_{n}").as_str(), line.as_str()));
            }
        }
        if let Some(note) = record.follow_up_note() {
            suite.add_property(Property::new("follow_up", note));
        }
        suite.add_test_cases(steps.into_iter().map(|s| case(record, s)));
        report.add_test_suite(suite);
    }
    report.to_string().map(|xml| without_suites_skipped(&xml))
}

/// `xml` without the `skipped` count on `<testsuites>`, which quick-junit always writes and
/// junit-10.xsd refuses (the per-suite counts stay). Attribute values are escaped (`"` is
/// `&quot;`), so ` skipped="` inside that start tag can only be the attribute itself.
fn without_suites_skipped(xml: &str) -> String {
    let Some(start) = xml.find("<testsuites") else { return xml.to_owned() };
    let end = xml[start..].find('>').map_or(xml.len(), |e| start + e);
    let tag = &xml[start..end];
    let Some(at) = tag.find(" skipped=\"") else { return xml.to_owned() };
    let value_end = tag[at + 10..].find('"').map_or(tag.len(), |e| at + 10 + e + 1);
    format!("{}{}{}", &xml[..start + at], &tag[value_end..], &xml[end..])
}

fn case(record: &RunRecord, step: &StepResult) -> TestCase {
    let status = match step.verdict {
        Verdict::Pass | Verdict::Warn => TestCaseStatus::success(),
        Verdict::Fail | Verdict::Error => {
            let kind = if step.verdict == Verdict::Fail { NonSuccessKind::Failure } else { NonSuccessKind::Error };
            let mut status = TestCaseStatus::non_success(kind);
            // A snoozed failure keeps its real status; the message leads with the snooze.
            let message = match &step.snoozed {
                Some(snooze) => format!("[{}] {}", snooze.describe(), first_line(&step.message)),
                None => first_line(&step.message).to_owned(),
            };
            status.set_message(message).set_type(step.verdict.name());
            status.set_description(step.message.as_str());
            status
        }
        Verdict::Skipped | Verdict::Pending | Verdict::Waived | Verdict::NotDue => {
            let mut status = TestCaseStatus::skipped();
            let why = match step.verdict {
                Verdict::Pending => format!("pending: manual check not answered: {}", step.message),
                Verdict::Waived => format!("waived: {}", step.message),
                _ => step.message.clone(),
            };
            status.set_message(why).set_type(step.verdict.name());
            status
        }
    };
    let mut case = TestCase::new(format!("{} [{}]", step.title, step.id), status);
    case.set_classname(format!("{}.{}", record.playbook, step.section));
    case.set_time(Duration::from_millis(step.duration_ms));
    // What pass, fail and skipped cannot say leads the output, one `name: value` a line:
    // CI dashboards search it, and a failed warning-level check reads differently from a critical one.
    let mut out = vec![format!("severity: {}", step.severity.name())];
    if let Some(was) = record.follow_up_of.as_ref().and_then(|f| f.was_note(&step.id)) {
        out.push(format!("follow_up: {was}"));
    }
    if step.insecure {
        out.push("tls_verification: off".to_owned());
    }
    if let Some(snooze) = &step.snoozed {
        out.push(format!("snoozed: {}", snooze.describe()));
    }
    if let Some(nj) = &step.not_judged {
        out.push(format!("not_judged: {}", nj.checks.join("; ")));
        out.push(format!("on_no_history: {}", nj.rule.name()));
    }
    if step.tries.len() > 1 {
        out.push(format!("attempts: {}", step.attempts));
    }
    // Every kept observation, so a pass that came after a failed or errored one is never hidden.
    for (i, t) in step.tries.iter().enumerate() {
        out.push(format!("attempt {}: {}: {} ({} ms)", i + 1, t.verdict.name(), t.message, t.duration_ms));
    }
    if let Some(note) = step.tries_note().filter(|_| step.until.is_some()) {
        out.push(note);
    }
    if let Some(nj) = &step.not_judged.as_ref().filter(|_| step.verdict != Verdict::Warn) {
        out.push(format!("{}: {}", nj.describe(), nj.checks.join("; ")));
    }
    if step.verdict == Verdict::Warn {
        out.push(format!("warning: {}", step.message));
    }
    if let Some(approvals) = &step.approvals {
        out.push(format!("approvals: {}", approvals.describe()));
    }
    if let Some(answer) = &step.answer {
        out.push(format!(
            "answered {}{}",
            answer.verdict.name(),
            answer.comment.as_ref().map(|c| format!(": {c}")).unwrap_or_default()
        ));
    }
    for (name, value) in &step.captured {
        out.push(format!("{name} = {value}"));
    }
    case.set_system_out(out.join("\n"));
    case
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::without_suites_skipped;

    #[test]
    fn only_the_testsuites_skipped_count_goes() {
        let xml = r#"<?xml version="1.0"?>
<testsuites name="a skipped=&quot;1&quot;" tests="3" failures="0" errors="0" skipped="1" time="0.1">
<testsuite name="s" tests="3" skipped="1"/></testsuites>"#;
        let expected = r#"<?xml version="1.0"?>
<testsuites name="a skipped=&quot;1&quot;" tests="3" failures="0" errors="0" time="0.1">
<testsuite name="s" tests="3" skipped="1"/></testsuites>"#;
        assert_eq!(without_suites_skipped(xml), expected);
    }
}
