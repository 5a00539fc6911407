//! The embedded store: one SQLite file in WAL mode. Writers wait for each
//! other up to [`BUSY`] (`busy_timeout`), and every write transaction starts
//! with `BEGIN IMMEDIATE`, so two runs finishing together both land instead
//! of one failing on a lock upgrade.
//!
//! Durability: `synchronous = FULL`. A run commits twice (its "started"
//! marker, then everything at the end), so the fsync of the WAL on each commit
//! costs two fsyncs a run, and buys that a run reported as kept survives a
//! power cut. NORMAL would save those fsyncs but may lose the last runs on a
//! power cut (never on a process crash); see docs/reliability.md.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use super::backend;
use super::{HistoryError, migrations, now_ms};

/// How long a writer waits for another.
const BUSY: Duration = Duration::from_secs(30);

/// WAL pages after which a commit copies them into the database itself. A run
/// normally has them copied by [`SqliteStore::checkpoint_in_background`] long
/// before: this bounds the WAL when runs are too short for that to finish.
const AUTOCHECKPOINT_PAGES: &str = "4000";

#[derive(Clone)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    /// For a connection of its own (the background checkpoint).
    options: std::sync::Arc<SqliteConnectOptions>,
}

impl SqliteStore {
    pub async fn open(path: &Path) -> Result<Self, HistoryError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|source| HistoryError::CreateDir { dir: parent.to_path_buf(), source })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY)
            // A run's final transaction spilled a statement journal to a file in /var/tmp.
            .pragma("temp_store", "memory")
            .pragma("wal_autocheckpoint", AUTOCHECKPOINT_PAGES);
        // Switching a new file to WAL takes a lock that busy_timeout does not
        // wait for; two runs creating the file at once retry briefly.
        let mut attempt = 0;
        let pool = loop {
            attempt += 1;
            match SqlitePoolOptions::new().max_connections(1).acquire_timeout(BUSY).connect_with(options.clone()).await
            {
                Ok(pool) => break pool,
                Err(_) if attempt < 5 => tokio::time::sleep(Duration::from_millis(50 * attempt)).await,
                Err(e) => return Err(e.into()),
            }
        };
        let store = Self { pool, options: std::sync::Arc::new(options) };
        store.migrate().await?;
        Ok(store)
    }

    /// Copies the WAL's committed pages into the database on a connection of its own,
    /// while the run probes, instead of SQLite's automatic checkpoint inside a run's final
    /// commit (~90 ms on a store of a million values when values were indexed by name).
    /// PASSIVE: it waits for no lock and no one waits for it; a process that ends first
    /// leaves the WAL as it was.
    pub(super) fn checkpoint_in_background(&self) {
        let options = std::sync::Arc::clone(&self.options);
        tokio::spawn(async move {
            use sqlx::ConnectOptions as _;
            if let Ok(mut connection) = options.connect().await {
                let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&mut connection).await;
                let _ = sqlx::Connection::close(connection).await;
            }
        });
    }

    async fn migrate(&self) -> Result<(), HistoryError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::raw_sql(backend::SCHEMA_VERSION_TABLE).execute(&mut *tx).await?;
        let current: i64 = sqlx::query_scalar(backend::CURRENT_VERSION).fetch_one(&mut *tx).await?;
        for (version, sql) in migrations::pending(migrations::Dialect::Sqlite, current)? {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?; // our own text, not input
            sqlx::query(backend::RECORD_VERSION).bind(version).bind(now_ms()).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

backend::impl_backend!(SqliteStore, sqlx::Sqlite, |pool| pool.begin_with("BEGIN IMMEDIATE"), None);
super::prune::impl_prune!(SqliteStore, sqlx::Sqlite);
// BEGIN IMMEDIATE already serialises catch-ups: no lock of its own.
super::stats::impl_stats!(SqliteStore, sqlx::Sqlite, |pool| pool.begin_with("BEGIN IMMEDIATE"), None);
super::snoozes::impl_snoozes!(SqliteStore, sqlx::Sqlite);
