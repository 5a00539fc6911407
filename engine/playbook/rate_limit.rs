//! An action's `max_runs: K per D`: at most K runs of it within any D, counted
//! from the history, as a circuit breaker against a script that fires it again
//! and again.

use std::time::Duration;

use crate::units::parse_duration;

/// A parsed `max_runs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// How many runs the period allows (at least 1).
    pub count: u32,
    /// The period, counted back from now.
    pub per: Duration,
    /// As the playbook wrote it, trimmed: `1 per 1h`.
    pub text: String,
}

impl RateLimit {
    /// Reads `1 per 1h`, `3 per 30m` (the duration as `timeout` takes it, more than 0).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`max_runs: {text}` is not `COUNT per DURATION`, e.g. `1 per 1h`");
        let (count, per) = text.trim().split_once(" per ").ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let per = parse_duration(per.trim()).map_err(|e| format!("`max_runs: {text}`: {e}"))?;
        if count == 0 || per.is_zero() {
            return Err(format!("`max_runs: {text}`: the count and the period must be more than 0"));
        }
        Ok(Self { count, per, text: text.trim().to_owned() })
    }
}

impl std::fmt::Display for RateLimit {
    /// `1 per 1h`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_per_a_duration_is_read() {
        assert_eq!(
            RateLimit::parse("1 per 1h"),
            Ok(RateLimit { count: 1, per: Duration::from_secs(3600), text: "1 per 1h".into() })
        );
        assert_eq!(RateLimit::parse(" 3  per 30m ").map(|r| r.count), Ok(3));
    }

    #[test]
    fn nonsense_zero_and_a_bad_unit_are_refused() {
        for text in ["1/h", "0 per 1h", "1 per 0s", "one per 1h", "1 per 1 fortnight"] {
            assert!(RateLimit::parse(text).is_err(), "{text}");
        }
    }
}
