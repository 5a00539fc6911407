//! Rollups for `--stats`: per playbook, UTC day and month, step and capture
//! name, the verdict counts and a histogram of the numbers (`stat_rollups`).
//! They are brought up to date lazily by the reader, so a run pays nothing:
//! `stats` first counts the finished runs not yet counted (`runs.rolled_up`
//! NULL; a mark per run, since runs finish out of id order), a chunk of runs
//! per transaction, then answers from rollup rows alone. Pruning counts the
//! runs it removes first, so the stats outlive the raw values.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;

use super::sketch::Sketch;

const DAY_MS: i64 = 86_400_000;

/// Runs counted per transaction: bounds what one catch-up holds in memory and locks.
pub(crate) const CHUNK: i64 = 200;

/// Rows per multi-row upsert (11 columns: far under both databases' bind limits).
pub(crate) const UPSERT_BATCH: usize = 80;

/// Finished runs of `$1` not yet counted, older than the bound (`$2`, `$3`), oldest first.
pub(crate) const PENDING: &str = "SELECT id FROM runs WHERE playbook = $1 AND rolled_up IS NULL \
     AND status <> 'incomplete' AND (started_at < $2 OR (started_at = $2 AND id < $3)) ORDER BY id LIMIT $4";

/// Prefixes of the per-chunk reads; each is followed by the chunk's run ids.
pub(crate) const CHUNK_STEPS: &str = "SELECT step_id, verdict, at FROM run_steps WHERE run_id IN (";
pub(crate) const CHUNK_VALUES: &str =
    "SELECT step_id, name, num, at FROM run_values WHERE num IS NOT NULL AND run_id IN (";
pub(crate) const MARK: &str = "UPDATE runs SET rolled_up = 1 WHERE id IN (";

/// The rows of one period, to merge into.
pub(crate) const PERIOD_ROWS: &str = "SELECT step_id, name, judged, ok, fail, error, count, hist FROM stat_rollups \
     WHERE playbook = $1 AND grain = $2 AND period = $3";

pub(crate) const UPSERT: &str =
    "INSERT INTO stat_rollups (playbook, grain, period, step_id, name, judged, ok, fail, error, count, hist) ";
pub(crate) const UPSERT_CONFLICT: &str = " ON CONFLICT (playbook, grain, period, step_id, name) DO UPDATE SET \
     judged = excluded.judged, ok = excluded.ok, fail = excluded.fail, error = excluded.error, \
     count = excluded.count, hist = excluded.hist";

/// A window's rows: whole months from `$2` on, and the days `$3 <= d < $4` before them.
pub(crate) const WINDOW_ROWS: &str = "SELECT step_id, name, judged, ok, fail, error, count, hist FROM stat_rollups \
     WHERE playbook = $1 AND grain = 'm' AND period >= $2 \
     UNION ALL SELECT step_id, name, judged, ok, fail, error, count, hist FROM stat_rollups \
     WHERE playbook = $1 AND grain = 'd' AND period >= $3 AND period < $4";

/// A rollup row as read: step, name, judged, ok, fail, error, count, hist.
pub(crate) type Row = (String, String, i64, i64, i64, i64, i64, Option<String>);

/// Days since the epoch (UTC) of a time in milliseconds.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

fn date_of(day: i64) -> chrono::NaiveDate {
    // 719_163: days from 0001-01-01 (CE day 1) to 1970-01-01.
    i32::try_from(day + 719_163)
        .ok()
        .and_then(chrono::NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(chrono::NaiveDate::MIN)
}

/// Months since year 0 (UTC) of a day number.
fn month_of(day: i64) -> i64 {
    let date = date_of(day);
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// The day number of a month's first day.
fn first_day(month: i64) -> i64 {
    let date = i32::try_from(month.div_euclid(12))
        .ok()
        .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, u32::try_from(month.rem_euclid(12)).ok()? + 1, 1));
    date.map_or(i64::MIN, |d| d.signed_duration_since(date_of(0)).num_days())
}

/// The start of a window that begins at `since_ms`: the UTC midnight at or before it.
pub fn window_start(since_ms: i64) -> i64 {
    day_of(since_ms).saturating_mul(DAY_MS)
}

/// Where a window from `since_ms` reads: (first whole month, first day, the day that month starts).
pub(crate) fn window(since_ms: i64) -> (i64, i64, i64) {
    let start = day_of(since_ms);
    let month = if date_of(start).day() == 1 { month_of(start) } else { month_of(start) + 1 };
    (month, start, first_day(month))
}

/// One rollup row's content.
#[derive(Debug, Clone, Default)]
pub(crate) struct Agg {
    pub judged: i64,
    pub ok: i64,
    pub fail: i64,
    pub error: i64,
    pub sketch: Sketch,
}

impl Agg {
    pub fn of_row(row: &Row) -> Self {
        let sketch = row.7.as_deref().map(Sketch::decode).unwrap_or_default();
        Self { judged: row.2, ok: row.3, fail: row.4, error: row.5, sketch }
    }

