//! What a storage backend provides, and the SQL both backends share (SQLite
//! and PostgreSQL both take `$1` placeholders, and the tables have the same
//! columns: times as milliseconds since the Unix epoch, JSON as text).

use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{
    Finished, HistoryError, Pruned, RunFinish, RunRow, RunStart, SignRecord, StepStats, StoredRun, StoredValue,
};
use crate::playbook::Retention;

/// A store's operations. Each backend guarantees: `finish_run` is one
/// transaction (values, verdicts, record and any pruning together); look-ups
/// read `complete` runs only.
pub(crate) trait Backend {
    async fn begin_run(&self, start: &RunStart<'_>) -> Result<i64, HistoryError>;
    async fn finish_run(
        &self,
        id: i64,
        finish: &RunFinish,
        sign: Option<&SignRecord>,
    ) -> Result<Finished, HistoryError>;
    async fn step_values(&self, playbook: &str, step_id: &str) -> Result<Vec<StoredValue>, HistoryError>;
    async fn newest_runs(&self, playbook: &str, cutoff_ms: i64, limit: i64) -> Result<Vec<i64>, HistoryError>;
    async fn values_of_runs(&self, runs: &[i64], names: &[&str]) -> Result<Vec<RunValue>, HistoryError>;
    async fn walk_values(&self, playbook: &str, read: &ValueRead<'_>) -> Result<Vec<StepValue>, HistoryError>;
    async fn runs(&self, playbook: Option<&str>, limit: u32) -> Result<Vec<StoredRun>, HistoryError>;
    async fn run(&self, id: i64) -> Result<Option<StoredRun>, HistoryError>;
    async fn prune(&self, playbook: &str, rule: &Retention, now_ms: i64, dry_run: bool)
    -> Result<Pruned, HistoryError>;
    async fn playbooks(&self) -> Result<Vec<String>, HistoryError>;
    async fn follow_ups(&self, id: i64) -> Result<Vec<i64>, HistoryError>;
    async fn stats(&self, playbook: &str, since_ms: i64) -> Result<Vec<StepStats>, HistoryError>;
    async fn action_runs(&self, at: &ActionAt<'_>, since_ms: i64) -> Result<(i64, Option<i64>), HistoryError>;
}

/// One action step of one playbook on one host: where `max_runs` counts.
pub struct ActionAt<'a> {
    pub playbook: &'a str,
    pub host: &'a str,
    pub step_id: &'a str,
}

pub(crate) const INSERT_ACTION_RUN: &str =
    "INSERT INTO action_runs (playbook, host, step_id, run_id, at) VALUES ($1, $2, $3, $4, $5)";

/// How many times an action ran since `$4`, and when last.
pub(crate) const ACTION_RUNS: &str = "SELECT COUNT(*), MAX(at) FROM action_runs \
     WHERE playbook = $1 AND host = $2 AND step_id = $3 AND at >= $4";

/// One bounded look-up: the newest `limit` values of one step's name stored at
/// or before `cutoff_ms` (`i64::MAX`: any time).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ValueRead<'a> {
    pub step_id: &'a str,
    pub name: &'a str,
    pub cutoff_ms: i64,
    pub limit: i64,
}

/// A looked-up value and the step that captured it.
pub(crate) type StepValue = (String, StoredValue);

/// A stored value with the run and step it belongs to.
pub(crate) type RunValue = (i64, String, StoredValue);

pub(crate) const INSERT_RUN: &str = "INSERT INTO runs (playbook, file, host, status, started_at, lookback_runs, \
     lookback_ms) VALUES ($1, $2, $3, 'incomplete', $4, $5, $6) RETURNING id";

pub(crate) const COMPLETE_RUN: &str = "UPDATE runs SET status = $2, verdict = $3, operator = $4, started_at = $5, \
     finished_at = $6, counts = $7, record = $8, run_group = $9, signature = $10, record_hash = $11, prev_hash = $12, \
     chain_hash = $13, chain_seq = $14, follow_up_of = $15 WHERE id = $1";

/// Rows per multi-row INSERT: one statement per this many rows instead of one each
/// (7 columns x 500 rows stays far under both databases' bind limits: 32,766 and 65,535).
pub(crate) const BATCH: usize = 500;

pub(crate) const INSERT_VALUES: &str = "INSERT INTO run_values (run_id, playbook, step_id, name, value, num, at) ";
pub(crate) const INSERT_STEPS: &str = "INSERT INTO run_steps (run_id, playbook, step_id, verdict, at) ";

// Every look-up walks `runs_by_playbook` backwards and finds each run's values by the
// primary key (run_id, step_id, name): values are kept in run order, so a run appends
// to the end of its tables instead of touching an index page per captured name.
// `CROSS JOIN` keeps SQLite from choosing another order; PostgreSQL plans it as any join.
pub(crate) const STEP_VALUES: &str = "SELECT v.name, v.at, v.value FROM runs r CROSS JOIN run_values v \
     WHERE r.playbook = $1 AND r.status = 'complete' AND v.run_id = r.id AND v.step_id = $2 \
     ORDER BY r.started_at DESC, r.id DESC";

/// The ids of the newest `$3` complete runs of playbook `$1` started at or before `$2`, newest first.
pub(crate) const NEWEST_RUNS: &str = "SELECT id FROM runs WHERE playbook = $1 AND status = 'complete' \
     AND started_at <= $2 ORDER BY started_at DESC, id DESC LIMIT $3";

/// The values of some runs, of some names: `run_id IN (` binds `) AND name IN (` binds `)`.
pub(crate) const VALUES_OF_RUNS: &str = "SELECT run_id, step_id, name, at, value FROM run_values WHERE run_id IN (";

/// Most binds in each list of a `VALUES_OF_RUNS` statement (far under both databases' limits).
pub(crate) const BINDS_PER_LIST: usize = 1000;

/// One read the newest runs did not answer: a walk back run by run from `$2` until `$5`
/// values of step `$3`'s name `$4` are found.
pub(crate) const WALK_VALUES: &str = "SELECT v.name, v.at, v.value, v.step_id FROM runs r CROSS JOIN run_values v \
     WHERE r.playbook = $1 AND r.status = 'complete' AND r.started_at <= $2 AND v.run_id = r.id \
     AND v.step_id = $3 AND v.name = $4 ORDER BY r.started_at DESC, r.id DESC LIMIT $5";

/// Reads `WALK_VALUES` rows: the value and the step that captured it.
pub(crate) fn step_value<R>(row: &R) -> Result<StepValue, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok((row.try_get(3)?, value_row(row)?))
}

