//! The HTML side of `runbook serve`: each playbook's latest run is the same
//! HTML report `runbook run --report x.html` writes (the same renderer, the
//! playbook's own `report.template` if it names one), and with several
//! playbooks `GET /` is an index that links to each. Values come from the
//! redacted record; the index escapes every one.

use std::fmt::Write as _;

use super::format;
use super::render::{self, ReportError};
use crate::history::StepStats;
use crate::record::RunRecord;

/// One playbook as the pages see it.
pub struct Entry<'a> {
    pub name: &'a str,
    /// Its latest run; `None` while the first is in progress.
    pub latest: Option<&'a RunRecord>,
    /// The playbook's own report template, already read and checked.
    pub template: Option<&'a str>,
}

/// `GET /`: the only playbook's report, or the index of several.
pub fn home(entries: &[Entry]) -> Result<String, ReportError> {
    match entries {
        [only] => report(only),
        several => Ok(index(several)),
    }
}

/// `GET /playbooks/N`: the latest report of one playbook, or a note that its first run is under way.
pub fn report(entry: &Entry) -> Result<String, ReportError> {
    let Some(record) = entry.latest else {
        return Ok(format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title></head>\
             <body><h1>{0}</h1><p>The first run is in progress.</p></body></html>\n",
            escape(entry.name)
        ));
    };
    render::render(record, format::by_name("html")?, entry.template)
}

/// The list of playbooks: verdict, when the latest run finished, its counts, a link to its report.
fn index(entries: &[Entry]) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>runbook serve</title><style>\
         body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1.5rem}\
         td,th{padding:.3rem .5rem;text-align:left;border-bottom:1px solid #d0d7de}\
         .pass{color:#1a7f37}.warn{color:#9a6700}.fail,.error{color:#cf222e}.skipped,.pending{color:#6e7781}\
         </style></head><body>\n<h1>Playbooks</h1>\n<table>\
         <tr><th>playbook</th><th>verdict</th><th>finished</th><th>failed</th><th>errors</th>\
         <th>of which critical, warning</th><th>history</th><th>hosts</th></tr>\n",
    );
    for (i, entry) in entries.iter().enumerate() {
        let link = format!("<a href=\"playbooks/{}\">{}</a>", i + 1, escape(entry.name));
        let history = format!("<td><a href=\"playbooks/{}/stats\">7 days</a></td>", i + 1);
        let fleet = format!("<td><a href=\"fleet/{}\">fleet</a></td>", i + 1);
        match entry.latest {
            None => {
                let _ = writeln!(
                    out,
                    "<tr><td>{link}</td><td colspan=\"5\">first run in progress</td>{history}{fleet}</tr>"
                );
            }
            Some(r) => {
                let split = &r.counts.failed_by_severity;
                let _ = writeln!(
                    out,
                    "<tr><td>{link}</td><td class=\"{v}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}, {}</td>{history}{fleet}</tr>",
                    verdict_words(r),
                    escape(&r.finished),
                    r.counts.fail,
                    r.counts.error,
                    split.critical,
                    split.warning,
                    v = r.verdict.name(),
                );
            }
        }
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

/// `GET /playbooks/N/stats`: per step, how often it held and its captures' p50 / p95 since `since`.
pub fn stats(name: &str, since: &str, steps: &[StepStats]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}: history</title><style>\
         body{{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1.5rem}}\
         td,th{{padding:.3rem .5rem;text-align:left;border-bottom:1px solid #d0d7de}}</style></head><body>\n\
         <h1>{0}</h1>\n<p>Since {1} (UTC).</p>\n<table><tr><th>step</th><th>runs</th><th>ok</th><th>fail</th>\
         <th>error</th><th>captures: p50 / p95 (count)</th></tr>\n",
        escape(name),
        escape(since)
    );
    for step in steps {
        let captures: Vec<String> =
            step.captures.iter().map(|c| format!("{} {} / {} ({})", escape(&c.name), c.p50, c.p95, c.count)).collect();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.1}%</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&step.step),
            step.judged,
            step.ok_pct(),
            step.fail,
            step.error,
            captures.join(", ")
        );
    }
    if steps.is_empty() {
        out.push_str("<tr><td colspan=\"6\">no runs in this window</td></tr>\n");
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

/// `pass`, `fail`, …; a run whose worst is a warning `passed with 2 warnings`.
fn verdict_words(record: &RunRecord) -> String {
    match (record.verdict, record.counts.warn) {
        (crate::record::Verdict::Warn, 1) => "passed with 1 warning".to_owned(),
        (crate::record::Verdict::Warn, n) => format!("passed with {n} warnings"),
        (v, _) => v.name().to_owned(),
    }
}

/// Text as HTML: `&`, `<`, `>`, quotes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RunRecord {
        serde_json::from_str(include_str!("../../tests/report-record.json")).expect("record")
    }

    #[test]
    fn the_index_counts_errors_apart_from_failures() {
        let record = record();
        let entries = [
            Entry { name: "a", latest: Some(&record), template: None },
            Entry { name: "b", latest: None, template: None },
        ];
        let page = home(&entries).expect("index");
        assert!(page.contains("<th>failed</th><th>errors</th>"), "{page}");
        let (fail, error) = (record.counts.fail, record.counts.error);
        assert!(page.contains(&format!("<td>{fail}</td><td>{error}</td>")), "{page}");
    }

    #[test]
    fn a_run_whose_worst_is_a_warning_reads_passed_with_warnings() {
        let mut record = record();
        record.verdict = crate::record::Verdict::Warn;
        assert_eq!(verdict_words(&record), format!("passed with {} warning", record.counts.warn));
        record.counts.warn = 3;
        assert_eq!(verdict_words(&record), "passed with 3 warnings");
    }
}
