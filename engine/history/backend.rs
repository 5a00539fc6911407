//! What a storage backend provides, and the SQL both backends share (SQLite
//! and PostgreSQL both take `$1` placeholders, and the tables have the same
//! columns: times as milliseconds since the Unix epoch, JSON as text).

use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{HistoryError, RunFinish, RunRow, RunStart, StoredRun, StoredValue};

/// A store's operations. Each backend guarantees: `finish_run` is one
/// transaction; `step_values` reads `complete` runs only.
pub(crate) trait Backend {
    async fn begin_run(&self, start: &RunStart<'_>) -> Result<i64, HistoryError>;
    async fn finish_run(&self, id: i64, finish: &RunFinish) -> Result<(), HistoryError>;
    async fn step_values(&self, playbook: &str, step_id: &str) -> Result<Vec<StoredValue>, HistoryError>;
    async fn runs(&self, playbook: Option<&str>, limit: u32) -> Result<Vec<StoredRun>, HistoryError>;
    async fn run(&self, id: i64) -> Result<Option<StoredRun>, HistoryError>;
}

pub(crate) const INSERT_RUN: &str = "INSERT INTO runs (playbook, file, host, status, started_at) \
     VALUES ($1, $2, $3, 'incomplete', $4) RETURNING id";

pub(crate) const COMPLETE_RUN: &str = "UPDATE runs SET status = $2, verdict = $3, operator = $4, started_at = $5, \
     finished_at = $6, counts = $7, record = $8, run_group = $9, signature = $10 WHERE id = $1";

pub(crate) const INSERT_VALUE: &str =
    "INSERT INTO run_values (run_id, playbook, step_id, name, value, at) VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) const STEP_VALUES: &str = "SELECT v.name, v.at, v.value FROM run_values v JOIN runs r ON r.id = v.run_id \
     WHERE v.playbook = $1 AND v.step_id = $2 AND r.status = 'complete' ORDER BY v.at DESC, v.run_id DESC";

pub(crate) const RUNS: &str = "SELECT id, playbook, file, host, operator, status, verdict, started_at, finished_at, \
     counts, record FROM runs WHERE ($1 IS NULL OR playbook = $1) ORDER BY started_at DESC, id DESC LIMIT $2";

pub(crate) const RUN: &str = "SELECT id, playbook, file, host, operator, status, verdict, started_at, finished_at, \
     counts, record FROM runs WHERE id = $1";

pub(crate) const SCHEMA_VERSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";
pub(crate) const CURRENT_VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
pub(crate) const RECORD_VERSION: &str = "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)";

/// Implements [`Backend`] for a store type with a `pool` field; `$begin`
/// opens a write transaction on it. Both backends run the same statements.
macro_rules! impl_backend {
    ($store:ty, |$pool:ident| $begin:expr) => {
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
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn finish_run(
                &self,
                id: i64,
                finish: &$crate::history::RunFinish,
            ) -> Result<(), $crate::history::HistoryError> {
                use $crate::history::backend as sql;
                let $pool = &self.pool;
                let mut tx = $begin.await?;
                for (step, name, value) in &finish.values {
                    sqlx::query(sql::INSERT_VALUE)
                        .bind(id)
                        .bind(&finish.playbook)
                        .bind(step)
                        .bind(name)
                        .bind(value)
                        .bind(finish.started_ms)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(sql::COMPLETE_RUN)
                    .bind(id)
                    .bind(finish.status)
                    .bind(finish.verdict)
                    .bind(&finish.operator)
                    .bind(finish.started_ms)
                    .bind(finish.finished_ms)
                    .bind(&finish.counts)
                    .bind(&finish.record)
                    .bind(&finish.group)
                    .bind(&finish.signature)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
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
    Ok(StoredValue {
        name: row.try_get(0)?,
        at: row.try_get(1)?,
        value: serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    })
}
