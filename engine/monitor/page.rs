//! `GET /` of `runbook serve`: the latest run of each playbook as one HTML
//! page, every value escaped. The values come from the redacted record.

use std::fmt::Write as _;

use crate::report::RunRecord;

/// A playbook that has not finished a run yet, or its latest run.
pub enum Entry<'a> {
    Waiting { name: &'a str },
    Ran(&'a RunRecord),
}

/// The page.
pub fn render(entries: &[Entry]) -> String {
    let mut out = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"30\">\
         <title>runbook</title><style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left;\
         vertical-align:top}.pass{color:#080}.warn{color:#a60}.fail,.error{color:#c00}.skipped,.pending{color:#666}\
         </style></head><body>\n",
    );
    for entry in entries {
        match entry {
            Entry::Waiting { name } => {
                let _ = writeln!(out, "<h2>{}</h2><p>first run in progress</p>", escape(name));
            }
            Entry::Ran(record) => playbook(&mut out, record),
        }
    }
    out.push_str("</body></html>\n");
    out
}

fn playbook(out: &mut String, r: &RunRecord) {
    let c = &r.counts;
    let _ = writeln!(
        out,
        "<h2>{}</h2><p class=\"{v}\">{v} · finished {} · {} ms · {} pass, {} warn, {} fail, {} error, {} skipped, {} pending</p>",
        escape(&r.playbook),
        escape(&r.finished),
        r.duration_ms,
        c.pass,
        c.warn,
        c.fail,
        c.error,
        c.skipped,
        c.pending,
        v = r.verdict.name(),
    );
    out.push_str(
        "<table><tr><th>section</th><th>step</th><th>title</th><th>verdict</th><th>message</th><th>ms</th></tr>\n",
    );
    for s in &r.steps {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}{}</td><td class=\"{v}\">{v}</td><td>{}</td><td>{}</td></tr>",
            escape(&s.section),
            escape(&s.id),
            escape(&s.title),
            if s.insecure { " <b>(TLS verification off)</b>" } else { "" },
            escape(&s.message).replace('\n', "<br>"),
            s.duration_ms,
            v = s.verdict.name(),
        );
    }
    out.push_str("</table>\n");
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
