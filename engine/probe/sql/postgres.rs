//! PostgreSQL: the session's `statement_timeout` follows the step's deadline
//! (so a query cut off here does not run on in the server), reads run in
//! `START TRANSACTION READ ONLY`, and every common type has a JSON form.

use std::time::Duration;

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::postgres::types::{Oid, PgInterval};
use sqlx::postgres::{PgRow, Postgres};
use sqlx::types::Json;

use super::json;
use super::run::Dialect;

pub fn dialect(timeout: Duration) -> Dialect<Postgres> {
    Dialect {
        setup: vec![format!("SET statement_timeout = {}", timeout.as_millis().max(1))],
        begin_read_only: Some("START TRANSACTION READ ONLY"),
        decode: row,
        interrupt: None,
    }
}

/// A row as JSON; the error is text for `QueryError::Decode` (see `Dialect::decode`).
fn row(row: &PgRow) -> Result<Map<String, Value>, String> {
    json::object(row, |i, _, type_name| {
        Ok(Some(match type_name {
            "VOID" => Value::Null,
            "BOOL" => Value::from(row.try_get::<bool, _>(i)?),
            "INT2" => Value::from(row.try_get::<i16, _>(i)?),
            "INT4" => Value::from(row.try_get::<i32, _>(i)?),
            "INT8" => Value::from(row.try_get::<i64, _>(i)?),
            "OID" => Value::from(row.try_get::<Oid, _>(i)?.0),
            "FLOAT4" => json::float32(row.try_get(i)?),
            "FLOAT8" => json::float(row.try_get(i)?),
            "NUMERIC" => json::decimal(row.try_get(i)?),
            // `CHAR` is sqlx's name for `bpchar`; `"CHAR"` is PostgreSQL's one-byte type.
            "TEXT" | "VARCHAR" | "CHAR" | "NAME" | "UNKNOWN" => Value::String(row.try_get(i)?),
            "\"CHAR\"" => Value::String(char::from(row.try_get::<i8, _>(i)? as u8).into()),
            "TIMESTAMPTZ" => json::timestamp(row.try_get(i)?),
            "TIMESTAMP" => json::naive_timestamp(row.try_get(i)?),
            "DATE" => json::date(row.try_get(i)?),
            "TIME" => json::time(row.try_get(i)?),
            "INTERVAL" => interval_seconds(row.try_get(i)?),
            "BYTEA" => json::hex(&row.try_get::<Vec<u8>, _>(i)?),
            "JSON" | "JSONB" => row.try_get::<Json<Value>, _>(i)?.0,
            _ => return Ok(None),
        }))
    })
}

/// An interval as seconds (a month counts 30 days), so thresholds compare numbers.
fn interval_seconds(i: PgInterval) -> Value {
    let days = f64::from(i.months) * 30.0 + f64::from(i.days);
    json::float(days * 86_400.0 + i.microseconds as f64 / 1e6)
}
