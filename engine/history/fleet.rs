//! What the fleet view reads: the finished runs of one playbook in a window
//! (host, group, when), every host that ever ran it (a host that stopped
//! reporting is missing, not forgotten), and a chosen run's record with its
//! signature. Runs are listed without their records, so a window of many runs
//! per host costs one small row each; only the runs shown are read whole.

use std::collections::BTreeMap;

use sqlx::Row as _;

use super::{HistoryError, Store, StoredStatus};

/// A finished run, without its record.
#[derive(Debug, Clone)]
pub struct RunHead {
    pub id: i64,
    pub host: String,
    pub group: Option<String>,
    pub status: StoredStatus,
    pub started_ms: i64,
}

/// A run's stored record text and, if the run was signed, its signature.
#[derive(Debug, Clone)]
pub struct SignedRecord {
    pub record: String,
    pub signature: Option<String>,
}

const RUNS_SINCE: &str = "SELECT id, host, run_group, status, started_at FROM runs \
     WHERE playbook = $1 AND started_at >= $2 AND status <> 'incomplete' ORDER BY started_at DESC, id DESC";

const HOSTS: &str = "SELECT DISTINCT host FROM runs WHERE playbook = $1 ORDER BY host";

const LAST_SEEN: &str = "SELECT MAX(started_at) FROM runs WHERE playbook = $1 AND host = $2";

const RECORDS: &str = "SELECT id, record, signature FROM runs WHERE id IN";

/// Runs `$body` with `$pool` bound to the store's pool: one text, both databases.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            Store::Sqlite(s) => {
                let $pool = &s.pool;
                $body
            }
            Store::Postgres(s) => {
                let $pool = &s.pool;
                $body
            }
        }
    };
}
pub(super) use on_pool;

impl Store {
    /// The finished runs of `playbook` that started at or after `since_ms`, newest first.
    pub async fn runs_since(&self, playbook: &str, since_ms: i64) -> Result<Vec<RunHead>, HistoryError> {
        on_pool!(self, pool => {
            let rows = sqlx::query(RUNS_SINCE).bind(playbook).bind(since_ms).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(RunHead {
                        id: r.try_get(0)?,
                        host: r.try_get(1)?,
                        group: r.try_get(2)?,
                        status: StoredStatus::parse(&r.try_get::<String, _>(3)?),
                        started_ms: r.try_get(4)?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(HistoryError::from)
        })
    }

    /// Every host that has run `playbook`, at any time.
    pub async fn hosts(&self, playbook: &str) -> Result<Vec<String>, HistoryError> {
        on_pool!(self, pool => Ok(sqlx::query_scalar(HOSTS).bind(playbook).fetch_all(pool).await?))
    }

    /// When `host` last started a run of `playbook` (RFC 3339), if ever.
    pub async fn last_seen(&self, playbook: &str, host: &str) -> Result<Option<String>, HistoryError> {
        on_pool!(self, pool => {
            let at: Option<i64> = sqlx::query_scalar(LAST_SEEN).bind(playbook).bind(host).fetch_one(pool).await?;
            Ok(at.map(super::rfc3339))
        })
    }

    /// The record text and signature of each of `ids` that finished, by id; one query per
    /// thousand ids, not one per run.
    pub async fn signed_records(&self, ids: &[i64]) -> Result<BTreeMap<i64, SignedRecord>, HistoryError> {
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(1000) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("{RECORDS} ({}) AND record IS NOT NULL", marks.join(", "));
            on_pool!(self, pool => {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone())); // placeholders only, no input
                for id in chunk {
                    query = query.bind(*id);
                }
                for r in query.fetch_all(pool).await? {
                    out.insert(r.try_get(0)?, SignedRecord { record: r.try_get(1)?, signature: r.try_get(2)? });
                }
            });
        }
        Ok(out)
    }
}
