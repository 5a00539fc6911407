//! Database values as JSON, the same way for every driver: exact decimals as
//! JSON numbers, timestamps as RFC 3339 text, bytes as hex.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;

/// A float as JSON (`null` for NaN and infinities, which JSON cannot hold).
pub fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// A 4-byte float as the number it prints as (0.1, not 0.10000000149011612).
pub fn float32(f: f32) -> Value {
    float(f.to_string().parse().unwrap_or(f64::NAN))
}

/// NUMERIC/DECIMAL as a JSON number: an integer when it has no fraction and
/// fits, else the nearest double.
pub fn decimal(d: Decimal) -> Value {
    if d.fract().is_zero()
        && let Some(i) = d.to_i64()
    {
        return Value::from(i);
    }
    d.to_f64().map_or(Value::Null, float)
}

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> Value {
    Value::String(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A zoned timestamp as RFC 3339 (`2024-05-01T12:00:00.250Z`).
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// A timestamp without zone, in RFC 3339's form minus the offset.
pub fn naive_timestamp(t: chrono::NaiveDateTime) -> Value {
    Value::String(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
}

pub fn date(d: chrono::NaiveDate) -> Value {
    Value::String(d.format("%Y-%m-%d").to_string())
}

pub fn time(t: chrono::NaiveTime) -> Value {
    Value::String(t.format("%H:%M:%S%.f").to_string())
}

/// The message for a column type runbook does not show.
fn unsupported(column: &str, type_name: &str) -> String {
    format!("column `{column}` has type `{type_name}`, which runbook cannot show; cast it in the query (e.g. to text)")
}

/// A row as a JSON object, the same walk for every driver. `cell(i, declared,
/// stored)` reads column `i`, given the type the column declares and the type
/// its value is stored with (they differ only in SQLite); `None` means the
/// type has no JSON form. NULL is read here, before `cell` is asked.
/// The error is text for [`super::run::QueryError::Decode`] (see `Dialect::decode`).
pub fn object<R: sqlx::Row>(
    row: &R,
    cell: impl Fn(usize, &str, &str) -> Result<Option<Value>, sqlx::Error>,
) -> Result<serde_json::Map<String, Value>, String>
where
    usize: sqlx::ColumnIndex<R>,
{
    use sqlx::{Column, TypeInfo, ValueRef};
    let mut out = serde_json::Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let name = column.name();
        let err = |e: sqlx::Error| format!("column `{name}`: {e}");
        let raw = row.try_get_raw(i).map_err(err)?;
        let value = if raw.is_null() {
            Value::Null
        } else {
            let stored = raw.type_info();
            let stored = stored.name();
            cell(i, column.type_info().name(), stored).map_err(err)?.ok_or_else(|| unsupported(name, stored))?
        };
        out.insert(name.to_owned(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_numbers() {
        assert_eq!(decimal(Decimal::new(1234, 2)), serde_json::json!(12.34));
        assert_eq!(decimal(Decimal::new(4200, 2)), serde_json::json!(42));
        assert_eq!(float32(0.1), serde_json::json!(0.1));
        assert_eq!(hex(&[0xde, 0xad, 0x01]), serde_json::json!("dead01"));
    }
}
