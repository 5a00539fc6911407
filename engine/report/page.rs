//! The HTML side of `runbook serve`: each playbook's latest run is the same
//! HTML report `runbook run --report x.html` writes (the same renderer, the
//! playbook's own `report.template` if it names one), and with several
//! playbooks `GET /` is an index that links to each. Values come from the
//! redacted record; the index escapes every one.

use std::fmt::Write as _;

use super::format;
use super::render::{self, ReportError};
use crate::history::{StepStats, shown};
use crate::record::RunRecord;

/// One playbook as the pages see it.
pub struct Entry<'a> {
    pub name: &'a str,
    /// Its latest run; `None` while the first is in progress.
    pub latest: Option<&'a RunRecord>,
    /// The playbook's own report template, already read and checked.
    pub template: Option<&'a str>,
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

/// `GET /playbooks/N/stats`: per step, how often it held and its captures' p50 / p95 since `since`.
pub fn stats(name: &str, since: &str, steps: &[StepStats]) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}: history</title><style>\
         body{{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1.5rem}}\
         td,th{{padding:.3rem .5rem;text-align:left;border-bottom:1px solid #d0d7de}}</style></head><body>\n\
         <p><a href=\"/\">← all playbooks</a></p>\n<h1>{0}</h1>\n<p>Since {1} (whole UTC days; percentiles within 0.5%).</p>\n<table><tr><th>step</th><th>runs</th><th>ok</th><th>fail</th>\
         <th>error</th><th>captures: ≈ p50 / p95 (count)</th></tr>\n",
        escape(name),
        escape(since)
    );
    for step in steps {
        let captures: Vec<String> = step
            .captures
            .iter()
            .map(|c| format!("{} {} / {} ({})", escape(&c.name), shown(c.p50), shown(c.p95), c.count))
            .collect();
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