/// Reads `VALUES_OF_RUNS` rows.
pub(crate) fn run_value<R>(row: &R) -> Result<RunValue, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    let text: String = row.try_get(4)?;
    let value = StoredValue { name: row.try_get(2)?, at: row.try_get(3)?, value: parsed(text) };
    Ok((row.try_get(0)?, row.try_get(1)?, value))
}

pub(crate) const RUNS: &str = "SELECT id, playbook, file, host, operator, status, verdict, started_at, finished_at, \
     counts, record, follow_up_of FROM runs WHERE ($1 IS NULL OR playbook = $1) ORDER BY started_at DESC, id DESC LIMIT $2";

pub(crate) const RUN: &str = "SELECT id, playbook, file, host, operator, status, verdict, started_at, finished_at, \
     counts, record, follow_up_of FROM runs WHERE id = $1";

/// The runs that followed run `$1` up, oldest first.
pub(crate) const FOLLOW_UPS: &str = "SELECT id FROM runs WHERE follow_up_of = $1 ORDER BY id";

pub(crate) const PLAYBOOKS: &str = "SELECT DISTINCT playbook FROM runs ORDER BY playbook";

pub(crate) const SCHEMA_VERSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";
pub(crate) const CURRENT_VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
pub(crate) const RECORD_VERSION: &str = "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)";

