//! `runbook history PLAYBOOK --stats`: per step, how often it came out well and
//! the spread (p50, p95) of its numeric captures over a window of whole UTC
//! days. Answered from rollups (history/rollup.rs) after counting the runs
//! finished since the last call, so the cost follows the window's days and
//! months, not the number of stored values; percentiles are within 0.5%.

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

/// The spread of one numeric capture: nearest-rank percentiles, within 0.5% (history/sketch.rs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaptureStats {
    pub name: String,
    pub count: i64,
    pub p50: f64,
    pub p95: f64,
}

/// A percentile as shown: four significant digits (the sketch is exact to 0.5%), `60.12`, `12350`.
pub fn shown(n: f64) -> String {
    if n == 0.0 || !n.is_finite() {
        return format!("{n}");
    }
    let digits = 3 - n.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits);
    let rounded = (n * scale).round() / scale;
    if digits <= 0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.*}", digits as usize).trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Implements `stats_of` (catch up, then read the window's rollups) and
/// `roll_up_in` (count some pending runs inside a write transaction) for a
/// store over database `$db`; `$begin` opens a write transaction and `$lock`
/// (if any) serialises catch-ups within one, so no run is counted twice.
macro_rules! impl_stats {
    ($store:ty, $db:ty, |$pool:ident| $begin:expr, $lock:expr) => {
        impl $store {
            pub(crate) async fn stats_of(
                &self,
                playbook: &str,
                since_ms: i64,
            ) -> Result<Vec<$crate::history::StepStats>, $crate::history::HistoryError> {
                use $crate::history::rollup as r;
                loop {
                    let $pool = &self.pool;
                    let mut tx = $begin.await?;
                    let counted = Self::roll_up_in(&mut tx, playbook, (i64::MAX, i64::MAX)).await?;
                    tx.commit().await?;
                    if counted < r::CHUNK {
                        break;
                    }
                }
                let (month, first_day, until) = r::window(since_ms);
                let rows: Vec<r::Row> = sqlx::query_as(r::WINDOW_ROWS)
                    .bind(playbook)
                    .bind(month)
                    .bind(first_day)
                    .bind(until)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(r::answer(rows))
            }

            /// Counts up to `CHUNK` finished, not yet counted runs of `playbook`
            /// older than `bound` (started_at, id) into the rollups and marks them;
            /// returns how many.
            pub(crate) async fn roll_up_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                playbook: &str,
                bound: (i64, i64),
            ) -> Result<i64, $crate::history::HistoryError> {
                use futures_util::TryStreamExt as _;
                use $crate::history::rollup as r;
                let lock: Option<&'static str> = $lock;
                if let Some(lock) = lock {
                    sqlx::query(lock).execute(&mut **tx).await?;
                }
                let ids: Vec<i64> = sqlx::query_scalar(r::PENDING)
                    .bind(playbook)
                    .bind(bound.0)
                    .bind(bound.1)
                    .bind(r::CHUNK)
                    .fetch_all(&mut **tx)
                    .await?;
                if ids.is_empty() {
                    return Ok(0);
                }
                // The ids are the store's own integers, written into the SQL as numbers.
                let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",") + ")";
                let mut chunk = r::Chunk::default();
                let mut steps = sqlx::QueryBuilder::<$db>::new(r::CHUNK_STEPS);
                steps.push(&list);
                let mut rows = steps.build_query_as::<(String, String, i64)>().persistent(false).fetch(&mut **tx);
                while let Some((step, verdict, at)) = rows.try_next().await? {
                    chunk.step(&step, &verdict, at);
                }
                drop(rows);
                let mut values = sqlx::QueryBuilder::<$db>::new(r::CHUNK_VALUES);
                values.push(&list);
                let mut rows = values.build_query_as::<(String, String, f64, i64)>().persistent(false).fetch(&mut **tx);
                while let Some((step, name, num, at)) = rows.try_next().await? {
                    chunk.value(&step, &name, num, at);
                }
                drop(rows);
                for (grain, period) in chunk.periods() {
                    let stored: Vec<r::Row> = sqlx::query_as(r::PERIOD_ROWS)
                        .bind(playbook)
                        .bind(grain)
                        .bind(period)
                        .fetch_all(&mut **tx)
                        .await?;
                    chunk.merge_stored(grain, period, &stored);
                }
                let merged: Vec<_> = chunk.rows.iter().collect();
                for batch in merged.chunks(r::UPSERT_BATCH) {
                    let mut upsert = sqlx::QueryBuilder::<$db>::new(r::UPSERT);
                    upsert.push_values(batch, |mut row, ((grain, period, step, name), agg)| {
                        row.push_bind(playbook).push_bind(*grain).push_bind(*period).push_bind(step).push_bind(name);
                        row.push_bind(agg.judged).push_bind(agg.ok).push_bind(agg.fail).push_bind(agg.error);
                        row.push_bind(agg.count()).push_bind(agg.hist());
                    });
                    upsert.push(r::UPSERT_CONFLICT);
                    upsert.build().execute(&mut **tx).await?;
                }
                let mut mark = sqlx::QueryBuilder::<$db>::new(r::MARK);
                mark.push(&list);
                mark.build().persistent(false).execute(&mut **tx).await?;
                Ok(i64::try_from(ids.len()).unwrap_or(i64::MAX))
            }
        }
    };
}
pub(crate) use impl_stats;

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn percentiles_show_four_significant_digits() {
        assert_eq!(shown(60.12345), "60.12");
        assert_eq!(shown(12351.7), "12350");
        assert_eq!(shown(100.2), "100.2");
        assert_eq!(shown(0.25), "0.25");
        assert_eq!(shown(-3.0), "-3");
        assert_eq!(shown(0.0), "0");
    }
}
