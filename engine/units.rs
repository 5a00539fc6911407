//! Durations (`5s`, `250ms`, `2m`, `1h`, `1d`) and sizes (`200MB`, `1GiB`)
//! as playbooks write them. Sizes use powers of 1024, as Redis, PM2 and
//! `free -m` do, so `bytes("200MB")` matches what those tools print.

use std::time::Duration;

/// A duration or size that does not read; each names the text it was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("`{0}` is not a duration; write a number and a unit, e.g. `5s`, `250ms`, `2m`")]
    NotADuration(String),
    #[error("unknown duration unit `{unit}` in `{text}`; use ms, s, m, h or d")]
    DurationUnit { unit: String, text: String },
    #[error("duration `{0}` is out of range")]
    DurationRange(String),
    #[error("`{0}` is not a size; write a number and a unit, e.g. `200MB`, `1GB`")]
    NotASize(String),
    #[error("unknown size unit `{unit}` in `{text}`; use B, KB, MB, GB or TB")]
    SizeUnit { unit: String, text: String },
    #[error("size `{0}` is negative")]
    NegativeSize(String),
    #[error("size `{0}` is out of range")]
    SizeRange(String),
}

/// What [`parse_duration`] reads, as a JSON Schema pattern, so editors flag
/// `5 minutes` as they type (the schema is generated from the model).
pub const DURATION_PATTERN: &str = r"^\s*([0-9]+\.?[0-9]*|\.[0-9]+)\s*(ms|s|m|min|h|d)?\s*$";

/// [`DURATION_PATTERN`], or a `{{template}}` filled in when the step runs (probe parameters).
pub const TEMPLATED_DURATION_PATTERN: &str = r"^\s*([0-9]+\.?[0-9]*|\.[0-9]+)\s*(ms|s|m|min|h|d)?\s*$|\{\{";

/// What [`parse_size`] reads, as a JSON Schema pattern (a size parameter is checked
/// before the run, so it takes no template).
pub const SIZE_PATTERN: &str = r"^\s*([0-9]+\.?[0-9]*|\.[0-9]+)\s*([KkMmGgTt]([Ii]?[Bb])?|[Bb])?\s*$";

/// Parses a duration such as `5s`, `250ms`, `1.5m`, `2h` or `1d`.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let (number, unit) = split_number(text.trim()).ok_or_else(|| UnitError::NotADuration(text.to_owned()))?;
    let scale = match unit {
        "ms" => 0.001,
        "s" | "" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        other => return Err(UnitError::DurationUnit { unit: other.to_owned(), text: text.to_owned() }),
    };
    let seconds = number * scale;
    if !seconds.is_finite() || !(0.0..=1e9).contains(&seconds) {
        return Err(UnitError::DurationRange(text.to_owned()));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses a size such as `512`, `200MB`, `1.5GiB` into bytes.
pub fn parse_size(text: &str) -> Result<f64, UnitError> {
    let (number, unit) = split_number(text.trim()).ok_or_else(|| UnitError::NotASize(text.to_owned()))?;
    let power = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 1,
        "m" | "mb" | "mib" => 2,
        "g" | "gb" | "gib" => 3,
        "t" | "tb" | "tib" => 4,
        _ => return Err(UnitError::SizeUnit { unit: unit.to_owned(), text: text.to_owned() }),
    };
    if number < 0.0 {
        return Err(UnitError::NegativeSize(text.to_owned()));
    }
    let bytes = number * 1024f64.powi(power);
    // Hundreds of digits overflow to infinity, which a cap would read as "no cap".
    if !bytes.is_finite() {
        return Err(UnitError::SizeRange(text.to_owned()));
    }
    Ok(bytes)
}

/// `5s`, `250ms`, `1.5s`.
pub fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn split_number(text: &str) -> Option<(f64, &str)> {
    let end = text.char_indices().find(|&(_, c)| !(c.is_ascii_digit() || c == '.')).map_or(text.len(), |(i, _)| i);
    let number = text[..end].parse::<f64>().ok()?;
    Some((number, text[end..].trim()))
}