    pub fn merge(&mut self, other: &Self) {
        self.judged += other.judged;
        self.ok += other.ok;
        self.fail += other.fail;
        self.error += other.error;
        self.sketch.merge(&other.sketch);
    }

    /// Counts one step verdict.
    fn verdict(&mut self, verdict: &str) {
        if matches!(verdict, "pass" | "warn" | "fail" | "error" | "waived") {
            self.judged += 1;
        }
        self.ok += i64::from(matches!(verdict, "pass" | "warn"));
        self.fail += i64::from(verdict == "fail");
        self.error += i64::from(verdict == "error");
    }

    pub fn count(&self) -> i64 {
        i64::try_from(self.sketch.count()).unwrap_or(i64::MAX)
    }

    /// The stored histogram: none for a verdict row.
    pub fn hist(&self) -> Option<String> {
        (self.sketch.count() > 0).then(|| self.sketch.encode())
    }
}

/// (grain, period, step, name): a rollup row's key within a playbook.
pub(crate) type Key = (&'static str, i64, String, String);

/// A chunk's counts, by rollup row.
#[derive(Default)]
pub(crate) struct Chunk {
    pub rows: BTreeMap<Key, Agg>,
}

impl Chunk {
    fn both_grains(&mut self, at: i64, step: &str, name: &str, add: impl Fn(&mut Agg)) {
        let day = day_of(at);
        for key in [("d", day), ("m", month_of(day))] {
            add(self.rows.entry((key.0, key.1, step.to_owned(), name.to_owned())).or_default());
        }
    }

    pub fn step(&mut self, step: &str, verdict: &str, at: i64) {
        self.both_grains(at, step, "", |agg| agg.verdict(verdict));
    }

    pub fn value(&mut self, step: &str, name: &str, num: f64, at: i64) {
        self.both_grains(at, step, name, |agg| agg.sketch.add(num));
    }

    /// The (grain, period) pairs the chunk touches.
    pub fn periods(&self) -> BTreeSet<(&'static str, i64)> {
        self.rows.keys().map(|(g, p, _, _)| (*g, *p)).collect()
    }

    /// Adds what is already stored for period (grain, period).
    pub fn merge_stored(&mut self, grain: &'static str, period: i64, stored: &[Row]) {
        for row in stored {
            let key = (grain, period, row.0.clone(), row.1.clone());
            if let Some(agg) = self.rows.get_mut(&key) {
                agg.merge(&Agg::of_row(row));
            }
        }
    }
}

/// Per step, the window's rows summed: verdict counts and capture sketches.
pub(crate) fn answer(rows: Vec<Row>) -> Vec<super::StepStats> {
    let mut steps: BTreeMap<String, (Agg, BTreeMap<String, Agg>)> = BTreeMap::new();
    for row in &rows {
        let (verdicts, captures) = steps.entry(row.0.clone()).or_default();
        let into = if row.1.is_empty() { verdicts } else { captures.entry(row.1.clone()).or_default() };
        into.merge(&Agg::of_row(row));
    }
    steps
        .into_iter()
        .map(|(step, (v, captures))| super::StepStats {
            step,
            judged: v.judged,
            ok: v.ok,
            fail: v.fail,
            error: v.error,
            captures: captures
                .into_iter()
                .filter_map(|(name, agg)| {
                    Some(super::CaptureStats {
                        count: agg.count(),
                        p50: agg.sketch.percentile(50)?,
                        p95: agg.sketch.percentile(95)?,
                        name,
                    })
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(date: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(date).unwrap().timestamp_millis()
    }

    #[test]
    fn days_and_months_are_utc_calendar_periods() {
        assert_eq!(day_of(ms("1970-01-01T23:59:59Z")), 0);
        assert_eq!(day_of(ms("1969-12-31T23:59:59Z")), -1);
        assert_eq!(month_of(day_of(ms("2026-11-30T12:00:00Z"))), 2026 * 12 + 10);
        assert_eq!(first_day(2026 * 12 + 11), day_of(ms("2026-12-01T00:00:00Z")));
        assert_eq!(window_start(ms("2026-11-25T13:14:15Z")), ms("2026-11-25T00:00:00Z"));
    }

    #[test]
    fn a_window_reads_whole_months_and_the_days_before_them() {
        // From the 25th: days 25..30 of November, then December on as months.
        let (month, first, until) = window(ms("2026-11-25T13:00:00Z"));
        assert_eq!(
            (month, first, until),
            (2026 * 12 + 11, day_of(ms("2026-11-25T00:00:00Z")), first_day(2026 * 12 + 11))
        );
        // From the 1st: that whole month, no days.
        let (month, first, until) = window(ms("2026-11-01T08:00:00Z"));
        assert_eq!((month, first), (2026 * 12 + 10, until));
    }
}
