//! How old a timestamp is, so data that stopped updating cannot pass as
//! healthy: `age(ts)` is the duration since `ts`, `fresh(ts, "10m")` whether
//! that is at most ten minutes. `ts` is an ISO 8601 / RFC 3339 text
//! (`2026-12-02T09:30:00Z`, `2026-12-02 09:30:00` read as UTC) or a number
//! since the epoch: seconds, milliseconds or microseconds, told apart by size,
//! or named by a second argument (`age(ts, "ms")`). A missing timestamp is an
//! error, never fresh.

use cel::extractors::Arguments;
use cel::objects::ResolveResult;
use cel::{Context, ExecutionError, Value};
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::units::parse_duration;

pub fn register(context: &mut Context) {
    super::functions::add(context, "age", |a: Arguments| -> ResolveResult {
        let (at, unit) = match a.0.as_slice() {
            [at] => (at.clone(), None),
            [at, Value::String(unit)] => (at.clone(), Some(unit.to_string())),
            _ => return Err(fail("age", "takes a timestamp and, optionally, its unit (`s`, `ms`, `us`)")),
        };
        let age = Utc::now() - instant("age", &at, unit.as_deref())?;
        Ok(Value::Duration(age))
    });
    super::functions::add(context, "fresh", |a: Arguments| -> ResolveResult {
        let [at, Value::String(limit)] = a.0.as_slice() else {
            return Err(fail("fresh", "takes a timestamp and a duration, e.g. `fresh(updated_at, \"10m\")`"));
        };
        let limit = parse_duration(limit).map_err(|e| fail("fresh", e))?;
        let age = Utc::now() - instant("fresh", at, None)?;
        let limit = chrono::Duration::from_std(limit).map_err(|e| fail("fresh", e))?;
        Ok(Value::Bool(age <= limit))
    });
}

fn fail(function: &str, message: impl ToString) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

/// The instant `value` names.
fn instant(function: &str, value: &Value, unit: Option<&str>) -> Result<DateTime<Utc>, ExecutionError> {
    let epoch = |n: f64| {
        let scale = match unit {
            Some("s") => 1.0,
            Some("ms") => 1e3,
            Some("us" | "µs") => 1e6,
            Some(other) => return Err(fail(function, format!("`{other}` is not a unit; use `s`, `ms` or `us`"))),
            // Seconds reach 1e11 in the year 5138; milliseconds, 1e14 in 5138 too.
            None if n.abs() < 1e11 => 1.0,
            None if n.abs() < 1e14 => 1e3,
            None => 1e6,
        };
        let micros = n / scale * 1e6;
        (micros.is_finite() && micros.abs() < 9e18)
            .then(|| DateTime::from_timestamp_micros(micros as i64))
            .flatten()
            .ok_or_else(|| fail(function, format!("{n} is out of range for a time")))
    };
    match value {
        Value::Timestamp(t) => Ok(t.with_timezone(&Utc)),
        Value::Int(n) => epoch(*n as f64),
        Value::UInt(n) => epoch(*n as f64),
        Value::Float(n) => epoch(*n),
        Value::String(text) => parse_text(text).ok_or_else(|| {
            fail(function, format!("`{text}` is not a time; write ISO 8601, e.g. `2026-12-02T09:30:00Z`"))
        }),
        Value::Null => Err(fail(function, "no timestamp (null): absent data is never fresh")),
        other => Err(fail(function, format!("needs a timestamp, got {}", super::from_cel(other)))),
    }
}

/// RFC 3339, or a date and time without a zone (read as UTC), or a number in a string.
fn parse_text(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    fn holds(source: &str, at: serde_json::Value) -> Result<bool, String> {
        crate::expr::holds_with(source, "ts", at)
    }

    #[test]
    fn every_timestamp_form_is_read() {
        let now = chrono::Utc::now();
        let five_min_ago = now - chrono::Duration::minutes(5);
        let forms = [
            json!(five_min_ago.to_rfc3339()),
            json!(five_min_ago.format("%Y-%m-%d %H:%M:%S").to_string()),
            json!(five_min_ago.timestamp()),
            json!(five_min_ago.timestamp_millis()),
            json!(five_min_ago.timestamp_micros()),
            json!(five_min_ago.timestamp() as f64 + 0.5),
        ];
        for form in forms {
            assert_eq!(holds(r#"fresh(ts, "10m")"#, form.clone()), Ok(true), "{form}");
            assert_eq!(holds(r#"fresh(ts, "1m")"#, form.clone()), Ok(false), "{form}");
            assert_eq!(
                holds(r#"age(ts) > duration("4m") && age(ts) < duration("6m")"#, form.clone()),
                Ok(true),
                "{form}"
            );
        }
        let seconds = json!(five_min_ago.timestamp());
        assert_eq!(holds(r#"age(ts, "s") < duration("6m")"#, seconds.clone()), Ok(true));
        assert_eq!(holds(r#"age(ts, "ms") > duration("100000h")"#, seconds), Ok(true), "seconds read as ms are 1970");
    }

    #[test]
    fn absent_or_unreadable_time_is_an_error_not_fresh() {
        assert!(holds(r#"fresh(ts, "10m")"#, json!(null)).unwrap_err().contains("never fresh"));
        assert!(holds(r#"fresh(ts, "10m")"#, json!("yesterday")).unwrap_err().contains("is not a time"));
        assert!(holds(r#"fresh(ts, "ten minutes")"#, json!(0)).is_err());
        assert!(holds(r#"age(ts, "h") > duration("1s")"#, json!(0)).unwrap_err().contains("not a unit"));
    }
}
