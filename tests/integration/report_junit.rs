//! JUnit XML read by an independent parser (`junitparser`, from PyPI), with
//! the right counts per section and the observed values in the failures.

use std::process::Command;

use crate::report_fixture::{SECRET, daily_dir, read, run_daily};

/// What junitparser sees: per suite, its counts and each case's result.
const READER: &str = r#"
import json, sys
from junitparser import JUnitXml, Failure, Error, Skipped
out = []
for suite in JUnitXml.fromfile(sys.argv[1]):
    cases = []
    for case in suite:
        kinds = [type(r).__name__ for r in case.result]
        messages = [r.message or "" for r in case.result]
        cases.append({"name": case.name, "results": kinds, "messages": messages})
    out.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures,
                "errors": suite.errors, "skipped": suite.skipped, "cases": cases})
print(json.dumps(out))
"#;

pub fn parse(path: &std::path::Path) -> serde_json::Value {
    let out = Command::new("python3").arg("-c").arg(READER).arg(path).output().expect("run python3");
    assert!(
        out.status.success(),
        "junitparser could not read the XML (install it: pip install junitparser):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("reader prints JSON")
}

#[test]
fn junitparser_reads_our_xml_with_the_right_counts() {
    let dir = daily_dir();
    let out = run_daily(&dir, &["--junit", "j.xml"]);
    assert_eq!(out.code, 1, "{out:?}");
    let xml = read(&dir, "j.xml");
    assert!(!xml.contains(SECRET), "{xml}");
    // Every case says its severity: `pnl` is the fixture's one warning-level step.
    assert_eq!(xml.matches(r#"<property name="severity" value="critical"/>"#).count(), 7, "{xml}");
    let pnl = xml.split("[pnl]").nth(1).and_then(|rest| rest.split("</testcase>").next()).unwrap_or_default();
    assert!(pnl.contains(r#"<property name="severity" value="warning"/>"#), "{xml}");
    let suites = parse(&dir.path().join("j.xml"));
    let counts: Vec<_> = suites
        .as_array()
        .expect("suites")
        .iter()
        .map(|s| {
            (s["name"].clone(), s["tests"].clone(), s["failures"].clone(), s["errors"].clone(), s["skipped"].clone())
        })
        .collect();
    assert_eq!(
        counts,
        vec![
            ("Health".into(), 6.into(), 2.into(), 1.into(), 1.into()),
            ("Sign-off".into(), 2.into(), 0.into(), 0.into(), 1.into())
        ],
        "{suites}"
    );
    let health = suites[0]["cases"].as_array().expect("cases");
    let results: Vec<_> = health.iter().map(|c| (c["name"].as_str().unwrap_or(""), c["results"].clone())).collect();
    assert_eq!(results[1], ("P&L within limit [pnl]", serde_json::json!(["Failure"])));
    assert_eq!(results[4], ("A command that hangs [hung]", serde_json::json!(["Error"])));
    assert_eq!(results[5], ("MEXC connected [mexc]", serde_json::json!(["Skipped"])));
    assert_eq!(
        health[1]["messages"][0],
        "daily = \"1234.5\", vars.limit = 100 → expected double(daily) < double(vars.limit)"
    );
    let pending = &suites[1]["cases"][1];
    assert_eq!(pending["results"], serde_json::json!(["Skipped"]));
    assert!(pending["messages"][0].as_str().unwrap_or("").starts_with("pending:"), "{pending}");
}

#[test]
fn format_junit_prints_the_same_xml() {
    let dir = daily_dir();
    let out = run_daily(&dir, &["--format", "junit", "--junit", "j.xml"]);
    assert_eq!(out.stdout, read(&dir, "j.xml"));
    assert!(out.stdout.starts_with("<?xml"), "{}", out.stdout);
}
