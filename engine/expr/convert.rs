//! JSON to CEL and back. JSON integers become `int` (or `uint` past i64),
//! other numbers `double`, so `uptime > 0` and `cpu_pct < 50` both work.

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::Key;
use serde_json::Value;

/// A JSON value as a CEL value.
pub fn to_cel(value: &Value) -> cel::Value {
    match value {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => cel::Value::Int(i),
            (None, Some(u)) => cel::Value::UInt(u),
            _ => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => cel::Value::String(Arc::new(s.clone())),
        Value::Array(items) => cel::Value::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(fields) => {
            let map: HashMap<Key, cel::Value> =
                fields.iter().map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v))).collect();
            cel::Value::Map(cel::objects::Map { map: Arc::new(map) })
        }
    }
}

/// A CEL value as JSON (durations as seconds, timestamps as RFC 3339).
pub fn from_cel(value: &cel::Value) -> Value {
    match value {
        cel::Value::Null => Value::Null,
        cel::Value::Bool(b) => Value::Bool(*b),
        cel::Value::Int(i) => (*i).into(),
        cel::Value::UInt(u) => (*u).into(),
        cel::Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        cel::Value::String(s) => Value::String(s.as_ref().clone()),
        cel::Value::Bytes(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        cel::Value::List(items) => Value::Array(items.iter().map(from_cel).collect()),
        cel::Value::Map(map) => {
            let mut entries: Vec<(String, Value)> = map.map.iter().map(|(k, v)| (key_text(k), from_cel(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        cel::Value::Duration(d) => serde_json::json!(d.num_milliseconds() as f64 / 1000.0),
        cel::Value::Timestamp(t) => Value::String(t.to_rfc3339()),
        // A function, struct or opaque value: its type, not the library's debug text.
        other => Value::String(format!("<{}>", other.type_of())),
    }
}

fn key_text(key: &Key) -> String {
    match key {
        Key::Int(i) => i.to_string(),
        Key::Uint(u) => u.to_string(),
        Key::Bool(b) => b.to_string(),
        Key::String(s) => s.as_ref().clone(),
    }
}
