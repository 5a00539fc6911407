//! SQLite: a value's type is the one it is stored with, so rows are read by
//! each value's own storage class (a column declared `BOOLEAN` reads as
//! true/false). Reads set `PRAGMA query_only`, SQLite's read-only switch for
//! a connection; SQLite has no read-only transactions. A query dropped at its
//! timeout is interrupted inside SQLite (see [`interrupt`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::sqlite::{Sqlite, SqliteConnection, SqliteRow};

use super::json;
use super::run::Dialect;

pub fn dialect(write: bool) -> Dialect<Sqlite> {
    let query_only = if write { "OFF" } else { "ON" };
    Dialect {
        setup: vec![format!("PRAGMA query_only = {query_only}")],
        begin_read_only: None,
        decode: row,
        interrupt: Some(interrupt),
    }
}

/// Virtual-machine instructions between two looks at the stop flag (microseconds of work).
const CHECK_EVERY: i32 = 10_000;

/// SQLite runs a query on a worker thread that does not notice the query being
/// dropped: a runaway one (a recursive CTE without end) would burn a core until
/// the process exits. A progress handler ends it (`SQLITE_INTERRUPT`) once `stop` is set.
fn interrupt(conn: &mut SqliteConnection, stop: Arc<AtomicBool>) -> BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        conn.lock_handle().await?.set_progress_handler(CHECK_EVERY, move || !stop.load(Ordering::Relaxed));
        Ok(())
    })
}

/// A row as JSON; the error is text for `QueryError::Decode` (see `Dialect::decode`).
fn row(row: &SqliteRow) -> Result<Map<String, Value>, String> {
    json::object(row, |i, declared, stored| {
        Ok(Some(match stored {
            "INTEGER" if declared.eq_ignore_ascii_case("BOOLEAN") => {
                Value::from(row.try_get_unchecked::<i64, _>(i)? != 0)
            }
            "INTEGER" => Value::from(row.try_get_unchecked::<i64, _>(i)?),
            "REAL" => json::float(row.try_get_unchecked(i)?),
            "TEXT" => Value::String(row.try_get_unchecked(i)?),
            "BLOB" => json::hex(&row.try_get_unchecked::<Vec<u8>, _>(i)?),
            _ => return Ok(None),
        }))
    })
}
