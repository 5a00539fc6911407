//! The history a run judges against, loaded once before the run so that
//! `prev`, `avg`, `max_of` and `min_of` are in-memory, synchronous look-ups.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::StoredValue;
use super::backend::{RunValue, StepValue, ValueRead};
use crate::expr::{History, HistoryRead};
use crate::runner::{ActionRuns, HistorySource};

/// One step's earlier values, by name, newest first.
#[derive(Debug, Default)]
pub struct StepHistory {
    by_name: BTreeMap<String, Vec<(i64, Value)>>,
    /// When this run started (ms since the epoch): `prev(x, "24h")` counts back from here.
    now_ms: i64,
}

impl StepHistory {
    /// `values` newest first, as the store returns them.
    pub fn new(values: Vec<StoredValue>, now_ms: i64) -> Self {
        let mut by_name: BTreeMap<String, Vec<(i64, Value)>> = BTreeMap::new();
        for v in values {
            by_name.entry(v.name).or_default().push((v.at, v.value));
        }
        Self { by_name, now_ms }
    }
}

impl StepHistory {
    /// How many values were loaded, of every name.
    pub fn loaded(&self) -> usize {
        self.by_name.values().map(Vec::len).sum()
    }
}

/// One query per name and reach: the largest count of a name's `Recent` reads
/// (the others are its prefix) and each distinct age.
pub(crate) fn merged(reads: &[HistoryRead]) -> Vec<HistoryRead> {
    let mut out: Vec<HistoryRead> = Vec::new();
    for read in reads {
        let same = out.iter_mut().find(|r| match (r, read) {
            (HistoryRead::Recent { name, .. }, HistoryRead::Recent { name: n, .. }) => name == n,
            (r, read) => *r == read,
        });
        match (same, read) {
            (Some(HistoryRead::Recent { count, .. }), HistoryRead::Recent { count: c, .. }) => {
                *count = (*count).max(*c)
            }
            (Some(_), _) => {}
            (None, read) => out.push(read.clone()),
        }
    }
    out
}

/// The stored form of one (merged) read of `step_id`: how many values, up to when.
pub(crate) fn value_read<'a>(step_id: &'a str, read: &'a HistoryRead, now_ms: i64) -> ValueRead<'a> {
    let (cutoff_ms, limit) = match read {
        HistoryRead::Recent { count, .. } => (i64::MAX, i64::try_from(*count).unwrap_or(i64::MAX)),
        HistoryRead::Before { age, .. } => (now_ms.saturating_sub(super::prune::millis_of(*age)), 1),
        HistoryRead::Unbounded => (i64::MAX, 0),
    };
    ValueRead { step_id, name: read.name(), cutoff_ms, limit }
}

/// The runs that answer `reads` (each: the newest `limit` values at or before `cutoff_ms`)
/// when every run holds the value read: per distinct cutoff, its largest limit.
pub(crate) fn runs_wanted(reads: &[ValueRead<'_>]) -> BTreeMap<i64, i64> {
    let mut wanted: BTreeMap<i64, i64> = BTreeMap::new();
    for read in reads.iter().filter(|r| r.limit > 0) {
        let limit = wanted.entry(read.cutoff_ms).or_default();
        *limit = (*limit).max(read.limit);
    }
    wanted
}

/// Answers `reads` from `values`, the values of `runs` (per cutoff, the newest runs at or
/// before it, newest first, at most as many as [`runs_wanted`] said). A read those runs do
/// not fill (a run without that value: a step skipped, failed or added since) while older
/// runs may exist is returned to be walked back further.
pub(crate) fn answer<'r>(
    reads: &'r [ValueRead<'r>],
    runs: &BTreeMap<i64, Vec<i64>>,
    values: &[RunValue],
) -> (Vec<StepValue>, Vec<&'r ValueRead<'r>>) {
    let wanted = runs_wanted(reads);
    let by_key: HashMap<(i64, &str, &str), &super::StoredValue> =
        values.iter().map(|(run, step, v)| ((*run, step.as_str(), v.name.as_str()), v)).collect();
    let (mut found, mut walks) = (Vec::new(), Vec::new());
    for read in reads.iter().filter(|r| r.limit > 0) {
        let ids = runs.get(&read.cutoff_ms).map(Vec::as_slice).unwrap_or_default();
        let limit = usize::try_from(read.limit).unwrap_or(usize::MAX);
        let held: Vec<_> = ids
            .iter()
            .filter_map(|id| by_key.get(&(*id, read.step_id, read.name)))
            .take(limit)
            .map(|v| (read.step_id.to_owned(), (*v).clone()))
            .collect();
        let older_runs_may_hold_it = i64::try_from(ids.len()).ok() == wanted.get(&read.cutoff_ms).copied();
        if held.len() < limit && older_runs_may_hold_it {
            walks.push(read);
        } else {
            found.extend(held);
        }
    }
    (found, walks)
}

/// Several reads' values as one list, newest first, each stored value once
/// (a name's newest value can answer both `prev(x)` and `prev(x, "1m")`).
pub(crate) fn newest_first(mut values: Vec<StoredValue>) -> Vec<StoredValue> {
    values.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.name.cmp(&b.name)));
    values.dedup();
    values
}

impl History for StepHistory {
    fn recent(&self, name: &str, limit: usize) -> Vec<Value> {
        self.by_name
            .get(name)
            .map(|values| values.iter().take(limit).map(|(_, v)| v.clone()).collect())
            .unwrap_or_default()
    }

