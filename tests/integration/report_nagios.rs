//! `--format nagios`: `runbook run` as a Nagios plugin. The output is checked
//! against the plugin guidelines' grammar (a strict perfdata pattern, in
//! Python's `re`), the exit code is the state, and real consumers read it:
//! monitoring-plugins' `negate`, which wraps a plugin and maps its state, and
//! runbook's own `nagios` probe.

use std::process::Command;

use crate::report_fixture::{SECRET, daily_dir, run_daily};
use crate::util::TestDir;

/// Checks a plugin answer with the guidelines' grammar; prints the perfdata as JSON
/// (label → value) or exits 1 saying which part broke it.
const GRAMMAR: &str = r#"
import json, re, sys
text = sys.stdin.read()
lines = text.split("\n")
assert text.endswith("\n"), "no final newline"
status = lines[0]
m = re.fullmatch(r"CHECKLIST (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+ \| (.*)", status)
assert m, "status line: " + status
item = re.compile(r"'((?:[^'=]|'')+)'=(-?[0-9]+(?:\.[0-9]+)?)(s|ms|us|%|B|KB|MB|GB|TB|c)?((?:;[^; ]*){0,2})(?:;(-?[0-9]+(?:\.[0-9]+)?)?)?(?:;(-?[0-9]+(?:\.[0-9]+)?)?)?")
perf = {}
for raw in m.group(2).split(" "):
    p = item.fullmatch(raw)
    assert p, "perfdata item: " + raw
    perf[p.group(1).replace("''", "'")] = float(p.group(2))
for line in lines[1:-1]:
    assert "|" not in line, "long text holds a bar: " + line
print(json.dumps({"state": m.group(1), "perf": perf, "long": lines[1:-1]}))
"#;

