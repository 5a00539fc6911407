//! Waivers: a known exception turns a step's `fail` into `waived` until its
//! expiry date; after it the step fails and names the waiver. Only a `fail`
//! is waived: an `error` means nothing was observed, so there is nothing to accept.

use chrono::NaiveDate;

use super::{StepResult, Verdict, Waiver};

/// `step` as the waivers make it on `today`.
pub fn judge(mut step: StepResult, waivers: &[Waiver], today: NaiveDate) -> StepResult {
    if step.verdict != Verdict::Fail {
        return step;
    }
    let Some(waiver) = waivers.iter().find(|w| w.step == step.id) else { return step };
    // A date that does not parse was refused by validation; treat it as expired, never as forever.
    let expired = NaiveDate::parse_from_str(&waiver.expires, "%Y-%m-%d").map_or(true, |last| today > last);
    if expired {
        step.message = format!("{}; the waiver expired: {}", step.message, waiver.describe());
    } else {
        step.verdict = Verdict::Waived;
        step.message = format!("{}; accepted by a waiver: {}", step.message, waiver.describe());
    }
    step.waiver = Some(Waiver { expired, ..waiver.clone() });
    step
}
