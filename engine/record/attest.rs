//! `attests`: an item that vouches for earlier steps ("All health checks
//! passed"). When one of them failed or errored the item fails, naming them;
//! it is never skipped, and no answer can pass it over the evidence.

use super::{RunRecord, Verdict};

/// Why an item attesting `evidence` (step id, verdict) must fail, if one failed or errored.
pub fn blocked<'a>(evidence: impl IntoIterator<Item = (&'a str, Verdict)>) -> Option<String> {
    let bad: Vec<String> =
        evidence.into_iter().filter(|(_, v)| v.is_bad()).map(|(id, v)| format!("`{id}` {}", past(v))).collect();
    (!bad.is_empty()).then(|| format!("blocked by the evidence it attests: {}", bad.join(", ")))
}

fn past(verdict: Verdict) -> &'static str {
    if verdict == Verdict::Error { "errored" } else { "failed" }
}

/// Why step `index` of `record` must fail for its attested evidence, if it must.
pub fn blocker(record: &RunRecord, index: usize) -> Option<String> {
    let steps = &record.steps;
    let evidence = steps[index]
        .attests
        .iter()
        .filter_map(|id| steps.iter().find(|s| &s.id == id).map(|s| (s.id.as_str(), s.verdict)));
    blocked(evidence)
}

/// Fails every step whose attested evidence failed or errored (after answers changed
/// verdicts; an item may attest another item, so until nothing changes). Returns the
/// indices of the steps it failed.
pub fn enforce(record: &mut RunRecord) -> Vec<usize> {
    let mut failed = Vec::new();
    loop {
        let next = (0..record.steps.len()).find_map(|i| {
            let step = &record.steps[i];
            // An error already says more than a failure would.
            if step.attests.is_empty() || step.verdict.is_bad() {
                return None;
            }
            blocker(record, i).map(|why| (i, why))
        });
        let Some((i, why)) = next else { return failed };
        let step = &mut record.steps[i];
        step.verdict = Verdict::Fail;
        step.message = why;
        failed.push(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_and_errored_evidence_is_named() {
        let why = blocked([("a", Verdict::Pass), ("b", Verdict::Fail), ("c", Verdict::Error), ("d", Verdict::Skipped)]);
        assert_eq!(why.as_deref(), Some("blocked by the evidence it attests: `b` failed, `c` errored"));
    }

    #[test]
    fn passing_evidence_blocks_nothing() {
        assert_eq!(blocked([("a", Verdict::Pass), ("b", Verdict::Warn), ("c", Verdict::Pending)]), None);
    }
}
