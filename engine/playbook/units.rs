//! Durations (`5s`, `250ms`, `2m`, `1h`, `1d`) and sizes (`200MB`, `1GiB`)
//! as playbooks write them. Sizes use powers of 1024, as Redis, PM2 and
//! `free -m` do, so `bytes("200MB")` matches what those tools print.

use std::time::Duration;

/// Parses a duration such as `5s`, `250ms`, `1.5m`, `2h` or `1d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = split_number(text.trim())
        .ok_or_else(|| format!("`{text}` is not a duration; write a number and a unit, e.g. `5s`, `250ms`, `2m`"))?;
    let scale = match unit {
        "ms" => 0.001,
        "s" | "" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        other => return Err(format!("unknown duration unit `{other}` in `{text}`; use ms, s, m, h or d")),
    };
    let seconds = number * scale;
    if !seconds.is_finite() || !(0.0..=1e9).contains(&seconds) {
        return Err(format!("duration `{text}` is out of range"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses a size such as `512`, `200MB`, `1.5GiB` into bytes.
pub fn parse_size(text: &str) -> Result<f64, String> {
    let (number, unit) = split_number(text.trim())
        .ok_or_else(|| format!("`{text}` is not a size; write a number and a unit, e.g. `200MB`, `1GB`"))?;
    let power = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 1,
        "m" | "mb" | "mib" => 2,
        "g" | "gb" | "gib" => 3,
        "t" | "tb" | "tib" => 4,
        _ => return Err(format!("unknown size unit `{unit}` in `{text}`; use B, KB, MB, GB or TB")),
    };
    if number < 0.0 {
        return Err(format!("size `{text}` is negative"));
    }
    Ok(number * 1024f64.powi(power))
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
        assert!(parse_duration("soon").unwrap_err().contains("not a duration"));
        assert!(parse_duration("5 weeks").unwrap_err().contains("unknown duration unit"));
        assert!(parse_duration("1e400s").is_err());
    }

    #[test]
    fn sizes_are_powers_of_1024() {
        assert_eq!(parse_size("200MB").unwrap(), 200.0 * 1024.0 * 1024.0);
        assert_eq!(parse_size("1GiB").unwrap(), 1024f64.powi(3));
        assert_eq!(parse_size("512").unwrap(), 512.0);
        assert!(parse_size("12 parsecs").is_err());
    }
}
