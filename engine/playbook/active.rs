//! Active windows (`active:` on a playbook or a step): when a step is due. Outside
//! its window (another weekday, a holiday, before the open or after the close in
//! the window's time zone) a step is not run and is `not_due` — never a pass.
//!
//! The window is a span of instants on the local date: from the instant its
//! local `from` names to the one its `to` names, end excluded. When clocks go
//! back, a local time that happens twice means its first occurrence; when they
//! go forward, a local time the clock skips means the moment the clock jumps
//! (the first local time after the gap). A window that crosses midnight is
//! refused: write two steps, or two playbooks, one each side of it.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};

use super::diagnostic::Pos;
use super::model::ActiveEntry;
use crate::local_time::{Zone, parse_days};

/// A checked `active:` window.
#[derive(Debug, Clone)]
pub struct Window {
    /// Monday first.
    days: [bool; 7],
    from: NaiveTime,
    to: NaiveTime,
    zone: Zone,
    /// As written, for messages.
    tz: String,
    holidays: BTreeSet<NaiveDate>,
    /// The holidays file as the playbook names it.
    holidays_file: Option<String>,
}

/// How long a clock may skip: the walk past a gap stops after this.
const LONGEST_GAP_MINUTES: i64 = 24 * 60;

impl Window {
    /// Checks an `active:` entry; `base_dir` is the playbook's folder (holidays files are
    /// relative to it). A problem comes with its place in the playbook.
    pub fn build(entry: &ActiveEntry, base_dir: &Path) -> Result<Self, (Pos, String)> {
        let zone = Zone::parse(&entry.tz.value).map_err(|e| (entry.tz.referenced.into(), e.to_string()))?;
        let time = |t: &super::model::Spanned<String>| {
            ["%H:%M", "%H:%M:%S"].iter().find_map(|f| NaiveTime::parse_from_str(t.value.trim(), f).ok()).ok_or_else(
                || (Pos::from(t.referenced), format!("`{}` is not a time; write `HH:MM`, e.g. `09:30`", t.value)),
            )
        };
        let (from, to) = (time(&entry.from)?, time(&entry.to)?);
        if from >= to {
            let message = format!(
                "the window `{}`-`{}` is empty or crosses midnight; `from` must be before `to` (split a window across \
                 midnight in two)",
                entry.from.value, entry.to.value
            );
            return Err((entry.from.referenced.into(), message));
        }
        let days = match &entry.days {
            Some(days) => parse_days(&days.value.join(",")).map_err(|e| (days.referenced.into(), e.to_string()))?,
            None => [true; 7],
        };
        let holidays = match &entry.holidays {
            Some(file) => read_holidays(&base_dir.join(&file.value), &file.value)
                .map_err(|message| (Pos::from(file.referenced), message))?,
            None => BTreeSet::new(),
        };
        Ok(Self {
            days,
            from,
            to,
            zone,
            tz: entry.tz.value.clone(),
            holidays,
            holidays_file: entry.holidays.as_ref().map(|f| f.value.clone()),
        })
    }

    /// `Ok` when a step with this window is due at `now`; otherwise why it is not.
    pub fn due(&self, now: DateTime<Utc>) -> Result<(), String> {
        let local = self.zone.to_local(now);
        let date = local.date();
        let shown = format!("{} {}", local.format("%a %Y-%m-%d %H:%M:%S"), self.tz);
        if !self.days[date.weekday().num_days_from_monday() as usize] {
            return Err(format!("not due: {shown} is not an active day ({})", self.describe()));
        }
        if self.holidays.contains(&date) {
            let file = self.holidays_file.as_deref().unwrap_or("holidays");
            return Err(format!("not due: {date} is a holiday ({file})"));
        }
        let (start, end) = (self.instant(date.and_time(self.from)), self.instant(date.and_time(self.to)));
        if now < start || now >= end {
            return Err(format!("not due: {shown} is outside its active window ({})", self.describe()));
        }
        Ok(())
    }

    /// `09:30-16:00 mon,tue,wed,thu,fri America/New_York` (`every day` for all seven).
    pub fn describe(&self) -> String {
        const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        let days: Vec<&str> = NAMES.iter().zip(self.days).filter(|(_, on)| *on).map(|(n, _)| *n).collect();
        let days = if days.len() == 7 { "every day".to_owned() } else { days.join(",") };
        format!("{}-{} {days} {}", self.from.format("%H:%M"), self.to.format("%H:%M"), self.tz)
    }

    /// The instant local time `at` names: the first when it happens twice, the end of the
    /// gap when the clock skips it.
    fn instant(&self, at: NaiveDateTime) -> DateTime<Utc> {
        if let Some(t) = self.zone.instant_of(at) {
            return t;
        }
        // Gaps begin and end on whole minutes: the first minute after `at` that exists is the jump.
        let minute = at.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(at);
        (1..=LONGEST_GAP_MINUTES)
            .find_map(|m| self.zone.instant_of(minute + Duration::minutes(m)))
            .unwrap_or_else(|| at.and_utc())
    }
}

/// A holidays file: one `YYYY-MM-DD` a line; blank lines and `#` comments are ignored.
/// A problem names the file (as the playbook wrote it), line and column.
fn read_holidays(path: &Path, shown: &str) -> Result<BTreeSet<NaiveDate>, String> {
    let text = super::load::read_companion(path).map_err(|e| format!("holidays: {e}"))?;
    let mut dates = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("");
        let date = content.trim();
        if date.is_empty() {
            continue;
        }
        let column = content.len() - content.trim_start().len() + 1;
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| format!("{shown}:{}:{column}: `{date}` is not a date of the form YYYY-MM-DD", n + 1))?;
        dates.insert(date);
    }
    Ok(dates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(from: &str, to: &str) -> Window {
        Window {
            days: [true; 7],
            from: NaiveTime::parse_from_str(from, "%H:%M").unwrap(),
            to: NaiveTime::parse_from_str(to, "%H:%M").unwrap(),
            zone: Zone::parse("America/New_York").unwrap(),
            tz: "America/New_York".into(),
            holidays: BTreeSet::new(),
            holidays_file: None,
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_skipped_local_time_starts_when_the_clock_jumps() {
        // 2026-03-08: New York skips 02:00-03:00 (EST to EDT at 07:00Z).
        let w = window("02:30", "04:00");
        assert!(w.due(utc("2026-03-08T06:59:59Z")).is_err(), "01:59:59 EST");
        assert!(w.due(utc("2026-03-08T07:00:00Z")).is_ok(), "03:00:00 EDT");
    }

    #[test]
    fn a_repeated_local_time_means_its_first_occurrence() {
        // 2026-11-01: New York repeats 01:00-02:00 (EDT to EST at 06:00Z).
        let w = window("00:30", "01:30");
        assert!(w.due(utc("2026-11-01T05:29:59Z")).is_ok(), "01:29:59 EDT");
        assert!(w.due(utc("2026-11-01T05:30:00Z")).is_err(), "01:30:00 EDT ends it");
        assert!(w.due(utc("2026-11-01T06:10:00Z")).is_err(), "01:10 EST does not reopen it");
    }

    #[test]
    fn the_end_is_excluded() {
        let w = window("09:30", "16:00");
        assert!(w.due(utc("2026-03-09T13:30:00Z")).is_ok(), "09:30 EDT");
        assert!(w.due(utc("2026-03-09T19:59:59Z")).is_ok(), "15:59:59 EDT");
        assert!(w.due(utc("2026-03-09T20:00:00Z")).is_err(), "16:00 EDT");
    }
}
