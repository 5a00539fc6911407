//! SQLite: a value's type is the one it is stored with, so rows are read by
//! each value's own storage class (a column declared `BOOLEAN` reads as
//! true/false). Reads set `PRAGMA query_only`, SQLite's read-only switch for
//! a connection; SQLite has no read-only transactions.

use serde_json::{Map, Value};
use sqlx::sqlite::{Sqlite, SqliteRow};
use sqlx::{Column, Row, TypeInfo, ValueRef};

use super::json;
use super::run::Dialect;

pub fn dialect(write: bool) -> Dialect<Sqlite> {
    let query_only = if write { "OFF" } else { "ON" };
    Dialect { setup: vec![format!("PRAGMA query_only = {query_only}")], begin_read_only: None, decode: row }
}

fn row(row: &SqliteRow) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let name = column.name();
        let err = |e: sqlx::Error| format!("column `{name}`: {e}");
        let raw = row.try_get_raw(i).map_err(err)?;
        let stored = if raw.is_null() { "NULL".to_owned() } else { raw.type_info().name().to_owned() };
        let declared = column.type_info().name();
        let value = match stored.as_str() {
            "NULL" => Value::Null,
            "INTEGER" if declared.eq_ignore_ascii_case("BOOLEAN") => {
                Value::from(row.try_get_unchecked::<i64, _>(i).map_err(err)? != 0)
            }
            "INTEGER" => Value::from(row.try_get_unchecked::<i64, _>(i).map_err(err)?),
            "REAL" => json::float(row.try_get_unchecked(i).map_err(err)?),
            "TEXT" => Value::String(row.try_get_unchecked(i).map_err(err)?),
            "BLOB" => json::hex(&row.try_get_unchecked::<Vec<u8>, _>(i).map_err(err)?),
            other => return Err(json::unsupported(name, other)),
        };
        out.insert(name.to_owned(), value);
    }
    Ok(out)
}
