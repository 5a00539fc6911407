//! `runbook serve`'s status page (`GET /status`, and `GET /` with several
//! playbooks): per playbook its verdict, how old its last run is (marked
//! stale when older than two intervals), a strip of the last 24 hours' runs
//! and of the last 7 days (the worst verdict of each day) from the history,
//! and the failing steps with what they observed. One column on a phone.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};

use super::page::escape;
use crate::record::{RunRecord, Verdict};

/// One playbook on the status page.
pub struct Status<'a> {
    pub name: &'a str,
    pub latest: Option<&'a RunRecord>,
    /// Past runs from the history as (start, verdict), any order; empty without history.
    pub past: Vec<(DateTime<Utc>, Verdict)>,
}

/// The page at `now`; a last run older than `stale_after` is marked stale.
pub fn render(entries: &[Status], now: DateTime<Utc>, stale_after: Duration) -> String {
    let mut out = String::from(HEAD);
    let _ = writeln!(out, "<p class=\"muted\">{} (UTC)</p>", now.format("%Y-%m-%d %H:%M:%S"));
    for (i, entry) in entries.iter().enumerate() {
        card(&mut out, i + 1, entry, now, stale_after);
    }
    out.push_str("</body></html>\n");
    out
}

const HEAD: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>runbook status</title><style>\
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem}\
section{border:1px solid #d0d7de;border-radius:.5rem;padding:.75rem 1rem;margin:.75rem 0}\
h2{margin:.2rem 0;font-size:1.1rem}.muted{color:#6e7781}.badge{font-weight:600}\
.pass{color:#1a7f37}.warn{color:#9a6700}.fail,.error,.stale{color:#cf222e}.skipped,.pending,.waived{color:#6e7781}\
.strip{display:flex;flex-wrap:wrap;gap:2px;margin:.25rem 0}.strip span{width:.8rem;height:.8rem;border-radius:2px}\
.strip .pass{background:#2da44e}.strip .warn{background:#bf8700}.strip .fail,.strip .error{background:#cf222e}\
.strip .none,.strip .skipped,.strip .pending,.strip .waived{background:#d0d7de}\
.strip.days span{width:2rem}ul{padding-left:1.2rem}code{word-break:break-all}\
</style></head><body>\n<h1>Status</h1>\n";

fn card(out: &mut String, number: usize, entry: &Status, now: DateTime<Utc>, stale_after: Duration) {
    let name = escape(entry.name);
    let _ = write!(out, "<section class=\"playbook\"><h2><a href=\"/playbooks/{number}\">{name}</a> ");
    match entry.latest {
        None => out.push_str("<span class=\"badge pending\">first run in progress</span></h2>\n"),
        Some(record) => {
            let _ = writeln!(out, "<span class=\"badge {}\">{}</span></h2>", record.verdict.name(), words(record));
            let c = &record.counts;
            let _ = writeln!(
                out,
                "<p class=\"counts\">{} passed, {} warned, {} failed, {} errors, {} pending</p>",
                c.pass, c.warn, c.fail, c.error, c.pending
            );
            out.push_str(&age(record, now, stale_after));
        }
    }
    strip(out, "Last 24 hours", &runs_in(&entry.past, now, Duration::hours(24)));
    strip(out, "Last 7 days", &days(&entry.past, now));
    if let Some(record) = entry.latest {
        failing(out, record);
    }
    let _ = writeln!(
        out,
        "<p><a href=\"/playbooks/{number}\">report</a> · <a href=\"/playbooks/{number}/stats\">7-day stats</a> · \
         <a href=\"/fleet/{number}\">hosts</a></p></section>"
    );
}

/// `passed with 2 warnings`, else the verdict.
fn words(record: &RunRecord) -> String {
    match (record.verdict, record.counts.warn) {
        (Verdict::Warn, 1) => "passed with 1 warning".to_owned(),
        (Verdict::Warn, n) => format!("passed with {n} warnings"),
        (v, _) => v.name().to_owned(),
    }
}

fn age(record: &RunRecord, now: DateTime<Utc>, stale_after: Duration) -> String {
    let Ok(finished) = DateTime::parse_from_rfc3339(&record.finished) else { return String::new() };
    let ago = now.signed_duration_since(finished.with_timezone(&Utc));
    let text = ago_text(ago);
    if ago > stale_after {
        format!(
            "<p class=\"stale\">STALE: last run {text} ago, expected at least every {}</p>\n",
            ago_text(stale_after)
        )
    } else {
        format!("<p class=\"muted\">last run {text} ago</p>\n")
    }
}

fn ago_text(d: Duration) -> String {
    match d.num_seconds().max(0) {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// The runs started within `window` before `now`, oldest first, the newest 96 at most.
fn runs_in(past: &[(DateTime<Utc>, Verdict)], now: DateTime<Utc>, window: Duration) -> Vec<(String, &'static str)> {
    let mut runs: Vec<&(DateTime<Utc>, Verdict)> = past.iter().filter(|(at, _)| now - *at <= window).collect();
    runs.sort_by_key(|(at, _)| *at);
    let skip = runs.len().saturating_sub(96);
    runs.into_iter().skip(skip).map(|(at, v)| (format!("{} {}", at.format("%H:%M"), v.name()), v.name())).collect()
}

/// The 7 days up to `now`, oldest first: each day's worst verdict, or none.
fn days(past: &[(DateTime<Utc>, Verdict)], now: DateTime<Utc>) -> Vec<(String, &'static str)> {
    (0..7)
        .rev()
        .map(|back| {
            let day = (now - Duration::days(back)).date_naive();
            let verdicts: Vec<Verdict> =
                past.iter().filter(|(at, _)| at.date_naive() == day).map(|(_, v)| *v).collect();
            let worst = [Verdict::Error, Verdict::Fail, Verdict::Warn, Verdict::Pass]
                .into_iter()
                .find(|v| verdicts.contains(v))
                .map_or("none", Verdict::name);
            (format!("{day}: {} runs, worst {worst}", verdicts.len()), worst)
        })
        .collect()
}

fn strip(out: &mut String, label: &str, cells: &[(String, &str)]) {
    let days = if label.contains("days") { " days" } else { "" };
    let _ = write!(out, "<div class=\"muted\">{label}</div><div class=\"strip{days}\" aria-label=\"{label}\">");
    if cells.is_empty() {
        out.push_str("<em class=\"muted\">no runs</em>");
    }
    for (title, class) in cells {
        let _ = write!(out, "<span class=\"{class}\" title=\"{}\"></span>", escape(title));
    }
    out.push_str("</div>\n");
}

/// The latest run's failed and errored steps, with what they observed.
fn failing(out: &mut String, record: &RunRecord) {
    let bad: Vec<_> = record.steps.iter().filter(|s| matches!(s.verdict, Verdict::Fail | Verdict::Error)).collect();
    if bad.is_empty() {
        return;
    }
    out.push_str("<ul class=\"failing\">");
    for step in bad {
        let _ = write!(
            out,
            "<li><span class=\"{v}\">{v}</span> {} <code>{}</code></li>",
            escape(&step.title),
            escape(&step.message),
            v = step.verdict.name()
        );
    }
    out.push_str("</ul>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_run_whose_worst_is_a_warning_reads_passed_with_warnings_and_errors_count_apart() {
        let mut record: RunRecord =
            serde_json::from_str(include_str!("../../tests/report-record.json")).expect("record");
        record.verdict = Verdict::Warn;
        record.counts.warn = 3;
        assert_eq!(words(&record), "passed with 3 warnings");
        record.counts.warn = 1;
        assert_eq!(words(&record), "passed with 1 warning");
        let entry = Status { name: "p", latest: Some(&record), past: Vec::new() };
        let page = render(&[entry], Utc::now(), Duration::days(3650));
        let (fail, error) = (record.counts.fail, record.counts.error);
        assert!(page.contains(&format!("{fail} failed, {error} errors")), "{page}");
        assert!(page.contains("<em class=\"muted\">no runs</em>"), "no history, no strip: {page}");
    }

    #[test]
    fn an_old_last_run_is_marked_stale_and_the_strips_hold_the_history() {
        let record: RunRecord = serde_json::from_value(serde_json::json!({"playbook": "p", "file": "p.yaml",
            "host": "h", "started": "2026-12-02T08:00:00Z", "finished": "2026-12-02T08:00:01Z", "duration_ms": 1,
            "status": "complete", "vars": {}, "sections": [],
            "counts": serde_json::to_value(crate::record::Counts::default()).unwrap(), "verdict": "pass",
            "steps": []}))
        .unwrap();
        let past = vec![(at("2026-12-02T07:00:00Z"), Verdict::Fail), (at("2026-11-30T07:00:00Z"), Verdict::Pass)];
        let entry = Status { name: "p <b>", latest: Some(&record), past };
        let fresh = render(std::slice::from_ref(&entry), at("2026-12-02T08:01:00Z"), Duration::minutes(2));
        assert!(fresh.contains("last run 59 s ago") && !fresh.contains("STALE"), "{fresh}");
        assert!(fresh.contains("p &lt;b&gt;"));
        assert_eq!(fresh.matches("<span class=\"fail\" title=\"07:00 fail\">").count(), 1, "{fresh}");
        assert!(fresh.contains("2026-11-30: 1 runs, worst pass"), "{fresh}");
        let stale = render(&[entry], at("2026-12-02T11:00:00Z"), Duration::minutes(2));
        assert!(stale.contains("STALE: last run 2 h ago, expected at least every 2 min"), "{stale}");
    }
}