fn checked(stdout: &str) -> serde_json::Value {
    let mut child = Command::new("python3")
        .args(["-c", GRAMMAR])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write as _;
    child.stdin.take().expect("stdin").write_all(stdout.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("python3");
    assert!(out.status.success(), "not a plugin answer: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn the_daily_run_is_a_critical_plugin_answer_with_counts_and_captures_as_perfdata() {
    let dir = daily_dir();
    let json = run_daily(&dir, &["--format", "json"]).json();
    let out = run_daily(&dir, &["--format", "nagios"]);
    assert_eq!(out.code, 2, "a critical step failed: CRITICAL\n{out:?}");
    assert!(!out.stdout.contains(SECRET), "{}", out.stdout);
    let answer = checked(&out.stdout);
    assert_eq!(answer["state"], "CRITICAL");
    let counts = &json["counts"];
    for (label, key) in [("passed", "pass"), ("warnings", "warn"), ("failed", "fail"), ("errors", "error")] {
        assert_eq!(answer["perf"][label].as_f64(), counts[key].as_f64(), "{label}: {}", out.stdout);
    }
    assert!(
        out.stdout.starts_with("CHECKLIST CRITICAL - Daily ops: 2 failed, 1 error, 1 pending, 1 warning"),
        "{}",
        out.stdout
    );
    let long = answer["long"].as_array().expect("lines");
    assert!(
        long.iter().any(|l| l.as_str().unwrap_or("").starts_with("fail (warning): P&L within limit [pnl]")),
        "{long:?}"
    );
    assert!(long.iter().any(|l| l.as_str().unwrap_or("").starts_with("error (critical): A command that hangs [hung]")));
}

fn run(dir: &TestDir, yaml: &str) -> crate::util::Outcome {
    dir.write("p.yaml", yaml);
    dir.runbook().args(["run", "p.yaml", "--format", "nagios"]).run()
}

const STEP: &str = "name: states\nsections:\n  - name: s\n    steps:\n";

#[test]
fn the_exit_code_is_the_state() {
    let dir = TestDir::new();
    let ok = run(
        &dir,
        &format!(
            "{STEP}      - {{ id: a, title: A, shell: {{ run: 'echo 7', json: true }}, capture: {{ n: $.json }} }}\n"
        ),
    );
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(ok.stdout.starts_with("CHECKLIST OK - states: 1 passed | 'passed'=1;;;0;1 'warnings'=0;;;0;1 "), "{ok:?}");
    let answer = checked(&ok.stdout);
    assert_eq!(answer["perf"]["a.n"], 7.0, "a numeric capture is perfdata: {}", ok.stdout);
    assert_eq!(answer["long"], serde_json::json!([]), "nothing needs attention: {}", ok.stdout);
    let warned = run(
        &dir,
        &format!("{STEP}      - {{ id: a, title: A, shell: {{ run: 'true' }}, warn: ['exit_code == 1'] }}\n"),
    );
    assert_eq!(warned.code, 1, "{warned:?}");
    assert_eq!(checked(&warned.stdout)["state"], "WARNING");
    let minor = run(
        &dir,
        &format!(
            "{STEP}      - {{ id: a, title: A, severity: warning, shell: {{ run: 'true' }}, expect: ['exit_code == 1'] }}\n"
        ),
    );
    assert_eq!((minor.code, checked(&minor.stdout)["state"].as_str()), (1, Some("WARNING")), "{minor:?}");
    let critical = run(
        &dir,
        &format!("{STEP}      - {{ id: a, title: A, shell: {{ run: 'true' }}, expect: ['exit_code == 1'] }}\n"),
    );
    assert_eq!((critical.code, checked(&critical.stdout)["state"].as_str()), (2, Some("CRITICAL")), "{critical:?}");
    let invalid = run(
        &dir,
        &format!("{STEP}      - {{ id: a, title: A, shell: {{ run: 'true' }}, expect: ['exit_code =='] }}\n"),
    );
    assert_eq!(invalid.code, 3, "an invalid playbook is UNKNOWN, not 2 (CRITICAL): {invalid:?}");
    assert!(invalid.stdout.starts_with("CHECKLIST UNKNOWN - "), "{invalid:?}");
    dir.write(
        "slow.yaml",
        &format!("{STEP}      - {{ id: a, title: A, shell: {{ run: 'sleep 5' }}, timeout: 30s }}\n"),
    );
    let cut = dir.runbook().args(["run", "slow.yaml", "--format", "nagios", "--deadline", "300ms"]).run();
    assert_eq!(
        (cut.code, checked(&cut.stdout)["state"].as_str()),
        (3, Some("UNKNOWN")),
        "a cut run knows nothing sure: {cut:?}"
    );
}

#[test]
fn negate_from_monitoring_plugins_reads_runbook_as_a_plugin() {
    let dir = TestDir::new();
    dir.write("p.yaml", &format!("{STEP}      - {{ id: a, title: All good, shell: {{ run: 'true' }} }}\n"));
    let binary = env!("CARGO_BIN_EXE_runbook");
    let negate = |extra: &[&str]| {
        Command::new("/usr/lib/nagios/plugins/negate")
            .args(["-t", "60"])
            .args(extra)
            .args([binary, "run", "--no-history", "--format", "nagios"])
            .arg(dir.path().join("p.yaml"))
            .current_dir(dir.path())
            .output()
            .expect("run negate (apt-get install monitoring-plugins-basic)")
    };
    // negate turns OK into CRITICAL: it read our exit code as a plugin state.
    let inverted = negate(&["-s"]);
    let said = String::from_utf8_lossy(&inverted.stdout);
    assert_eq!(inverted.status.code(), Some(2), "{said}");
    // With -s it rewrites the state word of the status line, which it found where plugins put it.
    assert!(said.starts_with("CHECKLIST CRITICAL - states: 1 passed |"), "{said}");
    let mapped = negate(&["-o", "WARNING"]);
    assert_eq!(mapped.status.code(), Some(1), "{}", String::from_utf8_lossy(&mapped.stdout));
}

#[test]
fn the_nagios_probe_reads_a_runbook_run_as_a_plugin() {
    let dir = TestDir::new();
    dir.write(
        "inner.yaml",
        &format!("{STEP}      - {{ id: disk, title: Disk, shell: {{ run: 'echo 42.5' }}, capture: {{ used: $.stdout }}, expect: ['double(used) > 1.0'] }}\n      - {{ id: n, title: N, shell: {{ run: 'echo 7', json: true }}, capture: {{ count: $.json }}, expect: ['exit_code == 0'] }}\n"),
    );
    let binary = env!("CARGO_BIN_EXE_runbook");
    dir.write(
        "outer.yaml",
        &format!(
            r#"name: outer
sections:
  - name: Nested
    steps:
      - id: inner
        title: The inner checklist passes
        timeout: 60s
        nagios: {{ argv: ["{binary}", run, --no-history, --format, nagios, inner.yaml] }}
        expect: ['state == "OK"', 'perf["n.count"] == 7.0', 'perf.passed == 2.0', 'perf.failed == 0.0', 'perfdata.duration.uom == "s"', 'size(perfdata_problems) == 0']
"#
        ),
    );
    let out = dir.runbook().args(["run", "outer.yaml", "--format", "json"]).run();
    assert_eq!(out.step("inner")["verdict"], "pass", "{}", out.stdout);
}
