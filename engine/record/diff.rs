//! What changed between two runs of a playbook: verdicts that changed,
//! captured values that moved (numbers with the change in percent), steps
//! added or removed. `runbook diff` prints it; nothing here reads a store.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::{RunRecord, StepResult, Verdict};

/// A step whose verdict changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictChange {
    pub id: String,
    pub title: String,
    pub before: Verdict,
    pub after: Verdict,
    /// The later run's message (the observed values when it failed).
    pub message: String,
}

/// A captured value that is not what it was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueChange {
    pub step: String,
    pub name: String,
    pub before: Value,
    pub after: Value,
    /// `(after - before) / |before| * 100` when both are numbers and `before` is not 0.
    pub change_pct: Option<f64>,
}

/// Everything that differs, `before` → `after`.
#[derive(Debug, Clone, Serialize)]
pub struct RunDiff {
    pub verdict: (Verdict, Verdict),
    pub verdicts: Vec<VerdictChange>,
    pub values: Vec<ValueChange>,
    /// Steps only the later run has, and only the earlier one.
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

impl RunDiff {
    pub fn between(before: &RunRecord, after: &RunRecord) -> Self {
        let old: BTreeMap<&str, &StepResult> = before.steps.iter().map(|s| (s.id.as_str(), s)).collect();
        let new_ids: BTreeSet<&str> = after.steps.iter().map(|s| s.id.as_str()).collect();
        let mut verdicts = Vec::new();
        let mut values = Vec::new();
        let mut added = Vec::new();
        for step in &after.steps {
            let Some(was) = old.get(step.id.as_str()) else {
                added.push(step.id.clone());
                continue;
            };
            if was.verdict != step.verdict {
                verdicts.push(VerdictChange {
                    id: step.id.clone(),
                    title: step.title.clone(),
                    before: was.verdict,
                    after: step.verdict,
                    message: step.message.clone(),
                });
            }
            values.extend(moved(&step.id, &was.captured, &step.captured));
        }
        let removed = before.steps.iter().filter(|s| !new_ids.contains(s.id.as_str())).map(|s| s.id.clone()).collect();
        Self { verdict: (before.verdict, after.verdict), verdicts, values, added, removed }
    }

    pub fn is_empty(&self) -> bool {
        self.verdicts.is_empty() && self.values.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }
}

/// The captures of one step that differ (a name only one side has counts, as `null` on the other).
fn moved(step: &str, before: &BTreeMap<String, Value>, after: &BTreeMap<String, Value>) -> Vec<ValueChange> {
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let (b, a) = (before.get(name).unwrap_or(&Value::Null), after.get(name).unwrap_or(&Value::Null));
            (b != a).then(|| ValueChange {
                step: step.to_owned(),
                name: name.clone(),
                before: b.clone(),
                after: a.clone(),
                change_pct: percent(b, a),
            })
        })
        .collect()
}

fn percent(before: &Value, after: &Value) -> Option<f64> {
    let number = |v: &Value| v.as_f64().or_else(|| v.as_str()?.trim().parse().ok());
    let (b, a) = (number(before)?, number(after)?);
    (b != 0.0 && b.is_finite() && a.is_finite()).then(|| (a - b) / b.abs() * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(steps: &[(&str, Verdict, Value)]) -> RunRecord {
        let steps: Vec<Value> = steps
            .iter()
            .map(|(id, verdict, captured)| {
                serde_json::json!({"id": id, "section": "s", "title": id.to_uppercase(), "kind": "shell",
                    "verdict": verdict, "severity": "critical", "message": "", "captured": captured,
                    "duration_ms": 0, "attempts": 1})
            })
            .collect();
        serde_json::from_value(serde_json::json!({"playbook": "p", "file": "p.yaml", "host": "h",
            "started": "2026-12-01T00:00:00Z", "finished": "2026-12-01T00:00:01Z", "duration_ms": 1,
            "status": "complete", "vars": {}, "sections": ["s"], "counts": serde_json::to_value(crate::record::Counts::default()).unwrap(),
            "verdict": "pass", "steps": steps}))
        .expect("a record")
    }

    #[test]
    fn verdicts_values_and_steps_that_changed_are_listed() {
        let before = record(&[
            ("disk", Verdict::Pass, serde_json::json!({"used": 40, "mount": "/"})),
            ("api", Verdict::Pass, serde_json::json!({})),
            ("gone", Verdict::Pass, serde_json::json!({})),
        ]);
        let after = record(&[
            ("disk", Verdict::Fail, serde_json::json!({"used": "50", "mount": "/"})),
            ("api", Verdict::Pass, serde_json::json!({"latency": 3})),
            ("new", Verdict::Pass, serde_json::json!({})),
        ]);
        let diff = RunDiff::between(&before, &after);
        assert_eq!(diff.verdicts.len(), 1);
        assert_eq!((diff.verdicts[0].before, diff.verdicts[0].after), (Verdict::Pass, Verdict::Fail));
        assert_eq!(diff.values.len(), 2, "{:?}", diff.values);
        let used = diff.values.iter().find(|v| v.name == "used").unwrap();
        assert_eq!(used.change_pct, Some(25.0), "numbers kept as text compare as numbers");
        let latency = diff.values.iter().find(|v| v.name == "latency").unwrap();
        assert_eq!((latency.before.clone(), latency.change_pct), (Value::Null, None));
        assert_eq!((diff.added.clone(), diff.removed.clone()), (vec!["new".to_owned()], vec!["gone".to_owned()]));
        assert!(RunDiff::between(&before, &before).is_empty());
    }
}
