//! The HTML side of `runbook serve`: each playbook's latest run is the same
//! HTML report `runbook run --report x.html` writes (the same renderer, the
//! playbook's own `report.template` if it names one), and with several
//! playbooks `GET /` is an index that links to each. Values come from the
//! redacted record; the index escapes every one. A served report differs from
//! the file by one thing only: [`NAV`], a link back to the status page, just
//! inside `<body>` (first, when the template has no `<body>`). The file keeps no
//! such link: offline, `/status` leads nowhere.

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

/// The link back to the status page that a served report carries, and a file does not.
pub const NAV: &str = "<nav class=\"served\"><a href=\"/status\">← status of all playbooks</a></nav>\n";

/// `GET /playbooks/N`: the latest report of one playbook (as `show --report x.html` writes it,
/// plus [`NAV`]), or a note that its first run is under way.
pub fn report(entry: &Entry) -> Result<String, ReportError> {
    let Some(record) = entry.latest else {
        return Ok(with_nav(&format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title></head>\
             <body><h1>{0}</h1><p>The first run is in progress.</p></body></html>\n",
            escape(entry.name)
        )));
    };
    render::render(record, format::by_name("html")?, entry.template).map(|page| with_nav(&page))
}

/// `page` with [`NAV`] right after its `<body …>` tag, or first when it has none.
fn with_nav(page: &str) -> String {
    let lower = page.to_ascii_lowercase();
    let inside_body = lower
        .match_indices("<body")
        .find(|(at, _)| lower[at + 5..].starts_with(['>', ' ', '\t', '\n', '\r']))
        .and_then(|(at, _)| page[at..].find('>').map(|end| at + end + 1));
    match inside_body {
        Some(at) => {
            let newline = usize::from(page[at..].starts_with('\n'));
            format!("{}{NAV}{}", &page[..at + newline], &page[at + newline..])
        }
        None => format!("{NAV}{page}"),
    }
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

#[cfg(test)]
mod tests {
    use super::{NAV, with_nav};

    #[test]
    fn the_link_back_goes_just_inside_body_or_first() {
        assert_eq!(
            with_nav("<html><body class=\"x\">\n<h1>a</h1>"),
            format!("<html><body class=\"x\">\n{NAV}<h1>a</h1>")
        );
        assert_eq!(with_nav("<BODY><p>b</p>"), format!("<BODY>{NAV}<p>b</p>"));
        assert_eq!(with_nav("<p>no body</p>\n"), format!("{NAV}<p>no body</p>\n"));
        assert_eq!(with_nav("<bodyguard><body>"), format!("<bodyguard><body>{NAV}"));
    }
}
