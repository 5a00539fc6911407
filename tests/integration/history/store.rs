//! A history store for one test: a SQLite file in the test's folder, or a
//! fresh database on the machine's PostgreSQL (dropped afterwards); plus
//! raw SQL on it, to set run times and to look at what was stored.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Row;

use crate::util::{Outcome, Runbook, TestDir};

const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// Every scenario function named, once per backend: `mod sqlite` and `mod postgres` of tests.
macro_rules! on_both_stores {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $scenario() { super::$scenario(super::Kind::Sqlite) })*
        }
        mod postgres {
            $(#[test] fn $scenario() { super::$scenario(super::Kind::Postgres) })*
        }
    };
}
pub(crate) use on_both_stores;

pub enum Kind {
    Sqlite,
    Postgres,
}

pub struct Store {
    pub dir: TestDir,
    /// What `--history` gets.
    pub location: String,
    pg_database: Option<String>,
    runtime: tokio::runtime::Runtime,
}

impl Store {
    pub fn new(kind: Kind) -> Self {
        let dir = TestDir::new();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("test runtime");
        let (location, pg_database) = match kind {
            Kind::Sqlite => (dir.path().join("h.db").display().to_string(), None),
            Kind::Postgres => {
                static NEXT: AtomicU32 = AtomicU32::new(0);
                let name = format!("runbook_history_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
                runtime.block_on(async {
                    let mut admin = admin().await;
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
                        .execute(&mut admin)
                        .await
                        .expect("drop old test database");
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&mut admin)
                        .await
                        .expect("create test database");
                });
                (format!("{PG_SERVER}/{name}"), Some(name))
            }
        };
        Self { dir, location, pg_database, runtime }
    }

    /// `runbook ARGS --history <this store>`, history on.
    pub fn runbook<const N: usize>(&self, args: [&str; N]) -> Runbook {
        self.dir.runbook().with_history().args(args).args(["--history", &self.location])
    }

    /// `runbook run FILE --format json` against this store.
    pub fn run(&self, file: &str) -> Outcome {
        self.runbook(["run", file, "--format", "json"]).run()
    }

    /// Runs `sql` (statements separated by `;`) on the store.
    pub fn execute(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        self.runtime.block_on(async {
            match &self.pg_database {
                None => {
                    let mut conn = self.sqlite().await;
                    sqlx::raw_sql(sql).execute(&mut conn).await.expect("sqlite statement");
                }
                Some(_) => {
                    let mut conn = self.postgres().await;
                    sqlx::raw_sql(sql).execute(&mut conn).await.expect("postgres statement");
                }
            }
        });
    }

    /// The first column of every row `sql` returns, as text.
    pub fn texts(&self, sql: &str) -> Vec<String> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        self.runtime.block_on(async {
            match &self.pg_database {
                None => {
                    let mut conn = self.sqlite().await;
                    let rows = sqlx::query(sql).fetch_all(&mut conn).await.expect("sqlite query");
                    rows.iter().map(|r| r.try_get::<String, _>(0).expect("text column")).collect()
                }
                Some(_) => {
                    let mut conn = self.postgres().await;
                    let rows = sqlx::query(sql).fetch_all(&mut conn).await.expect("postgres query");
                    rows.iter().map(|r| r.try_get::<String, _>(0).expect("text column")).collect()
                }
            }
        })
    }

    /// Runs `sql` with the database's own command-line client (`sqlite3`, `psql`), as someone
    /// editing the store by hand would.
    pub fn by_hand(&self, sql: &str) {
        let mut cli = match &self.pg_database {
            None => {
                let mut cli = std::process::Command::new("sqlite3");
                cli.args(["-bail", &self.location, sql]);
                cli
            }
            Some(_) => {
                let mut cli = std::process::Command::new("psql");
                cli.args(["-v", "ON_ERROR_STOP=1", "-q", &self.location, "-c", sql]);
                cli
            }
        };
        let out = cli.output().expect("run sqlite3 / psql");
        assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    }

    pub fn is_sqlite(&self) -> bool {
        self.pg_database.is_none()
    }

    async fn sqlite(&self) -> sqlx::SqliteConnection {
        use sqlx::Connection;
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&self.location)
            .busy_timeout(std::time::Duration::from_secs(30));
        sqlx::SqliteConnection::connect_with(&options).await.expect("open the sqlite history")
    }

    async fn postgres(&self) -> sqlx::PgConnection {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&self.location).await.expect("connect to the test database")
    }
}

async fn admin() -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(&format!("{PG_SERVER}/postgres"))
        .await
        .expect("connect to PostgreSQL on 127.0.0.1:5432")
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(name) = self.pg_database.take() {
            self.runtime.block_on(async {
                let mut admin = admin().await;
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut admin)
                    .await;
            });
        }
    }
}
