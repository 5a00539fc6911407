//! The shared store: PostgreSQL, for a team whose hosts keep one history.
//! Migrations take a transaction-scoped advisory lock, so hosts upgrading
//! at the same moment apply each migration once.

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::backend;
use super::{HistoryError, migrations, now_ms};

/// How long to wait for a connection.
const CONNECT: Duration = Duration::from_secs(10);

/// The advisory lock key that serialises migrations ("runbook" in ASCII).
const MIGRATION_LOCK: i64 = 0x72_75_6e_62_6f_6f_6b;

#[derive(Clone)]
pub struct PgStore {
    pub(super) pool: PgPool,
}

impl PgStore {
    pub async fn open(url: &str) -> Result<Self, HistoryError> {
        let options = crate::tls::postgres_options(url.parse()?, url);
        let pool = PgPoolOptions::new().max_connections(2).acquire_timeout(CONNECT).connect_with(options).await?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), HistoryError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK).execute(&mut *tx).await?;
        sqlx::raw_sql(backend::SCHEMA_VERSION_TABLE).execute(&mut *tx).await?;
        let current: i64 = sqlx::query_scalar(backend::CURRENT_VERSION).fetch_one(&mut *tx).await?;
        for (version, sql) in migrations::pending(migrations::Dialect::Postgres, current)? {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?; // our own text, not input
            sqlx::query(backend::RECORD_VERSION).bind(version).bind(now_ms()).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

backend::impl_backend!(PgStore, sqlx::Postgres, |pool| pool.begin(), Some(super::chain::PG_LOCK));
super::prune::impl_prune!(PgStore, sqlx::Postgres);
// Catch-ups (and pruning, which catches up first) take this transaction-scoped
// lock, so two never count the same run ("rollups" in ASCII).
super::stats::impl_stats!(
    PgStore,
    sqlx::Postgres,
    |pool| pool.begin(),
    Some("SELECT pg_advisory_xact_lock(32210658811801715)")
);
super::snoozes::impl_snoozes!(PgStore, sqlx::Postgres);
