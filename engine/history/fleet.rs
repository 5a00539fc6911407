//! What the fleet view reads: the finished runs of one playbook in a window
//! (host, group, when), every host that ever ran it (a host that stopped
//! reporting is missing, not forgotten), and a chosen run's record with its
//! signature. Runs are listed without their records, so a window of many runs
//! per host costs one small row each; only the runs shown are read whole.

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

const RECORD: &str = "SELECT record, signature FROM runs WHERE id = $1 AND record IS NOT NULL";

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

    /// Run `id`'s record text and signature, if it finished.
    pub async fn signed_record(&self, id: i64) -> Result<Option<SignedRecord>, HistoryError> {
        on_pool!(self, pool => {
            let row = sqlx::query(RECORD).bind(id).fetch_optional(pool).await?;
            Ok(row.map(|r| Ok::<_, sqlx::Error>(SignedRecord { record: r.try_get(0)?, signature: r.try_get(1)? }))
                .transpose()?)
        })
    }
}
