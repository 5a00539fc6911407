//! One query on one connection, the same for every driver: session setup,
//! a read-only transaction unless the step allows writes, the parameters
//! bound (never spliced into the text), and rows decoded to JSON as they
//! arrive, stopping past `max_rows`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, Database, Encode, Executor, Type};

use super::Param;
use super::pool::Pool;

/// Why a query gave no rows: no connection, the database said no, or runbook
/// refused the result.
#[derive(Debug)]
pub enum QueryError {
    Connect(sqlx::Error),
    Database(sqlx::Error),
    /// More rows than the step's `max_rows`.
    TooManyRows(usize),
    /// A column runbook cannot show as JSON.
    Decode(String),
}

impl From<sqlx::Error> for QueryError {
    fn from(e: sqlx::Error) -> Self {
        Self::Database(e)
    }
}

/// One row: column name → value.
pub type Row = Map<String, Value>;

/// What a driver contributes: its statements and how it reads a row.
pub struct Dialect<DB: Database> {
    /// Statements run first on the connection (each use sets them afresh).
    pub setup: Vec<String>,
    /// Begins the read-only transaction; `None` where the setup makes the session read-only.
    pub begin_read_only: Option<&'static str>,
    /// Reads a row; the error is text (a column and why), which [`QueryError::Decode`] carries
    /// and the probe words with its target, so a typed error would add nothing here.
    pub decode: fn(&DB::Row) -> Result<Row, String>,
    /// Makes the query stop inside the database once the flag is set (it is
    /// when the query is dropped: its timeout or the step's deadline); `None`
    /// where the server's own statement timeout does it.
    pub interrupt: Option<Interrupt<DB>>,
}

/// See [`Dialect::interrupt`].
pub type Interrupt<DB> = for<'c> fn(
    &'c mut <DB as Database>::Connection,
    Arc<AtomicBool>,
) -> futures_util::future::BoxFuture<'c, Result<(), sqlx::Error>>;

/// Sets its flag when dropped before [`StopOnDrop::finished`]: the query was abandoned.
#[derive(Default)]
struct StopOnDrop {
    flag: Arc<AtomicBool>,
    finished: bool,
}

impl StopOnDrop {
    fn finished(mut self) {
        self.finished = true;
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if !self.finished {
            self.flag.store(true, Ordering::Relaxed);
        }
    }
}

/// What to run.
pub struct Query<'a> {
    pub sql: &'a str,
    pub params: &'a [Param],
    pub write: bool,
    pub max_rows: usize,
}

/// Runs `query` on a connection of `pool` and returns its rows as JSON
/// objects. The connection goes back to the pool only if all went well.
pub async fn on_pool<DB>(
    pool: &Arc<Pool<DB::Connection>>,
    dialect: &Dialect<DB>,
    query: &Query<'_>,
) -> Result<Vec<Map<String, Value>>, QueryError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> bool: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> f64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
{
    let mut checkout = pool.checkout().await.map_err(QueryError::Connect)?;
    let conn = &mut checkout.conn;
    let stop = StopOnDrop::default();
    if let Some(interrupt) = dialect.interrupt {
        interrupt(conn, Arc::clone(&stop.flag)).await?;
    }
    for statement in &dialect.setup {
        conn.execute(AssertSqlSafe(statement.clone())).await?;
    }
    // A plain BEGIN/ROLLBACK pair rather than sqlx's `Transaction`: on any
    // error the connection is dropped (not returned to the pool), and the
    // server ends the transaction with it.
    let read_only = dialect.begin_read_only.filter(|_| !query.write);
    if let Some(begin) = read_only {
        conn.execute(AssertSqlSafe(begin)).await?;
    }
    // The query text is the playbook author's, as a shell command is: runbook
    // runs what the playbook says. Values from templates go in `params`.
    let mut statement = sqlx::query::<DB>(AssertSqlSafe(query.sql.to_owned()));
    for param in query.params {
        statement = match param {
            Param::Null(()) => statement.bind(None::<String>),
            Param::Bool(b) => statement.bind(*b),
            Param::Int(i) => statement.bind(*i),
            Param::Float(f) => statement.bind(*f),
            Param::Text(s) => statement.bind(s.clone()),
        };
    }
    let max_rows = query.max_rows;
    let decode = dialect.decode;
    let mut count = 0usize;
    let mut refused: Option<QueryError> = None;
    let result = statement
        .try_map(|row: DB::Row| {
            count += 1;
            if count > max_rows {
                refused = Some(QueryError::TooManyRows(max_rows));
                return Err(sqlx::Error::RowNotFound);
            }
            decode(&row).map_err(|e| {
                refused = Some(QueryError::Decode(e));
                sqlx::Error::RowNotFound
            })
        })
        .fetch_all(&mut *conn)
        .await;
    let rows = match (result, refused) {
        (_, Some(refused)) => return Err(refused),
        (rows, None) => rows?,
    };
    if read_only.is_some() {
        conn.execute("ROLLBACK").await?;
    }
    stop.finished();
    checkout.release();
    Ok(rows)
}
