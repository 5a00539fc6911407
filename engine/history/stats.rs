//! `runbook history PLAYBOOK --stats`: per step, how often it came out well and
//! the spread (p50, p95) of its numeric captures over a window. Both are one
//! SQL aggregation each (the verdicts off `run_steps_by_time`, the percentiles
//! with window functions over `run_values`), so no run or record is read into
//! memory however large the store.

use serde::Serialize;

/// One step over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepStats {
    pub step: String,
    /// Runs in which the step was judged (pass, warn, fail, error, waived).
    pub judged: i64,
    /// Of those, pass or warn: the step's check held.
    pub ok: i64,
    pub fail: i64,
    pub error: i64,
    pub captures: Vec<CaptureStats>,
}

impl StepStats {
    /// `ok / judged` as a percentage (0 when never judged).
    pub fn ok_pct(&self) -> f64 {
        if self.judged == 0 { 0.0 } else { 100.0 * self.ok as f64 / self.judged as f64 }
    }
}

/// The spread of one numeric capture: nearest-rank percentiles.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaptureStats {
    pub name: String,
    pub count: i64,
    pub p50: f64,
    pub p95: f64,
}

pub(crate) const STEP_VERDICTS: &str = "SELECT step_id, COUNT(*), \
     SUM(CASE WHEN verdict IN ('pass', 'warn') THEN 1 ELSE 0 END), \
     SUM(CASE WHEN verdict = 'fail' THEN 1 ELSE 0 END), SUM(CASE WHEN verdict = 'error' THEN 1 ELSE 0 END) \
     FROM run_steps WHERE playbook = $1 AND at >= $2 AND verdict IN ('pass', 'warn', 'fail', 'error', 'waived') \
     GROUP BY step_id";

/// Nearest rank: the p-th percentile of n sorted values is the ceil(p * n / 100)-th.
pub(crate) const CAPTURE_PERCENTILES: &str = "SELECT step_id, name, MAX(n), \
     MIN(CASE WHEN rn = (50 * n + 99) / 100 THEN num END), MIN(CASE WHEN rn = (95 * n + 99) / 100 THEN num END) \
     FROM (SELECT step_id, name, num, ROW_NUMBER() OVER (PARTITION BY step_id, name ORDER BY num) AS rn, \
     COUNT(*) OVER (PARTITION BY step_id, name) AS n FROM run_values \
     WHERE playbook = $1 AND at >= $2 AND num IS NOT NULL) ranked GROUP BY step_id, name";

/// Joins the two aggregations: steps in the verdicts' order of first appearance, sorted by id.
pub(crate) fn assemble(
    verdicts: Vec<(String, i64, i64, i64, i64)>,
    percentiles: Vec<(String, String, i64, f64, f64)>,
) -> Vec<StepStats> {
    let mut steps: std::collections::BTreeMap<String, StepStats> = verdicts
        .into_iter()
        .map(|(step, judged, ok, fail, error)| {
            (step.clone(), StepStats { step, judged, ok, fail, error, captures: Vec::new() })
        })
        .collect();
    for (step, name, count, p50, p95) in percentiles {
        let entry = steps.entry(step.clone()).or_insert_with(|| StepStats {
            step,
            judged: 0,
            ok: 0,
            fail: 0,
            error: 0,
            captures: Vec::new(),
        });
        entry.captures.push(CaptureStats { name, count, p50, p95 });
    }
    let mut all: Vec<StepStats> = steps.into_values().collect();
    all.iter_mut().for_each(|s| s.captures.sort_by(|a, b| a.name.cmp(&b.name)));
    all
}

/// Implements `stats_of` for a store over database `$db`.
macro_rules! impl_stats {
    ($store:ty, $db:ty) => {
        impl $store {
            pub(crate) async fn stats_of(
                pool: &sqlx::Pool<$db>,
                playbook: &str,
                since_ms: i64,
            ) -> Result<Vec<$crate::history::StepStats>, $crate::history::HistoryError> {
                use $crate::history::stats as s;
                let verdicts = sqlx::query_as(s::STEP_VERDICTS).bind(playbook).bind(since_ms).fetch_all(pool).await?;
                let percentiles =
                    sqlx::query_as(s::CAPTURE_PERCENTILES).bind(playbook).bind(since_ms).fetch_all(pool).await?;
                Ok(s::assemble(verdicts, percentiles))
            }
        }
    };
}
pub(crate) use impl_stats;
