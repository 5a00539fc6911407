//! The sign-off block. Its state (clean or not, what failed, what is
//! pending) is derived from the steps whenever they change; the operator and
//! the time are added once someone signs. "Clean" is strict: a complete run
//! with nothing failed, errored or pending and no action left unconfirmed —
//! warnings are allowed.

use chrono::{DateTime, Local, SecondsFormat, Utc};

use super::{RunRecord, RunStatus, Verdict};

/// Recomputes `record.signoff`'s state, keeping who signed and when.
pub fn assess(record: &mut RunRecord) {
    let ids = |keep: fn(Verdict) -> bool| -> Vec<String> {
        record.steps.iter().filter(|s| keep(s.verdict)).map(|s| s.id.clone()).collect()
    };
    let failed: Vec<String> = record.steps.iter().filter(|s| s.counts_as_bad()).map(|s| s.id.clone()).collect();
    let snoozed: Vec<String> = record
        .steps
        .iter()
        .filter(|s| s.is_snoozed_failure())
        .filter_map(|s| s.snoozed.as_ref().map(|z| format!("{} ({}): {}", s.id, s.verdict.name(), z.describe())))
        .collect();
    let not_due = ids(|v| v == Verdict::NotDue);
    let pending = ids(|v| v == Verdict::Pending);
    let unconfirmed: Vec<String> =
        record.steps.iter().filter(|s| s.is_unconfirmed_action()).map(|s| s.id.clone()).collect();
    let waived: Vec<String> = record
        .steps
        .iter()
        .filter(|s| s.verdict == Verdict::Waived)
        .filter_map(|s| s.waiver.as_ref().map(|w| format!("{}: {}", s.id, w.describe())))
        .collect();
    let complete = record.status == RunStatus::Complete;
    let signoff = &mut record.signoff;
    signoff.clean = complete && failed.is_empty() && pending.is_empty() && unconfirmed.is_empty();
    let not_judged: Vec<String> =
        record.steps.iter().filter(|s| s.not_judged.is_some()).map(|s| s.id.clone()).collect();
    let passed = record.steps.iter().filter(|s| s.verdict.is_ok() && s.not_judged.is_none()).count();
    let judged = Judged { passed, not_judged: &not_judged };
    signoff.statement = statement(judged, &failed, &pending, &unconfirmed, complete);
    // "All N passed" is false while a snoozed failure or a step not due is left out of N.
    if (!snoozed.is_empty() || !not_due.is_empty()) && signoff.statement.starts_with("All ") {
        signoff.statement = format!("{} passed.", count(passed));
    }
    signoff.not_judged = not_judged;
    // A waiver is part of what the signer signs for, so the statement names each one.
    if !waived.is_empty() {
        signoff.statement.push_str(&format!(" Waived: {}.", waived.join("; ")));
    }
    signoff.waived = waived;
    // So is a snoozed failure: hidden from the exit code, never from the signer.
    if !snoozed.is_empty() {
        signoff.statement.push_str(&format!(" Snoozed: {}.", snoozed.join("; ")));
    }
    signoff.snoozed = snoozed;
    if !not_due.is_empty() {
        signoff.statement.push_str(&format!(" Not due (outside their active window): {}.", not_due.join(", ")));
    }
    signoff.not_due = not_due;
    signoff.failed = failed;
    signoff.pending = pending;
    signoff.unconfirmed = unconfirmed;
}

/// Records who signed, at `now`, shown in UTC and in local time.
pub fn sign(record: &mut RunRecord, operator: &str, now: DateTime<Utc>) {
    assess(record);
    record.signoff.operator = Some(operator.to_owned());
    record.signoff.signed_utc = Some(now.to_rfc3339_opts(SecondsFormat::Secs, true));
    record.signoff.signed_local = Some(now.with_timezone(&Local).to_rfc3339_opts(SecondsFormat::Secs, false));
}

/// The steps that passed or warned with every check judged, and the steps with a check not judged for want of history.
#[derive(Clone, Copy)]
struct Judged<'a> {
    passed: usize,
    not_judged: &'a [String],
}

fn statement(judged: Judged, failed: &[String], pending: &[String], unconfirmed: &[String], complete: bool) -> String {
    let list = |ids: &[String]| ids.join(", ");
    let mut parts = Vec::new();
    if !complete {
        parts.push("The run was interrupted.".to_owned());
    }
    if !failed.is_empty() {
        parts.push(format!("{} failed: {}.", count(failed.len()), list(failed)));
    }
    if !pending.is_empty() {
        parts.push(format!("{} pending: {}.", count(pending.len()), list(pending)));
    }
    if !unconfirmed.is_empty() {
        let actions =
            if unconfirmed.len() == 1 { "1 action".to_owned() } else { format!("{} actions", unconfirmed.len()) };
        parts.push(format!("{actions} not confirmed: {}.", list(unconfirmed)));
    }
    // Never "All N checks passed" while some check judged nothing.
    if !judged.not_judged.is_empty() {
        let n = judged.not_judged.len();
        if parts.is_empty() && judged.passed > 0 {
            parts.push(format!("{} passed.", count(judged.passed)));
        }
        let not = list(judged.not_judged);
        parts.push(format!("{} not judged (no history yet): {not}.", count(n)));
    }
    if parts.is_empty() {
        return format!("All {} checks passed.", judged.passed);
    }
    parts.join(" ")
}

fn count(n: usize) -> String {
    if n == 1 { "1 check".to_owned() } else { format!("{n} checks") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(passed: usize) -> Judged<'static> {
        Judged { passed, not_judged: &[] }
    }

    #[test]
    fn checks_not_judged_are_never_all_passed() {
        let not_judged = ["growth".to_owned()];
        let text = statement(Judged { passed: 2, not_judged: &not_judged }, &[], &[], &[], true);
        assert_eq!(text, "2 checks passed. 1 check not judged (no history yet): growth.");
        let alone = statement(Judged { passed: 0, not_judged: &not_judged }, &[], &[], &[], true);
        assert_eq!(alone, "1 check not judged (no history yet): growth.");
    }

    #[test]
    fn a_clean_statement_counts_the_passed_checks() {
        assert_eq!(statement(ok(3), &[], &[], &[], true), "All 3 checks passed.");
    }

    #[test]
    fn failures_and_pending_items_are_named() {
        let text = statement(ok(1), &["db".into()], &["news".into(), "logs".into()], &["flatten".into()], true);
        assert_eq!(text, "1 check failed: db. 2 checks pending: news, logs. 1 action not confirmed: flatten.");
    }

    #[test]
    fn an_interrupted_run_is_never_clean() {
        assert_eq!(statement(ok(2), &[], &[], &[], false), "The run was interrupted.");
    }
}
