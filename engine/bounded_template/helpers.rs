//! Template helpers: verdict icons, durations, bytes, numbers and values, as
//! pure functions (tested here) and as handlebars helpers (registered by
//! [`register`]). Custom templates get the same ones.

use handlebars::{Handlebars, handlebars_helper};
use serde_json::Value;

use crate::record::Verdict;
use crate::units::show_bytes;

/// ✓ ! ✗ ‼ – ? ~ · for pass, warn, fail, error, skipped, pending, waived, not_due.
pub fn icon(verdict: &str) -> &'static str {
    match verdict {
        "pass" => "✓",
        "warn" => "!",
        "fail" => "✗",
        "error" => "‼",
        "skipped" => "–",
        "pending" => "?",
        "waived" => "~",
        "not_due" => "·",
        _ => "·",
    }
}

/// `0ms`, `850ms`, `1.25s`, `2m 05s`, `1h 02m`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{:.2}s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{}m {:02}s", ms / 60_000, ms % 60_000 / 1000),
        _ => format!("{}h {:02}m", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

/// A number with thousands separators and `decimals` places: `-12,345.68`.
pub fn number(n: f64, decimals: usize) -> String {
    if !n.is_finite() {
        return n.to_string();
    }
    let text = format!("{:.*}", decimals, n.abs());
    let (whole, fraction) = text.split_once('.').map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if n < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// A captured or summary value as a person reads it: strings bare, integers
/// grouped, other numbers to 2 places, null as `—`, the rest as JSON.
pub fn value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_owned(),
        Value::Number(n) if n.is_i64() || n.is_u64() => number(n.as_f64().unwrap_or(0.0), 0),
        Value::Number(n) => number(n.as_f64().unwrap_or(0.0), 2),
        other => other.to_string(),
    }
}

/// `2026-11-25T21:18:03.123Z` → `2026-11-25 21:18:03 UTC`; other text unchanged.
pub fn time(text: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(text) {
        Ok(t) if t.offset().local_minus_utc() == 0 => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Ok(t) => t.format("%Y-%m-%d %H:%M:%S %:z").to_string(),
        Err(_) => text.to_owned(),
    }
}

handlebars_helper!(IconHelper: |v: str| icon(v));
handlebars_helper!(DurationHelper: |ms: u64| duration(ms));
handlebars_helper!(BytesHelper: |n: f64| show_bytes(n));
handlebars_helper!(NumberHelper: |n: f64, {decimals: u64 = 2}| number(n, usize::try_from(decimals).unwrap_or(2).min(12)));
handlebars_helper!(ValueHelper: |v: Json| value(v));
handlebars_helper!(TimeHelper: |t: str| time(t));
handlebars_helper!(UpperHelper: |t: str| t.to_uppercase());
handlebars_helper!(LinesHelper: |t: str| t.lines().map(|l| Value::String(l.to_owned())).collect::<Vec<_>>());
handlebars_helper!(IsBadHelper: |v: str| matches!(v, "fail" | "error"));

/// Registers every helper: `icon`, `duration`, `bytes`, `number` (`decimals=`),
/// `value`, `time`, `upper`, `lines` and `is_bad`.
pub fn register(registry: &mut Handlebars) {
    registry.register_helper("icon", Box::new(IconHelper));
    registry.register_helper("duration", Box::new(DurationHelper));
    registry.register_helper("bytes", Box::new(BytesHelper));
    registry.register_helper("number", Box::new(NumberHelper));
    registry.register_helper("value", Box::new(ValueHelper));
    registry.register_helper("time", Box::new(TimeHelper));
    registry.register_helper("upper", Box::new(UpperHelper));
    registry.register_helper("lines", Box::new(LinesHelper));
    registry.register_helper("is_bad", Box::new(IsBadHelper));
}

impl Verdict {
    /// The icon the reports show.
    pub fn icon(self) -> &'static str {
        icon(self.name())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0), "0ms");
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(1250), "1.25s");
        assert_eq!(duration(125_000), "2m 05s");
        assert_eq!(duration(3_720_000), "1h 02m");
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(number(1_234_567.891, 2), "1,234,567.89");
        assert_eq!(number(-12_345.0, 0), "-12,345");
        assert_eq!(number(999.0, 0), "999");
        assert_eq!(number(-0.001, 2), "0.00");
    }

    #[test]
    fn values_show_as_a_person_reads_them() {
        assert_eq!(value(&json!("ok")), "ok");
        assert_eq!(value(&json!(12345)), "12,345");
        assert_eq!(value(&json!(0.5)), "0.50");
        assert_eq!(value(&json!(null)), "—");
        assert_eq!(value(&json!([1, 2])), "[1,2]");
    }

    #[test]
    fn utc_times_are_shown_plainly() {
        assert_eq!(time("2026-11-25T21:18:03.123Z"), "2026-11-25 21:18:03 UTC");
        assert_eq!(time("2026-11-25T22:18:03+01:00"), "2026-11-25 22:18:03 +01:00");
    }
}
