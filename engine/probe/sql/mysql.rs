//! MySQL and MariaDB: reads run in `START TRANSACTION READ ONLY`, and every
//! common type has a JSON form. (MariaDB's `JSON` is `LONGTEXT` on the wire,
//! so JSON columns arrive as text there.)

use std::time::Duration;

use serde_json::{Map, Value};
use sqlx::Row;
use sqlx::mysql::{MySql, MySqlRow};
use sqlx::types::Json;

use super::json;
use super::run::Dialect;

/// `max_statement_time` follows the step's deadline on MariaDB, so a query
/// cut off here stops in the server too. It sits in a MariaDB-only comment
/// (`/*M!…*/`): MySQL, which lacks the variable, sets just the harmless
/// user variable.
pub fn dialect(timeout: Duration) -> Dialect<MySql> {
    let seconds = timeout.as_secs_f64().max(0.001);
    Dialect {
        setup: vec![format!(
            "SET @runbook_deadline = {seconds:.3} /*M!100108 , SESSION max_statement_time = {seconds:.3} */"
        )],
        begin_read_only: Some("START TRANSACTION READ ONLY"),
        decode: row,
        interrupt: None,
    }
}

/// A row as JSON; the error is text for `QueryError::Decode` (see `Dialect::decode`).
fn row(row: &MySqlRow) -> Result<Map<String, Value>, String> {
    json::object(row, |i, _, type_name| {
        Ok(Some(match type_name {
            "NULL" => Value::Null,
            "BOOLEAN" => Value::from(row.try_get::<bool, _>(i)?),
            "TINYINT" | "SMALLINT" | "INT" | "MEDIUMINT" | "BIGINT" => Value::from(row.try_get::<i64, _>(i)?),
            "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "INT UNSIGNED" | "MEDIUMINT UNSIGNED" | "BIGINT UNSIGNED"
            | "YEAR" | "BIT" => Value::from(row.try_get::<u64, _>(i)?),
            "FLOAT" => json::float32(row.try_get(i)?),
            "DOUBLE" => json::float(row.try_get(i)?),
            "DECIMAL" => json::decimal(row.try_get(i)?),
            "CHAR" | "VARCHAR" | "TINYTEXT" | "TEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM" | "SET" => {
                Value::String(row.try_get(i)?)
            }
            "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" => {
                json::hex(&row.try_get::<Vec<u8>, _>(i)?)
            }
            "TIMESTAMP" => json::timestamp(row.try_get(i)?),
            "DATETIME" => json::naive_timestamp(row.try_get(i)?),
            "DATE" => json::date(row.try_get(i)?),
            "TIME" => json::time(row.try_get(i)?),
            "JSON" => row.try_get::<Json<Value>, _>(i)?.0,
            _ => return Ok(None),
        }))
    })
}
