//! SQLite: a value's type is the one it is stored with, so rows are read by
//! each value's own storage class (a column declared `BOOLEAN` reads as
//! true/false). Reads set `PRAGMA query_only`, SQLite's read-only switch for
//! a connection; SQLite has no read-only transactions.

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::sqlite::{Sqlite, SqliteRow};

use super::json;
use super::run::Dialect;

pub fn dialect(write: bool) -> Dialect<Sqlite> {
    let query_only = if write { "OFF" } else { "ON" };
    Dialect { setup: vec![format!("PRAGMA query_only = {query_only}")], begin_read_only: None, decode: row }
}

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
