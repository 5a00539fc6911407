//! The sign-off block. Its state (clean or not, what failed, what is
//! pending) is derived from the steps whenever they change; the operator and
//! the time are added once someone signs. "Clean" is strict: a complete run
//! with nothing failed, errored or pending and no action left unconfirmed —
//! warnings are allowed.

use chrono::{DateTime, Local, SecondsFormat, Utc};

use super::{Countersign, RunRecord, RunStatus, SignOff, Verdict};

/// The most sign-offs a playbook may require (`signoff: { required: N }`).
pub const MAX_REQUIRED: u32 = 5;

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
    signoff.progress = progress(signoff);
}

/// Adds the countersigns kept beside a stored record, and says again how far the sign-off got.
pub fn countersigned(record: &mut RunRecord, countersigns: Vec<Countersign>) {
    record.signoff.countersigns = countersigns;
    record.signoff.progress = progress(&record.signoff);
}

/// How many different people signed: the operator, then each countersign.
pub fn signers(signoff: &SignOff) -> u32 {
    u32::from(signoff.operator.is_some()) + u32::try_from(signoff.countersigns.len()).unwrap_or(u32::MAX)
}

/// Whether as many people signed as the playbook requires.
pub fn is_signed_off(signoff: &SignOff) -> bool {
    signers(signoff) >= signoff.required.max(1)
}

/// `signed off (2 of 2)`, `awaiting countersign (1 of 2)` or `not signed off (0 of 2)`; `None`
/// for a run that needs one sign-off and has no countersign, so such runs read as before.
fn progress(signoff: &SignOff) -> Option<String> {
    let required = signoff.required.max(1);
    if required == 1 && signoff.countersigns.is_empty() {
        return None;
    }
    let signed = signers(signoff);
    let state = match signed {
        n if n >= required => "signed off",
        0 => "not signed off",
        _ => "awaiting countersign",
    };
    Some(format!("{state} ({signed} of {required})"))
}

/// Every sign-off as one line each (`sign-off 2: bob at 2026-…Z, key 65A7…`) after the
/// progress (`awaiting countersign (1 of 2)`); `None` when the run reads as it always did.
pub fn described(signoff: &SignOff) -> Option<(String, Vec<String>)> {
    let progress = signoff.progress.clone()?;
    let key = |id: &Option<String>| id.as_ref().map(|k| format!(", key {k}")).unwrap_or_default();
    let mut lines = Vec::new();
    if let Some(operator) = &signoff.operator {
        let at = signoff.signed_utc.as_deref().unwrap_or("-");
        lines.push(format!("sign-off 1: {operator} at {at}{}", key(&signoff.key_id)));
    }
    for c in &signoff.countersigns {
        lines.push(format!("sign-off {}: {} at {}{}", c.seq, c.operator, c.signed_utc, key(&c.key_id)));
    }
    Some((progress, lines))
}

/// The same person, however they typed their name: trimmed, case ignored.
pub fn same_person(a: &str, b: &str) -> bool {
    person_key(a) == person_key(b)
}

/// A name as compared for "the same person".
pub fn person_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Serde's default for `required`.
pub fn one() -> u32 {
    1
}

/// Whether `required` is the default (0 is an older record: also one).
pub fn is_one(n: &u32) -> bool {
    *n <= 1
}

/// Records who signed, at `now`, shown in UTC and in local time.
pub fn sign(record: &mut RunRecord, operator: &str, now: DateTime<Utc>) {
    assess(record);
    record.signoff.operator = Some(operator.to_owned());
    record.signoff.signed_utc = Some(now.to_rfc3339_opts(SecondsFormat::Secs, true));
    record.signoff.signed_local = Some(now.with_timezone(&Local).to_rfc3339_opts(SecondsFormat::Secs, false));
    record.signoff.progress = progress(&record.signoff);
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
    fn a_second_sign_off_is_awaited_until_someone_else_countersigns() {
        let mut signoff = SignOff { required: 2, ..Default::default() };
        assert_eq!(progress(&signoff).as_deref(), Some("not signed off (0 of 2)"));
        signoff.operator = Some("alice".into());
        assert_eq!(progress(&signoff).as_deref(), Some("awaiting countersign (1 of 2)"));
        assert!(!is_signed_off(&signoff));
        let bob = Countersign {
            seq: 2,
            operator: "bob".into(),
            signed_utc: "2026-01-01T00:00:00Z".into(),
            key_id: None,
            over_hash: "00".into(),
        };
        signoff.countersigns.push(bob);
        assert_eq!(progress(&signoff).as_deref(), Some("signed off (2 of 2)"));
        assert!(is_signed_off(&signoff));
        assert_eq!(progress(&SignOff { required: 1, operator: Some("a".into()), ..Default::default() }), None);
        assert!(same_person(" Alice ", "alice") && !same_person("alice", "alicia"));
    }

    #[test]
    fn an_interrupted_run_is_never_clean() {
        assert_eq!(statement(ok(2), &[], &[], &[], false), "The run was interrupted.");
    }
}