    fn at_least(&self, name: &str, age: Duration) -> Option<Value> {
        let age_ms = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
        let cutoff = self.now_ms.saturating_sub(age_ms);
        self.by_name.get(name)?.iter().find(|(at, _)| *at <= cutoff).map(|(_, v)| v.clone())
    }
}

/// The loaded history of a playbook's steps.
pub struct PlaybookHistory {
    steps: BTreeMap<String, Arc<StepHistory>>,
    empty: Arc<StepHistory>,
    /// For each action step with `max_runs`: its runs within the period, on this host.
    action_runs: BTreeMap<String, ActionRuns>,
}

impl PlaybookHistory {
    pub fn new(steps: BTreeMap<String, StepHistory>, now_ms: i64) -> Self {
        let steps = steps.into_iter().map(|(id, h)| (id, Arc::new(h))).collect();
        Self { steps, empty: Arc::new(StepHistory { by_name: BTreeMap::new(), now_ms }), action_runs: BTreeMap::new() }
    }

    /// Adds how often action `step_id` ran within its `max_runs` period.
    pub fn count_action_runs(&mut self, step_id: &str, runs: ActionRuns) {
        self.action_runs.insert(step_id.to_owned(), runs);
    }
}

impl PlaybookHistory {
    /// What was loaded for `step_id` (`None`: nothing, the step reads no history).
    pub fn step(&self, step_id: &str) -> Option<&StepHistory> {
        self.steps.get(step_id).map(|h| &**h)
    }
}

impl HistorySource for PlaybookHistory {
    fn for_step(&self, step_id: &str) -> Option<Arc<dyn History>> {
        let history = self.steps.get(step_id).unwrap_or(&self.empty);
        Some(Arc::clone(history) as Arc<dyn History>)
    }

    fn action_runs(&self, step_id: &str) -> Option<ActionRuns> {
        self.action_runs.get(step_id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn history() -> StepHistory {
        let value = |name: &str, hours_ago: i64, v: i64| StoredValue {
            name: name.to_owned(),
            at: 100 * HOUR - hours_ago * HOUR,
            value: Value::from(v),
        };
        StepHistory::new(
            vec![value("size", 1, 30), value("other", 2, 7), value("size", 25, 20), value("size", 49, 10)],
            100 * HOUR,
        )
    }

    #[test]
    fn reads_of_one_name_merge_into_one_query_per_reach() {
        let recent = |count| HistoryRead::Recent { name: "x".to_owned(), count };
        let day = HistoryRead::Before { name: "x".to_owned(), age: Duration::from_secs(86_400) };
        assert_eq!(merged(&[recent(1), recent(30), day.clone(), recent(5), day.clone()]), [recent(30), day]);
    }

    fn run_value(run: i64, step: &str, name: &str, v: i64) -> RunValue {
        (run, step.to_owned(), StoredValue { name: name.to_owned(), at: run * HOUR, value: Value::from(v) })
    }

    #[test]
    fn reads_are_answered_from_the_newest_runs_or_walked_back() {
        let read = |name, cutoff_ms, limit| ValueRead { step_id: "s", name, cutoff_ms, limit };
        let reads =
            [read("up", i64::MAX, 2), read("up", i64::MAX, 1), read("gone", i64::MAX, 1), read("up", 5 * HOUR, 1)];
        assert_eq!(runs_wanted(&reads), BTreeMap::from([(5 * HOUR, 1), (i64::MAX, 2)]));
        let runs = BTreeMap::from([(i64::MAX, vec![9, 8]), (5 * HOUR, vec![5])]);
        let values = [run_value(9, "s", "up", 90), run_value(8, "s", "up", 80), run_value(8, "other", "up", 1)];
        let (found, walks) = answer(&reads, &runs, &values);
        let got: Vec<_> = found.iter().map(|(step, v)| (step.as_str(), v.value.clone())).collect();
        assert_eq!(got, [("s", Value::from(90)), ("s", Value::from(80)), ("s", Value::from(90))]);
        // "gone" is in neither newest run, and run 5 lacks "up": older runs may hold them.
        assert_eq!(walks, [&reads[2], &reads[3]]);
        // Fewer runs than asked for: there are no older ones, so nothing to walk.
        let few = BTreeMap::from([(i64::MAX, vec![9]), (5 * HOUR, vec![])]);
        let (found, walks) = answer(&reads, &few, &values);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(walks.is_empty(), "{walks:?}");
    }

    #[test]
    fn recent_is_newest_first_and_limited() {
        assert_eq!(history().recent("size", 2), vec![Value::from(30), Value::from(20)]);
        assert_eq!(history().recent("size", 10).len(), 3);
        assert!(history().recent("nothing", 3).is_empty());
    }

    #[test]
    fn at_least_finds_the_newest_value_that_old() {
        let h = history();
        assert_eq!(h.at_least("size", Duration::from_secs(24 * 3600)), Some(Value::from(20)));
        assert_eq!(h.at_least("size", Duration::from_secs(3600)), Some(Value::from(30)));
        assert_eq!(h.at_least("size", Duration::from_secs(48 * 3600)), Some(Value::from(10)));
        assert_eq!(h.at_least("size", Duration::from_secs(50 * 3600)), None);
    }
}
