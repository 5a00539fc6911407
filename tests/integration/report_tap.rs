//! `--format tap` read by a real TAP consumer: tappy (`tap.py` from PyPI,
//! with its YAML extra), both its parser and its command-line runner.

use std::process::Command;

use crate::report_fixture::{SECRET, daily_dir, read, run_daily};
use crate::util::TestDir;

/// What tappy's parser sees: the plan and each test point with its directive and YAML block.
const READER: &str = r#"
import json, sys
from tap.parser import Parser
out = {"plan": None, "tests": [], "version": None}
for line in Parser().parse_file(sys.argv[1]):
    if line.category == "plan":
        out["plan"] = line.expected_tests
    elif line.category == "version":
        out["version"] = line.version
    elif line.category == "test":
        out["tests"].append({"ok": line.ok, "number": line.number, "description": line.description,
                             "skip": line.skip, "todo": line.todo, "yaml": line.yaml_block})
    elif line.category == "unknown":
        sys.exit("tappy did not understand: " + str(line))
print(json.dumps(out))
"#;

fn parse(path: &std::path::Path) -> serde_json::Value {
    let out = Command::new("python3").args(["-c", READER]).arg(path).output().expect("python3");
    assert!(
        out.status.success(),
        "tappy could not read the TAP (pip install 'tap.py[yaml]'):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// tappy's command-line consumer (its `tappy` entry point, called through python3 so no
/// PATH entry is needed): exit 0 when every test point is ok (SKIP and TODO allowed).
fn tappy_passes(path: &std::path::Path) -> bool {
    let main = "import sys; from tap.main import main; sys.exit(main(sys.argv))";
    let out = Command::new("python3").args(["-c", main]).arg(path).output().expect("python3 tappy");
    out.status.success()
}

#[test]
fn tappy_reads_a_test_point_per_step_with_directives_and_diagnostics() {
    let dir = daily_dir();
    let out = run_daily(&dir, &["--format", "tap", "--out", "run.tap"]);
    assert_eq!(out.code, 1, "{out:?}");
    let tap = read(&dir, "run.tap");
    assert!(!tap.contains(SECRET), "{tap}");
    let parsed = parse(&dir.path().join("run.tap"));
    assert_eq!(parsed["version"], 13);
    assert_eq!(parsed["plan"], 8, "{tap}");
    let tests = parsed["tests"].as_array().expect("tests");
    assert_eq!(tests.len(), 8, "{tap}");
    let by_id = |id: &str| {
        tests
            .iter()
            .find(|t| t["description"].as_str().unwrap_or("").ends_with(&format!("[{id}]")))
            .unwrap_or_else(|| panic!("no test point for {id}:\n{tap}"))
            .clone()
    };
    assert_eq!(by_id("api_up")["ok"], true);
    assert!(by_id("api_up")["yaml"].is_null(), "a pass needs no diagnostics");
    let pnl = by_id("pnl");
    assert_eq!(pnl["ok"], false);
    assert_eq!(pnl["yaml"]["verdict"], "fail");
    assert_eq!(pnl["yaml"]["severity"], "warning");
    assert_eq!(
        pnl["yaml"]["message"],
        "daily = \"1234.5\", vars.limit = 100 → expected double(daily) < double(vars.limit)"
    );
    assert_eq!(pnl["yaml"]["observed"][0]["observed"]["daily"], "1234.5");
    let latency = by_id("latency");
    assert_eq!((latency["ok"].clone(), latency["yaml"]["verdict"].clone()), (true.into(), "warn".into()));
    assert_eq!(by_id("hung")["yaml"]["error_kind"], "timeout");
    let mexc = by_id("mexc");
    assert_eq!((mexc["ok"].clone(), mexc["skip"].clone()), (true.into(), true.into()));
    let logs = by_id("logs");
    assert_eq!((logs["ok"].clone(), logs["todo"].clone()), (false.into(), true.into()), "pending is TODO");
    assert!(!tappy_passes(&dir.path().join("run.tap")), "tappy must see the failures");
}

#[test]
fn a_clean_run_passes_in_tappy_with_skips_and_todos() {
    let dir = TestDir::new();
    dir.write(
        "p.yaml",
        r#"name: clean
sections:
  - name: A
    steps:
      - { id: one, title: "First: a \\ backslash", shell: { run: "true" } }
      - { id: two, title: Skipped, when: "false", shell: { run: "true" } }
      - { id: three, title: Asked, manual: Look. }
"#,
    );
    let out = dir.runbook().args(["run", "p.yaml", "--format", "tap"]).run();
    let path = dir.write("run.tap", &out.stdout);
    let parsed = parse(&path);
    assert_eq!(parsed["tests"].as_array().map(Vec::len), Some(3), "{}", out.stdout);
    assert_eq!(parsed["tests"][0]["description"], "- First: a \\\\ backslash [one]", "{}", out.stdout);
    assert!(tappy_passes(&path), "{}", out.stdout);
}
