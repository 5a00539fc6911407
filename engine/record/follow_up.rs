//! A follow-up run (`run --rerun-failed ID`): which steps of an earlier run are run again,
//! and the link from the new record back to that run, which every report shows.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{RunRecord, StepResult, Verdict};

/// The earlier run a follow-up ran again the unfinished business of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FollowUp {
    /// The earlier run's id in the history.
    pub run: i64,
    /// When the earlier run started, RFC 3339 UTC.
    pub started_at: String,
    /// The earlier run's verdict.
    pub verdict: Verdict,
    /// The steps run again because of the earlier run (it failed, errored, left them pending
    /// or left an action unconfirmed), with their verdict there. The steps they need also ran
    /// again but are not listed. Every step of the earlier run not here keeps its verdict there.
    pub was: BTreeMap<String, Verdict>,
    /// Steps the earlier run failed, errored or left pending that the playbook no longer has:
    /// not run again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gone: Vec<String>,
}

/// Whether `step` of an earlier run is run again by a follow-up: it kept that run from being
/// clean (failed, errored, a manual step nobody answered, an action not confirmed).
pub fn wants_rerun(step: &StepResult) -> bool {
    step.verdict.is_bad() || step.verdict == Verdict::Pending || step.is_unconfirmed_action()
}

impl FollowUp {
    /// The link from a follow-up of run `id`, whose record is `earlier`, to that run: the steps
    /// to run again among `known` (the playbook's step ids now), the others listed as gone.
    pub fn of(id: i64, earlier: &RunRecord, known: &[&str]) -> Self {
        let (was, gone): (Vec<&StepResult>, Vec<&StepResult>) =
            earlier.steps.iter().filter(|s| wants_rerun(s)).partition(|s| known.contains(&s.id.as_str()));
        Self {
            run: id,
            started_at: earlier.started.clone(),
            verdict: earlier.verdict,
            was: was.into_iter().map(|s| (s.id.clone(), s.verdict)).collect(),
            gone: gone.into_iter().map(|s| s.id.clone()).collect(),
        }
    }

    /// How many of the steps run again now pass (or only warn), as judged in `record`.
    pub fn now_ok(&self, record: &RunRecord) -> usize {
        record.steps.iter().filter(|s| self.was.contains_key(&s.id) && s.verdict.is_ok()).count()
    }

    /// One line for every report: `follow-up of run 12 (started …, fail): 2 of its steps run
    /// again, 1 now passes; steps not run again keep their verdicts in run 12`.
    pub fn describe(&self, record: &RunRecord) -> String {
        let again = self.was.len();
        let plural = if again == 1 { "step" } else { "steps" };
        let ok = self.now_ok(record);
        let verb = if ok == 1 { "passes" } else { "pass" };
        let gone = if self.gone.is_empty() {
            String::new()
        } else {
            format!("; no longer in the playbook, not run again: {}", self.gone.join(", "))
        };
        format!(
            "follow-up of run {} (started {}, {}): {again} of its {plural} run again, {ok} now {verb}{gone}; \
             steps not run again keep their verdicts in run {}",
            self.run,
            self.started_at,
            self.verdict.name(),
            self.run
        )
    }

    /// `was fail in run 12` for a step run again because of the earlier run.
    pub fn was_note(&self, step_id: &str) -> Option<String> {
        self.was.get(step_id).map(|v| format!("was {} in run {}", v.name(), self.run))
    }
}

impl RunRecord {
    /// The follow-up line of a follow-up run, for reports.
    pub fn follow_up_note(&self) -> Option<String> {
        self.follow_up_of.as_ref().map(|f| f.describe(self))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A finished run whose steps have these (id, verdict), the last an action left unconfirmed.
    fn earlier(steps: &[(&str, &str)]) -> RunRecord {
        let mut steps: Vec<serde_json::Value> = steps
            .iter()
            .map(|(id, verdict)| {
                json!({"id": id, "section": "S", "title": id, "kind": "shell", "verdict": verdict,
                       "message": "", "captured": {}, "duration_ms": 0, "attempts": 1})
            })
            .collect();
        steps.push(json!({"id": "act", "section": "S", "title": "act", "kind": "http", "verdict": "skipped",
            "message": "not confirmed", "captured": {}, "duration_ms": 0, "attempts": 0,
            "confirmation": {"confirmed": false, "by": "ops", "how": "no terminal", "at": "2026-01-01T00:00:00Z"}}));
        crate::record::complete_run_of(steps)
    }

    #[test]
    fn what_kept_a_run_from_clean_is_run_again_and_steps_gone_are_listed() {
        let run = earlier(&[
            ("ok", "pass"),
            ("w", "warn"),
            ("f", "fail"),
            ("e", "error"),
            ("s", "skipped"),
            ("m", "pending"),
            ("wa", "waived"),
            ("old", "fail"),
        ]);
        let link = FollowUp::of(7, &run, &["ok", "w", "f", "e", "s", "m", "wa", "act"]);
        let again: Vec<&str> = link.was.keys().map(String::as_str).collect();
        assert_eq!(again, ["act", "e", "f", "m"]);
        assert_eq!(link.was["f"], Verdict::Fail);
        assert_eq!(link.gone, ["old"]);
        assert_eq!((link.run, link.verdict), (7, Verdict::Error));
        assert_eq!(link.was_note("e").as_deref(), Some("was error in run 7"));
        assert_eq!(link.was_note("ok"), None);
    }

    #[test]
    fn the_note_counts_the_steps_that_now_pass() {
        let link = FollowUp::of(3, &earlier(&[("f", "fail"), ("e", "error")]), &["f", "e"]);
        let mut now = earlier(&[("f", "pass"), ("e", "error")]);
        now.follow_up_of = Some(link);
        let note = now.follow_up_note().unwrap();
        let expected = "follow-up of run 3 (started 2026-01-01T00:00:00Z, error): 2 of its steps run again, 1 now passes; \
                        no longer in the playbook, not run again: act; steps not run again keep their verdicts in run 3";
        assert_eq!(note, expected);
    }
}
