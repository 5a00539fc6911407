//! `schemas/report.schema.json` is what the code generates, and the JSON
//! the binary prints (stdout and `--report x.json`) conforms to it.

use std::path::Path;

use serde_json::Value;

use crate::report_fixture::{SECRET, daily_dir, read, run_daily};
use crate::util::{Runbook, golden};

const SCHEMA: &str = "schemas/report.schema.json";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo().join(SCHEMA)).expect("read the committed report schema");
    jsonschema::validator_for(&serde_json::from_str(&text).expect("JSON")).expect("a valid JSON Schema")
}

fn problems(instance: &Value) -> Vec<String> {
    validator().iter_errors(instance).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

#[test]
fn the_committed_report_schema_equals_runbook_schema_report() {
    let out = Runbook::new(repo()).args(["schema", "--report"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    golden(SCHEMA, &out.stdout);
}

#[test]
fn the_json_output_conforms_to_the_report_schema() {
    let dir = daily_dir();
    let out = run_daily(&dir, &["--format", "json", "--report", "r.json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!out.stdout.contains(SECRET));
    let printed = out.json();
    assert!(problems(&printed).is_empty(), "{:?}", problems(&printed));
    let written: Value = serde_json::from_str(&read(&dir, "r.json")).expect("JSON report");
    assert_eq!(printed, written, "stdout and the report file are one record");
    assert_eq!(written["signoff"]["operator"], "alice");
    assert_eq!(written["signoff"]["signed_utc"], "2026-01-02T03:04:05Z");
    assert_eq!(written["signoff"]["clean"], false);
    assert_eq!(written["signoff"]["pending"], serde_json::json!(["logs"]));
    assert_eq!(
        written["summary"][0],
        serde_json::json!({"label": "Daily P&L", "expression": "double(steps.pnl.daily)", "value": 1234.5})
    );
    assert_eq!(
        out.step("news")["answer"],
        serde_json::json!({"verdict": "pass", "comment": "quiet day; token ••••••", "source": "answers_file"})
    );
    // A failed check's observed values are data in the record, masked like the rest of it.
    assert_eq!(
        out.step("token_echo")["checks"],
        serde_json::json!([{"expression": "stdout == \"nope\"", "kind": "expect", "held": false,
            "observed": {"stdout": "••••••"}}])
    );
    assert_eq!(out.step("hung")["error_kind"], "timeout");
}

#[test]
fn the_schema_rejects_a_record_with_a_bad_verdict() {
    let dir = daily_dir();
    let mut record = run_daily(&dir, &["--format", "json"]).json();
    record["steps"][0]["verdict"] = "maybe".into();
    assert!(!problems(&record).is_empty());
}
