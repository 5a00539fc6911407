//! When `runbook watch` and `runbook serve` run a playbook: every interval,
//! optionally only inside a daily window (`--between 09:00-17:30`) on some
//! weekdays (`--days mon-fri`), read in a time zone (`--tz`, default local).
//!
//! Runs keep a fixed cadence from their anchor (the start, or the opening of
//! the window), so a slow run does not push every later run back; the slots
//! a run overran are skipped, never run late in a burst. A window whose end
//! is before its start crosses midnight; a slot's weekday is the local date
//! the slot falls on.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveTime, Utc};

pub use crate::local_time::{ScheduleError, Zone, parse_days};

/// A playbook's schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub every: Duration,
    /// Start and end of the daily window, end excluded.
    pub window: Option<(NaiveTime, NaiveTime)>,
    /// Monday first.
    pub days: [bool; 7],
    pub zone: Zone,
}

/// The next run, and how many slots the previous run overran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Next {
    pub at: DateTime<Utc>,
    pub skipped: u32,
}

impl Schedule {
    /// Every `every`, any day, any time.
    pub fn every(every: Duration) -> Self {
        Self { every, window: None, days: [true; 7], zone: Zone::Local }
    }

    /// Whether a run may start at `t`.
    pub fn allows(&self, t: DateTime<Utc>) -> bool {
        let local = self.zone.to_local(t);
        if !self.days[local.weekday().num_days_from_monday() as usize] {
            return false;
        }
        match self.window {
            None => true,
            Some((start, end)) if start <= end => local.time() >= start && local.time() < end,
            Some((start, end)) => local.time() >= start || local.time() < end,
        }
    }

    /// The first run: now if allowed, else the next opening.
    pub fn first(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        if self.allows(now) { now } else { self.opening_after(now) }
    }

    /// The run after the one scheduled at `slot`, now that it is `now`.
    pub fn after(&self, slot: DateTime<Utc>, now: DateTime<Utc>) -> Next {
        let step = chrono::Duration::from_std(self.every).unwrap_or(chrono::Duration::MAX);
        let mut at = slot.checked_add_signed(step).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut skipped = 0;
        while at <= now && at < DateTime::<Utc>::MAX_UTC {
            at = at.checked_add_signed(step).unwrap_or(DateTime::<Utc>::MAX_UTC);
            skipped += 1;
        }
        let at = if self.allows(at) { at } else { self.opening_after(at) };
        Next { at, skipped }
    }

    /// The next moment after `t` at which the window opens on an allowed day.
    fn opening_after(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let opens = self.window.map_or(NaiveTime::MIN, |(start, _)| start);
        let today = self.zone.to_local(t).date();
        for offset in 0..=8 {
            let Some(day) = today.checked_add_days(chrono::Days::new(offset)) else { break };
            if !self.days[day.weekday().num_days_from_monday() as usize] {
                continue;
            }
            // An opening inside the hour clocks skip moves to the first minute that exists.
            let candidate =
                (0..=120).find_map(|m| self.zone.instant_of(day.and_time(opens) + chrono::Duration::minutes(m)));
            if let Some(at) = candidate.filter(|at| *at > t) {
                return at;
            }
        }
        DateTime::<Utc>::MAX_UTC
    }
}

/// `09:00-17:30`: the window's start and end (end excluded; before the start means across midnight).
pub fn parse_window(text: &str) -> Result<(NaiveTime, NaiveTime), ScheduleError> {
    let bad = || ScheduleError::Window(text.to_owned());
    let (start, end) = text.split_once('-').ok_or_else(bad)?;
    let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| bad());
    let (start, end) = (time(start)?, time(end)?);
    if start == end {
        return Err(ScheduleError::EmptyWindow(text.to_owned()));
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn market() -> Schedule {
        Schedule {
            every: Duration::from_secs(3600),
            window: Some(parse_window("09:00-17:30").unwrap()),
            days: parse_days("mon-fri").unwrap(),
            zone: Zone::parse("Europe/London").unwrap(),
        }
    }

    #[test]
    fn days_and_windows_parse() {
        assert_eq!(parse_days("mon-fri").unwrap(), [true, true, true, true, true, false, false]);
        assert_eq!(parse_days("fri-mon").unwrap(), [true, false, false, false, true, true, true]);
        assert_eq!(parse_days("Sat,sunday").unwrap(), [false, false, false, false, false, true, true]);
        assert!(parse_days("funday").unwrap_err().to_string().contains("`funday`"));
        assert!(parse_window("9-5").is_err());
        assert!(parse_window("09:00-09:00").unwrap_err().to_string().contains("empty"));
        assert!(Zone::parse("Mars/Olympus").unwrap_err().to_string().contains("`Mars/Olympus`"));
    }

    #[test]
    fn outside_the_window_waits_for_the_next_opening() {
        let s = market();
        // Saturday noon in London (BST, UTC+1): next opening Monday 09:00 BST = 08:00 UTC.
        assert_eq!(s.first(utc("2025-06-14T11:00:00Z")), utc("2025-06-16T08:00:00Z"));
        // Inside the window: now.
        assert_eq!(s.first(utc("2025-06-16T10:15:00Z")), utc("2025-06-16T10:15:00Z"));
        // Winter (GMT): 09:00 local = 09:00 UTC.
        assert_eq!(s.first(utc("2025-01-11T12:00:00Z")), utc("2025-01-13T09:00:00Z"));
    }

    #[test]
    fn cadence_holds_and_overruns_skip_slots() {
        let s = market();
        let slot = utc("2025-06-16T08:00:00Z");
        assert_eq!(s.after(slot, utc("2025-06-16T08:01:00Z")), Next { at: utc("2025-06-16T09:00:00Z"), skipped: 0 });
        // The run took 2.5 hours: two slots are skipped, the next is on the cadence.
        assert_eq!(s.after(slot, utc("2025-06-16T10:30:00Z")), Next { at: utc("2025-06-16T11:00:00Z"), skipped: 2 });
        // 16:00 BST is the last slot; 17:00 BST is inside too; 18:00 is not: Tuesday 09:00.
        let last = utc("2025-06-16T16:00:00Z");
        assert_eq!(s.after(last, utc("2025-06-16T16:00:05Z")).at, utc("2025-06-17T08:00:00Z"));
    }

    #[test]
    fn a_window_across_midnight() {
        let s = Schedule { window: Some(parse_window("22:00-02:00").unwrap()), zone: Zone::Utc, ..market() };
        assert!(s.allows(utc("2025-06-16T23:30:00Z")));
        assert!(s.allows(utc("2025-06-17T01:30:00Z")));
        assert!(!s.allows(utc("2025-06-17T12:00:00Z")));
    }
}
