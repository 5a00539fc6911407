//! The fleet view as text (a terminal or a log), HTML (a host × step matrix
//! whose cells show the observed values on hover and expand on click) and
//! JUnit (a suite per host, a suite for the fleet's own rules). JSON is the
//! view serialised as it is.

use std::fmt::Write as _;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::view::{Cell, FleetVerdict, FleetView, HostRow, HostState, Signature};
use crate::record::Verdict;
use crate::report::page::escape as esc;

fn verdict_word(v: FleetVerdict) -> &'static str {
    match v {
        FleetVerdict::Pass => "PASS",
        FleetVerdict::Fail => "FAIL",
    }
}

fn signature_text(s: &Signature) -> String {
    match s {
        Signature::NotChecked => String::new(),
        Signature::Verified { key } => format!("  verified ({key})"),
        Signature::Unverified { why } => format!("  NOT VERIFIED: {why}"),
    }
}

/// The view for a terminal or a log file.
pub fn text(view: &FleetView) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Fleet {}: {} of {} hosts reported within {}, {} missing: {}",
        view.playbook,
        view.count(HostState::Reported),
        view.hosts.len(),
        view.within,
        view.count(HostState::Missing),
        verdict_word(view.verdict)
    );
    let _ = writeln!(out, "\nHosts:");
    for h in &view.hosts {
        let _ = writeln!(out, "  {}", host_line(h));
    }
    let _ = writeln!(out, "\nSteps:");
    for s in &view.steps {
        let mark = if s.verdict == FleetVerdict::Pass { "ok " } else { "!! " };
        let failing =
            if s.failing_hosts.is_empty() { String::new() } else { format!(": {}", s.failing_hosts.join(", ")) };
        let _ = writeln!(
            out,
            "  {mark}{} [{}]  failing on {} of {} hosts (allowed {}){failing}",
            s.title,
            s.id,
            s.failing_hosts.len(),
            s.hosts,
            s.allowed
        );
    }
    if !view.problems.is_empty() {
        let _ = writeln!(out, "\nThe fleet fails:");
        for p in &view.problems {
            let _ = writeln!(out, "  - {p}");
        }
    }
    out
}

fn host_line(h: &HostRow) -> String {
    let extra = if h.unexpected { "  (not in the expected hosts)" } else { "" };
    match h.state {
        HostState::Missing => {
            let seen = h.last_seen.as_deref().map_or("never reported".to_owned(), |s| format!("last seen {s}"));
            format!("{:<24} MISSING  ({seen}){extra}", h.host)
        }
        HostState::Reported => format!(
            "{:<24} {:<8} {}  run {}{}{}{extra}",
            h.host,
            h.verdict.map_or("-", Verdict::name),
            h.started.as_deref().unwrap_or("-"),
            h.runs.iter().map(ToString::to_string).collect::<Vec<_>>().join("+"),
            if h.missing_shards.is_empty() {
                String::new()
            } else {
                format!("  missing shards {}", h.missing_shards.join(", "))
            },
            signature_text(&h.signature),
        ),
    }
}

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:1rem}table{border-collapse:collapse}\
td,th{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}th{text-align:left}\
.pass,.warn{background:#e6f4ea}.warn{background:#fef7e0}.fail,.error,.missing,.absent{background:#fce8e6}\
.skipped,.pending,.waived{background:#f1f3f4}summary{cursor:pointer}.scroll{overflow-x:auto}";

/// The view as one HTML page: a host × step matrix.
pub fn html(view: &FleetView) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Fleet {p}</title><style>{STYLE}</style></head><body><h1>Fleet {p}: {v}</h1>\
         <p>{r} of {n} hosts reported within {w}; {m} missing. Generated {g}.</p>",
        p = esc(&view.playbook),
        v = verdict_word(view.verdict),
        r = view.count(HostState::Reported),
        n = view.hosts.len(),
        w = esc(&view.within),
        m = view.count(HostState::Missing),
        g = esc(&view.generated),
    );
    if !view.problems.is_empty() {
        out.push_str("<h2>The fleet fails</h2><ul>");
        for p in &view.problems {
            let _ = write!(out, "<li>{}</li>", esc(p));
        }
        out.push_str("</ul>");
    }
    out.push_str("<div class=\"scroll\"><table><thead><tr><th>Step</th><th>Failing</th>");
    for h in &view.hosts {
        let state = if h.state == HostState::Missing { " (missing)" } else { "" };
        let _ = write!(out, "<th>{}{state}{}</th>", esc(&h.host), esc(&signature_text(&h.signature)));
    }
    out.push_str("</tr></thead><tbody>");
    for s in &view.steps {
        let _ = write!(
            out,
            "<tr><th>{} <small>[{}]</small></th><td class=\"{}\">{} of {} (allowed {})</td>",
            esc(&s.title),
            esc(&s.id),
            if s.verdict == FleetVerdict::Pass { "pass" } else { "fail" },
            s.failing_hosts.len(),
            s.hosts,
            esc(&s.allowed)
        );
        for h in &view.hosts {
            out.push_str(&html_cell(h, h.cells.get(&s.id)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></body></html>\n");
    out
}

fn html_cell(host: &HostRow, cell: Option<&Cell>) -> String {
    let Some(cell) = cell else {
        let (class, word) =
            if host.state == HostState::Missing { ("missing", "missing") } else { ("absent", "not run") };
        return format!("<td class=\"{class}\">{word}</td>");
    };
    let observed: Vec<String> = cell.captured.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    let detail = [cell.message.clone(), observed.join("\n")].join("\n");
    format!(
        "<td class=\"{v}\" title=\"{t}\"><details><summary>{v}</summary><pre>{t}</pre></details></td>",
        v = cell.verdict.name(),
        t = esc(detail.trim())
    )
}

/// The view as JUnit: a suite per host (a missing host is one failed case), and a suite of the
/// fleet's rules, one case per step.
pub fn junit(view: &FleetView) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new(format!("fleet {}", view.playbook));
    for h in &view.hosts {
        let mut suite = TestSuite::new(h.host.as_str());
        if h.state == HostState::Missing {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(format!("no finished run within {}", view.within)).set_type("missing");
            suite.add_test_case(TestCase::new("host reported", status));
        }
        for s in view.steps.iter().filter(|_| h.state == HostState::Reported) {
            let status = match h.cells.get(&s.id).map(|c| (c.verdict, c.message.as_str())) {
                Some((Verdict::Fail | Verdict::Error, message)) => failure(message, "fail"),
                None => failure("the step is not in this host's run", "absent"),
                Some((Verdict::Skipped | Verdict::Pending | Verdict::Waived, message)) => {
                    let mut status = TestCaseStatus::skipped();
                    status.set_message(message);
                    status
                }
                Some(_) => TestCaseStatus::success(),
            };
            let mut case = TestCase::new(format!("{} [{}]", s.title, s.id), status);
            case.set_classname(format!("{}.{}", view.playbook, h.host));
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    let mut rules = TestSuite::new("fleet");
    for s in &view.steps {
        let status = if s.verdict == FleetVerdict::Pass {
            TestCaseStatus::success()
        } else {
            failure(&format!("failing on {}; allowed {}", s.failing_hosts.join(", "), s.allowed), "fleet")
        };
        rules.add_test_case(TestCase::new(format!("{} [{}] across the fleet", s.title, s.id), status));
    }
    report.add_test_suite(rules);
    report.set_time(Duration::ZERO);
    report.to_string()
}

fn failure(message: &str, kind: &str) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status.set_message(message).set_type(kind);
    status
}
