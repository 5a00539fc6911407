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
        cases.append({"name": case.name, "results": kinds, "messages": messages,
                      "system_out": case.system_out or ""})
    out.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures,
                "errors": suite.errors, "skipped": suite.skipped, "cases": cases})
print(json.dumps(out))
"#;

/// The Jenkins xunit plugin's schema, vendored (its source and licence are in the file).
/// The Jenkins xunit plugin's junit-10.xsd (pytest's copy, put there by `.ci/services.sh`).
const XUNIT_XSD: &str = "/usr/local/share/runbook-tests/junit-10.xsd";

fn xsd() -> &'static str {
    assert!(std::path::Path::new(XUNIT_XSD).is_file(), "{XUNIT_XSD} is missing: `bash .ci/services.sh` fetches it");
    XUNIT_XSD
}

/// Validates `path` with xmllint (libxml2-utils) against the xunit plugin's junit-10.xsd,
/// which Jenkins applies before it reads a JUnit file.
pub fn assert_valid(path: &std::path::Path) {
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", xsd()])
        .arg(path)
        .output()
        .expect("run xmllint (apt-get install libxml2-utils)");
    assert!(
        out.status.success(),
        "junit-10.xsd refuses the file:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(path).unwrap_or_default()
    );
}

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
    assert_eq!(xml.matches("<system-out>severity: critical").count(), 7, "{xml}");
    let pnl = xml.split("[pnl]").nth(1).and_then(|rest| rest.split("</testcase>").next()).unwrap_or_default();
    assert!(pnl.contains("<system-out>severity: warning"), "{xml}");
    assert_valid(&dir.path().join("j.xml"));
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
    // What has no JUnit element of its own reaches a reader in the case's output.
    assert!(health[1]["system_out"].as_str().unwrap_or("").starts_with("severity: warning\n"), "{suites}");
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

#[test]
fn the_xunit_schema_refuses_what_older_files_held_so_the_check_can_fail() {
    let dir = daily_dir();
    let old = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="daily" tests="1" failures="0" errors="0" skipped="0" timestamp="2026-01-01T00:00:00Z">
<testsuite name="Health" tests="1" failures="0" errors="0"><testcase name="a [a]">
<properties><property name="severity" value="critical"/></properties></testcase></testsuite></testsuites>
"#;
    let path = dir.path().join("old.xml");
    std::fs::write(&path, old).expect("write");
    let out = Command::new("xmllint").args(["--noout", "--schema", xsd()]).arg(&path).output().expect("xmllint");
    assert!(!out.status.success(), "the schema took a file Jenkins refuses");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("skipped") && said.contains("properties"), "{said}");
}