/// Implements [`Backend`] for a store type with a `pool` field over database
/// `$db`; `$begin` opens a write transaction on it; `$chain_lock` (if any) is the
/// statement that serialises the finishing runs of one chain. Both backends run the
/// same statements. Pruning and statistics (rollups) come from `impl_prune!` / `impl_stats!`.
macro_rules! impl_backend {
    ($store:ty, $db:ty, |$pool:ident| $begin:expr, $chain_lock:expr) => {
        impl $crate::history::backend::Backend for $store {
            async fn begin_run(
                &self,
                start: &$crate::history::RunStart<'_>,
            ) -> Result<i64, $crate::history::HistoryError> {
                use $crate::history::backend as sql;
                let $pool = &self.pool;
                let mut tx = $begin.await?;
                let id = sqlx::query_scalar(sql::INSERT_RUN)
                    .bind(start.playbook)
                    .bind(start.file)
                    .bind(start.host)
                    .bind(start.started_ms)
                    .bind(start.lookback_runs)
                    .bind(start.lookback_ms)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn finish_run(
                &self,
                id: i64,
                finish: &$crate::history::RunFinish,
                sign: Option<&$crate::history::SignRecord>,
            ) -> Result<$crate::history::Finished, $crate::history::HistoryError> {
                use $crate::history::backend as sql;
                use $crate::history::chain;
                let $pool = &self.pool;
                let mut tx = $begin.await?;
                for chunk in finish.values.chunks(sql::BATCH) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(sql::INSERT_VALUES);
                    insert.push_values(chunk, |mut row, v| {
                        row.push_bind(id).push_bind(&finish.playbook).push_bind(&v.step_id).push_bind(&v.name);
                        row.push_bind(&v.value).push_bind(v.num).push_bind(finish.started_ms);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for chunk in finish.steps.chunks(sql::BATCH) {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(sql::INSERT_STEPS);
                    insert.push_values(chunk, |mut row, (step_id, verdict)| {
                        row.push_bind(id).push_bind(&finish.playbook).push_bind(step_id);
                        row.push_bind(*verdict).push_bind(finish.started_ms);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                for (step_id, at) in &finish.actions {
                    let insert = sqlx::query(sql::INSERT_ACTION_RUN).bind(&finish.playbook).bind(&finish.host);
                    insert.bind(step_id).bind(id).bind(*at).execute(&mut *tx).await?;
                }
                // The chain's head is read under its lock, so runs finishing together all link.
                let (playbook, host): (String, String) =
                    sqlx::query_as(chain::RUN_NAMES).bind(id).fetch_one(&mut *tx).await?;
                let lock: Option<&'static str> = $chain_lock;
                if let Some(lock) = lock {
                    sqlx::query(lock).bind(chain::lock_key(&playbook, &host)).execute(&mut *tx).await?;
                }
                let head: Option<(i64, String)> =
                    sqlx::query_as(chain::HEAD).bind(&playbook).bind(&host).fetch_optional(&mut *tx).await?;
                let sealed = finish.seal(id, (&playbook, &host), head, sign);
                sqlx::query(sql::COMPLETE_RUN)
                    .bind(id)
                    .bind(finish.status)
                    .bind(finish.verdict)
                    .bind(&finish.operator)
                    .bind(finish.started_ms)
                    .bind(finish.finished_ms)
                    .bind(&finish.counts)
                    .bind(&sealed.record)
                    .bind(&finish.group)
                    .bind(&sealed.signature)
                    .bind(&sealed.record_hash)
                    .bind(&sealed.link.prev)
                    .bind(&sealed.chain_hash)
                    .bind(sealed.link.seq)
                    .bind(finish.follow_up_of)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(chain::SET_HEAD)
                    .bind(&playbook)
                    .bind(&host)
                    .bind(sealed.link.seq)
                    .bind(&sealed.chain_hash)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let pruned = match &finish.retention {
                    Some(rule) => Some(Self::prune_in(&mut tx, &finish.playbook, rule, finish.finished_ms).await?),
                    None => None,
                };
                tx.commit().await?;
                Ok($crate::history::Finished { link: sealed.link, pruned })
            }

            async fn step_values(
                &self,
                playbook: &str,
                step_id: &str,
            ) -> Result<Vec<$crate::history::StoredValue>, $crate::history::HistoryError> {
                use $crate::history::backend as sql;
                let rows = sqlx::query(sql::STEP_VALUES).bind(playbook).bind(step_id).fetch_all(&self.pool).await?;
                Ok(rows.iter().map(sql::value_row).collect::<Result<_, _>>()?)
            }

            async fn newest_runs(
                &self,
                playbook: &str,
                cutoff_ms: i64,
                limit: i64,
            ) -> Result<Vec<i64>, $crate::history::HistoryError> {
                use $crate::history::backend as sql;
                let query = sqlx::query_scalar(sql::NEWEST_RUNS).bind(playbook).bind(cutoff_ms).bind(limit);
                Ok(query.fetch_all(&self.pool).await?)
            }

            async fn values_of_runs(
                &self,
                runs: &[i64],
                names: &[&str],
            ) -> Result<Vec<$crate::history::backend::RunValue>, $crate::history::HistoryError> {
                use $crate::history::backend as sql;
                if runs.is_empty() || names.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query = sqlx::QueryBuilder::<$db>::new(sql::VALUES_OF_RUNS);
                let mut list = query.separated(", ");
                for id in runs {
                    list.push_bind(*id);
                }
                query.push(") AND name IN (");
                let mut list = query.separated(", ");
                for name in names {
                    list.push_bind(*name);
                }
                query.push(")");
                let rows = query.build().fetch_all(&self.pool).await?;
                Ok(rows.iter().map(sql::run_value).collect::<Result<_, _>>()?)
            }

            async fn walk_values(
                &self,
                playbook: &str,
                read: &$crate::history::backend::ValueRead<'_>,
            ) -> Result<Vec<$crate::history::backend::StepValue>, $crate::history::HistoryError> {
                use $crate::history::backend as sql;
                let query = sqlx::query(sql::WALK_VALUES).bind(playbook).bind(read.cutoff_ms).bind(read.step_id);
                let rows = query.bind(read.name).bind(read.limit).fetch_all(&self.pool).await?;
                Ok(rows.iter().map(sql::step_value).collect::<Result<_, _>>()?)
            }

            async fn runs(
                &self,
                playbook: Option<&str>,
                limit: u32,
            ) -> Result<Vec<$crate::history::StoredRun>, $crate::history::HistoryError> {
                use $crate::history::backend as sql;
                let rows = sqlx::query(sql::RUNS).bind(playbook).bind(i64::from(limit)).fetch_all(&self.pool).await?;
                Ok(rows.iter().map(|r| sql::run_row(r).map(Into::into)).collect::<Result<_, _>>()?)
            }

            async fn run(&self, id: i64) -> Result<Option<$crate::history::StoredRun>, $crate::history::HistoryError> {
                use $crate::history::backend as sql;
                let row = sqlx::query(sql::RUN).bind(id).fetch_optional(&self.pool).await?;
                Ok(row.as_ref().map(sql::run_row).transpose()?.map(Into::into))
            }

            async fn prune(
                &self,
                playbook: &str,
                rule: &$crate::playbook::Retention,
                now_ms: i64,
                dry_run: bool,
            ) -> Result<$crate::history::Pruned, $crate::history::HistoryError> {
                let $pool = &self.pool;
                let mut tx = $begin.await?;
                let mut pruned = Self::prune_in(&mut tx, playbook, rule, now_ms).await?;
                if dry_run {
                    tx.rollback().await?;
                    pruned.dry_run = true;
                } else {
                    tx.commit().await?;
                }
                Ok(pruned)
            }

            async fn playbooks(&self) -> Result<Vec<String>, $crate::history::HistoryError> {
                use $crate::history::backend as sql;
                Ok(sqlx::query_scalar(sql::PLAYBOOKS).fetch_all(&self.pool).await?)
            }

            async fn follow_ups(&self, id: i64) -> Result<Vec<i64>, $crate::history::HistoryError> {
                use $crate::history::backend as sql;
                Ok(sqlx::query_scalar(sql::FOLLOW_UPS).bind(id).fetch_all(&self.pool).await?)
            }

            async fn stats(
                &self,
                playbook: &str,
                since_ms: i64,
            ) -> Result<Vec<$crate::history::StepStats>, $crate::history::HistoryError> {
                self.stats_of(playbook, since_ms).await
            }

            async fn action_runs(
                &self,
                at: &$crate::history::backend::ActionAt<'_>,
                since_ms: i64,
            ) -> Result<(i64, Option<i64>), $crate::history::HistoryError> {
                use $crate::history::backend as sql;
                let query = sqlx::query_as(sql::ACTION_RUNS).bind(at.playbook).bind(at.host).bind(at.step_id);
                Ok(query.bind(since_ms).fetch_one(&self.pool).await?)
            }
        }
    };
}
pub(crate) use impl_backend;

/// Reads a `runs` row of either backend.
pub(crate) fn run_row<R>(row: &R) -> Result<RunRow, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(RunRow {
        id: row.try_get(0)?,
        playbook: row.try_get(1)?,
        file: row.try_get(2)?,
        host: row.try_get(3)?,
        operator: row.try_get(4)?,
        status: row.try_get(5)?,
        verdict: row.try_get(6)?,
        started_at: row.try_get(7)?,
        finished_at: row.try_get(8)?,
        counts: row.try_get(9)?,
        record: row.try_get(10)?,
        follow_up_of: row.try_get(11)?,
    })
}

/// Reads a `STEP_VALUES` row of either backend; a value that is not JSON is kept as text.
pub(crate) fn value_row<R>(row: &R) -> Result<StoredValue, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    let text: String = row.try_get(2)?;
    Ok(StoredValue { name: row.try_get(0)?, at: row.try_get(1)?, value: parsed(text) })
}

/// A stored value's text as JSON; a value that is not JSON is kept as text.
fn parsed(text: String) -> serde_json::Value {
    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
}
