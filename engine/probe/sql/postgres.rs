//! PostgreSQL: the session's `statement_timeout` follows the step's deadline
//! (so a query cut off here does not run on in the server), reads run in
//! `START TRANSACTION READ ONLY`, and every common type has a JSON form.

use std::time::Duration;

use serde_json::{Map, Value};
use sqlx::postgres::types::{Oid, PgInterval};
use sqlx::postgres::{PgRow, Postgres};
use sqlx::types::Json;
use sqlx::{Column, Row, TypeInfo, ValueRef};

use super::json;
use super::run::Dialect;

pub fn dialect(timeout: Duration) -> Dialect<Postgres> {
    Dialect {
        setup: vec![format!("SET statement_timeout = {}", timeout.as_millis().max(1))],
        begin_read_only: Some("START TRANSACTION READ ONLY"),
        decode: row,
    }
}

fn row(row: &PgRow) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let name = column.name();
        let err = |e: sqlx::Error| format!("column `{name}`: {e}");
        let is_null = row.try_get_raw(i).map_err(err)?.is_null();
        let type_name = column.type_info().name();
        let value = if is_null || type_name == "VOID" {
            Value::Null
        } else {
            match type_name {
                "BOOL" => Value::from(row.try_get::<bool, _>(i).map_err(err)?),
                "INT2" => Value::from(row.try_get::<i16, _>(i).map_err(err)?),
                "INT4" => Value::from(row.try_get::<i32, _>(i).map_err(err)?),
                "INT8" => Value::from(row.try_get::<i64, _>(i).map_err(err)?),
                "OID" => Value::from(row.try_get::<Oid, _>(i).map_err(err)?.0),
                "FLOAT4" => json::float32(row.try_get(i).map_err(err)?),
                "FLOAT8" => json::float(row.try_get(i).map_err(err)?),
                "NUMERIC" => json::decimal(row.try_get(i).map_err(err)?),
                // `CHAR` is sqlx's name for `bpchar`; `"CHAR"` is PostgreSQL's one-byte type.
                "TEXT" | "VARCHAR" | "CHAR" | "NAME" | "UNKNOWN" => Value::String(row.try_get(i).map_err(err)?),
                "\"CHAR\"" => Value::String(char::from(row.try_get::<i8, _>(i).map_err(err)? as u8).into()),
                "TIMESTAMPTZ" => json::timestamp(row.try_get(i).map_err(err)?),
                "TIMESTAMP" => json::naive_timestamp(row.try_get(i).map_err(err)?),
                "DATE" => json::date(row.try_get(i).map_err(err)?),
                "TIME" => json::time(row.try_get(i).map_err(err)?),
                "INTERVAL" => interval_seconds(row.try_get(i).map_err(err)?),
                "BYTEA" => json::hex(&row.try_get::<Vec<u8>, _>(i).map_err(err)?),
                "JSON" | "JSONB" => row.try_get::<Json<Value>, _>(i).map_err(err)?.0,
                other => return Err(json::unsupported(name, other)),
            }
        };
        out.insert(name.to_owned(), value);
    }
    Ok(out)
}

/// An interval as seconds (a month counts 30 days), so thresholds compare numbers.
fn interval_seconds(i: PgInterval) -> Value {
    let days = f64::from(i.months) * 30.0 + f64::from(i.days);
    json::float(days * 86_400.0 + i.microseconds as f64 / 1e6)
}
