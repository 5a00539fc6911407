//! Local time as playbooks and schedules name it: a time zone (`UTC`, `local`,
//! an IANA name) and weekdays (`mon-fri`). Shared by `watch`/`serve` schedules
//! (monitor) and `active:` windows (playbook), so it depends on neither.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

/// A schedule's part that does not read; each names the text it was given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("`{0}` is not a time zone; write an IANA name such as `Europe/London`, or `UTC`, `local`")]
    Zone(String),
    #[error("`{0}` is not a time window; write `HH:MM-HH:MM`, e.g. `09:00-17:30`")]
    Window(String),
    #[error("`{0}`: the window is empty; its start and end are the same")]
    EmptyWindow(String),
    #[error("`{0}` is not a weekday; write `mon`, `tue`, ... `sun`, ranges like `mon-fri`")]
    Day(String),
    #[error("`{0}` names no weekday")]
    NoDay(String),
}

/// The time zone the window and days are read in.
#[derive(Debug, Clone, Copy)]
pub enum Zone {
    Utc,
    Local,
    Named(chrono_tz::Tz),
}

impl Zone {
    /// `UTC`, `local`, or an IANA name such as `Europe/London`.
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        match text {
            "UTC" | "utc" | "Z" => Ok(Self::Utc),
            "local" => Ok(Self::Local),
            name => name.parse::<chrono_tz::Tz>().map(Self::Named).map_err(|_| ScheduleError::Zone(name.to_owned())),
        }
    }

    pub fn to_local(self, t: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Self::Utc => t.naive_utc(),
            Self::Local => t.with_timezone(&chrono::Local).naive_local(),
            Self::Named(tz) => t.with_timezone(&tz).naive_local(),
        }
    }

    /// The instant a local time names; the earlier one when clocks go back,
    /// `None` inside the hour clocks skip.
    pub fn instant_of(self, n: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self {
            Self::Utc => Some(n.and_utc()),
            Self::Local => chrono::Local.from_local_datetime(&n).earliest().map(|d| d.with_timezone(&Utc)),
            Self::Named(tz) => tz.from_local_datetime(&n).earliest().map(|d| d.with_timezone(&Utc)),
        }
    }
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `mon-fri`, `sat,sun`, `fri-mon`: the allowed weekdays, Monday first.
pub fn parse_days(text: &str) -> Result<[bool; 7], ScheduleError> {
    let day = |name: &str| {
        let name = name.trim().to_ascii_lowercase();
        let prefix = name.get(..3).unwrap_or("");
        DAY_NAMES
            .iter()
            .position(|d| *d == prefix && d.len() <= name.len())
            .ok_or_else(|| ScheduleError::Day(name.trim().to_owned()))
    };
    let mut days = [false; 7];
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        match part.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day(from)?, day(to)?);
                let mut d = from;
                loop {
                    days[d] = true;
                    if d == to {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days[day(part)?] = true,
        }
    }
    if !days.contains(&true) {
        return Err(ScheduleError::NoDay(text.to_owned()));
    }
    Ok(days)
}