/// `512 B`, `1.5 KiB`, `2.0 GiB`.
pub fn show_bytes(n: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n;
    let mut unit = 0;
    while value.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{value} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_common_units() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
    }

    #[test]
    fn bad_durations_say_why() {
        assert!(parse_duration("soon").unwrap_err().to_string().contains("not a duration"));
        assert!(parse_duration("5 weeks").unwrap_err().to_string().contains("unknown duration unit"));
        assert!(parse_duration("1e400s").is_err());
    }

    #[test]
    fn sizes_are_powers_of_1024() {
        assert_eq!(parse_size("200MB").unwrap(), 200.0 * 1024.0 * 1024.0);
        assert_eq!(parse_size("1GiB").unwrap(), 1024f64.powi(3));
        assert_eq!(parse_size("512").unwrap(), 512.0);
        assert!(parse_size("12 parsecs").is_err());
    }

    #[test]
    fn a_size_too_large_for_a_number_is_refused() {
        let huge = format!("{}MB", "9".repeat(400));
        assert_eq!(parse_size(&huge).unwrap_err().to_string(), format!("size `{huge}` is out of range"));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    const DURATION_UNITS: [(&str, f64); 6] =
        [("ms", 0.001), ("s", 1.0), ("", 1.0), ("m", 60.0), ("min", 60.0), ("h", 3600.0)];
    const SIZE_UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(show_bytes(512.0), "512 B");
        assert_eq!(show_bytes(1536.0), "1.5 KiB");
        assert_eq!(show_bytes(2.0 * 1024.0 * 1024.0 * 1024.0), "2.0 GiB");
    }

    proptest! {
        #[test]
        fn no_text_makes_the_parsers_panic(text in ".{0,40}") {
            let _ = parse_duration(&text);
            let _ = parse_size(&text);
        }

        #[test]
        fn digit_heavy_text_never_panics_either(text in "[0-9.]{0,400}[a-zA-Z ]{0,4}") {
            let _ = parse_duration(&text);
            let _ = parse_size(&text);
        }

        #[test]
        fn a_parsed_duration_is_within_range(text in "[0-9]{0,30}(\\.[0-9]{0,5})?(ms|s|m|min|h|d)?") {
            if let Ok(d) = parse_duration(&text) {
                prop_assert!(d.as_secs_f64() <= 1e9, "{text} gave {d:?}");
            }
        }

        #[test]
        fn a_parsed_size_is_a_finite_non_negative_number(text in "[0-9]{0,400}(\\.[0-9]{0,5})?\\s?(b|kb|KiB|M|MB|gb|TB)?") {
            if let Ok(n) = parse_size(&text) {
                prop_assert!(n.is_finite() && n >= 0.0, "{text} gave {n}");
            }
        }

        #[test]
        fn whole_numbers_of_a_unit_parse_exactly(n in 0u64..250_000, unit in 0..DURATION_UNITS.len()) {
            let (name, scale) = DURATION_UNITS[unit];
            let d = parse_duration(&format!("{n}{name}")).unwrap();
            prop_assert_eq!(d, Duration::from_secs_f64(n as f64 * scale));
        }

        #[test]
        fn a_shown_duration_parses_back_to_within_the_digit_it_shows(ms in 0u64..1_000_000_000) {
            let d = Duration::from_millis(ms);
            let shown = show_duration(d);
            let back = parse_duration(&shown).unwrap();
            // Whole seconds and sub-second values are exact; others show one decimal.
            let exact = ms < 1000 || ms % 1000 == 0;
            let error = (back.as_secs_f64() - d.as_secs_f64()).abs();
            prop_assert!(if exact { error < 1e-9 } else { error <= 0.05 + 1e-9 }, "{ms}ms shown as {shown}, read back as {back:?}");
        }

        #[test]
        fn more_of_a_unit_is_a_longer_duration(a in 0u32..100_000, b in 0u32..100_000, unit in 0..DURATION_UNITS.len()) {
            let name = DURATION_UNITS[unit].0;
            let (low, high) = (a.min(b), a.max(b));
            let (shorter, longer) = (parse_duration(&format!("{low}{name}")), parse_duration(&format!("{high}{name}")));
            prop_assert!(shorter.unwrap() <= longer.unwrap());
        }

        #[test]
        fn each_size_unit_is_1024_of_the_one_before(n in 1u32..1_000_000, unit in 1..SIZE_UNITS.len()) {
            let smaller = parse_size(&format!("{n}{}", SIZE_UNITS[unit - 1])).unwrap();
            let larger = parse_size(&format!("{n}{}", SIZE_UNITS[unit])).unwrap();
            prop_assert_eq!(larger, smaller * 1024.0);
        }

        #[test]
        fn size_units_ignore_case_spaces_and_the_i(n in 0u32..1_000_000, unit in 1..SIZE_UNITS.len()) {
            let name = SIZE_UNITS[unit];
            let binary = format!("{}iB", &name[..1]);
            let expected = parse_size(&format!("{n}{name}")).unwrap();
            for text in [format!("{n} {}", name.to_lowercase()), format!(" {n}{binary} "), format!("{n}{}", &name[..1])] {
                prop_assert_eq!(parse_size(&text).unwrap(), expected, "{}", text);
            }
        }

        #[test]
        fn a_size_the_reports_show_parses_back_to_within_its_rounding(n in 0.0f64..1e15) {
            // The report's `bytes` helper prints one decimal of the largest unit: `1.5 GiB`.
            let shown = show_bytes(n);
            let back = parse_size(&shown).unwrap();
            let unit = 1024f64.powi(((n.max(1.0)).log(1024.0).floor() as i32).clamp(0, 5));
            prop_assert!((back - n).abs() <= 0.05 * unit + 1e-6, "{n} shown as {shown}, read back as {back}");
        }
    }
}
