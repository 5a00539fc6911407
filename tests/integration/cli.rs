//! The command line: exit codes, `--var` and `RUNBOOK_VAR_*`, the JSON
//! record's shape, the text checklist, `--out`, `list`, plain output when piped.

use serde_json::Value;

use crate::util::{Test, TestDir, run_playbook};

const MIXED: &str = r#"
name: Mixed bag
description: one of each verdict
vars:
  greeting: hello
  limit: 5
sections:
  - name: Basics
    steps:
      - id: greet
        title: Greets
        shell: { run: "echo {{vars.greeting}}" }
        capture: { said: $.stdout }
        expect: ['stdout == vars.greeting']
      - id: count
        title: Count under the limit
        shell: { run: "echo 7" }
        expect: ['int(stdout) < vars.limit']
  - name: Follow-up
    steps:
      - id: soft
        title: Soft limit
        shell: { run: "echo 3" }
        warn: ['int(stdout) < 2']
      - id: after_count
        title: After the count
        needs: [count]
        shell: { run: "true" }
"#;

#[test]
fn exit_code_0_when_clean_with_warnings_allowed() {
    let out = run_playbook(MIXED, &["--only", "greet", "--only", "soft"]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn exit_code_1_when_a_step_fails() {
    let out = run_playbook(MIXED, &[]);
    assert_eq!(out.code, 1, "{out:?}");
}

/// DESIGN.md: exit 1 when some step failed; severity labels the failure, it does not excuse it.
#[test]
fn a_warning_level_failure_still_exits_1_and_is_labelled() {
    let playbook = "name: Latency\nsections:\n  - name: Alerts\n    steps:\n      - id: latency\n        \
                    title: Signal latency < 200ms\n        severity: warning\n        shell: { run: \"echo 350\" }\n        \
                    expect: ['int(stdout) < 200']\n      - id: up\n        title: Up\n        shell: { run: \"true\" }\n";
    let out = run_playbook(playbook, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("  ✗ warning: Signal latency < 200ms  [latency]"), "{}", out.stdout);
    assert!(out.stdout.contains("1 passed, 0 warned, 1 failed, 0 errors (0 critical, 1 warning), "), "{}", out.stdout);
    let json = run_playbook(playbook, &["--format", "json"]);
    assert_eq!(json.code, 1);
    let record = json.json();
    assert_eq!(record["counts"]["failed_by_severity"], serde_json::json!({"critical": 0, "warning": 1}));
    assert_eq!(json.step("latency")["severity"], "warning");
    assert_eq!(json.step("up")["severity"], "critical", "critical is the default");
}

#[test]
fn exit_code_2_for_an_invalid_playbook_or_command_line() {
    Test::new()
        .playbook("name: x\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: t\n        shell: { run: ls }\n        expct: []\n")
        .args(["run", "playbook.yaml"])
        .stderr(
            "error: playbook.yaml:8:9: unknown field `expct`; did you mean `expect`? (a step takes id, title, capture, \
             expect, warn, when, needs, attests, timeout, retries, until, action, approvals, max_runs, severity, on_no_history, active and one probe: http, shell, sysinfo, sql, \
             redis, manual, tcp, file, tls, websocket, nagios)\n  |\n8 |         expct: []\n  |         ^\n\n",
        )
        .status(2)
        .run();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--jobs", "0"],
            "error: invalid value '0' for '--jobs <JOBS>': 0 is not in 1..=1024\n\nFor more information, try '--help'.\n",
        ),
        (
            &["--format", "xml"],
            "error: invalid value 'xml' for '--format <FORMAT>'\n  [possible values: text, json, junit, markdown, html, nagios, tap]\n\n  \
             tip: a similar value exists: 'html'\n\nFor more information, try '--help'.\n",
        ),
        (
            &["--var", "novalue"],
            "error: invalid value 'novalue' for '--var <NAME=VALUE>': `novalue` is not NAME=VALUE\n\nFor more information, try '--help'.\n",
        ),
        (
            &["--deadline", "soon"],
            "error: --deadline: `soon` is not a duration; write a number and a unit, e.g. `5s`, `250ms`, `2m`\n",
        ),
    ];
    for (args, error) in cases {
        Test::new().playbook(MIXED).args(["run", "playbook.yaml"]).args(args).stderr(error).status(2).run();
    }
    Test::new()
        .args(["run", "nowhere.yaml"])
        .stderr("error: nowhere.yaml: cannot read the playbook: No such file or directory (os error 2)\n\n")
        .status(2)
        .run();
}

#[test]
fn var_overrides_the_playbook_and_the_environment() {
    let dir = TestDir::new();
    dir.write("p.yaml", MIXED);
    let run = |args: &[&str], env: Option<&str>| {
        let mut cmd = dir.runbook().args(["run", "p.yaml", "--format", "json", "--only", "greet"]).args(args);
        if let Some(value) = env {
            cmd = cmd.env("RUNBOOK_VAR_greeting", value);
        }
        let out = cmd.run();
        assert_eq!(out.code, 0, "{out:?}");
        out.step("greet")["captured"]["said"].as_str().unwrap().to_owned()
    };
    assert_eq!(run(&[], None), "hello");
    assert_eq!(run(&[], Some("from-env")), "from-env");
    assert_eq!(run(&["--var", "greeting=from-flag"], Some("from-env")), "from-flag");
    // Typed like the playbook's own value: `limit` is an integer.
    let out = dir.runbook().args(["run", "p.yaml", "--format", "json", "--var", "limit=10", "--only", "count"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["vars"]["limit"], 10);
}

#[test]
fn an_unknown_var_on_the_command_line_exits_2_but_the_environment_may_hold_others() {
    let test = || Test::new().file("p.yaml", MIXED);
    test()
        .args(["run", "p.yaml", "--var", "greting=hi"])
        .stderr("error: p.yaml: --var greting: the playbook has no var `greting`; did you mean `greeting`?\n\n")
        .status(2)
        .run();
    test()
        .args(["run", "p.yaml", "--var", "limit=many"])
        .stderr("error: p.yaml: --var limit: `many` is not an integer\n\n")
        .status(2)
        .run();
    test().args(["run", "p.yaml", "--only", "greet"]).env("RUNBOOK_VAR_unrelated", "x").stdout_any().run();
}

#[test]
fn the_json_record_has_the_documented_shape() {
    let out = run_playbook(MIXED, &["--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let record = out.json();
    assert_eq!(record["playbook"], "Mixed bag");
    assert_eq!(record["file"], "playbook.yaml");
    assert_eq!(record["description"], "one of each verdict");
    assert!(!record["host"].as_str().unwrap().is_empty());
    let started = chrono::DateTime::parse_from_rfc3339(record["started"].as_str().unwrap()).unwrap();
    let finished = chrono::DateTime::parse_from_rfc3339(record["finished"].as_str().unwrap()).unwrap();
    assert!(finished >= started);
    assert_eq!(record["status"], "complete");
    assert_eq!(record["verdict"], "fail");
    assert_eq!(record["sections"], serde_json::json!(["Basics", "Follow-up"]));
    assert_eq!(
        record["counts"],
        serde_json::json!({"pass": 1, "warn": 1, "fail": 1, "error": 0, "skipped": 1, "pending": 0,
            "waived": 0, "not_judged": 0, "not_due": 0, "snoozed": 0, "failed_by_severity": {"critical": 1, "warning": 0}})
    );
    let steps = record["steps"].as_array().unwrap();
    let keys: Vec<&str> = steps[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "section",
            "title",
            "kind",
            "verdict",
            "severity",
            "message",
            "captured",
            "duration_ms",
            "attempts",
            "checks"
        ]
    );
    let summary: Vec<(&str, &str, &str, &str)> = steps
        .iter()
        .map(|s| {
            assert!(s["duration_ms"].is_u64() && s["attempts"].is_u64() && s["captured"].is_object(), "{s}");
            let text = |k: &str| s[k].as_str().unwrap();
            (text("id"), text("section"), text("title"), text("verdict"))
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("greet", "Basics", "Greets", "pass"),
            ("count", "Basics", "Count under the limit", "fail"),
            ("soft", "Follow-up", "Soft limit", "warn"),
            ("after_count", "Follow-up", "After the count", "skipped"),
        ]
    );
    assert_eq!(steps[0]["captured"]["said"], "hello");
    assert_eq!(steps[1]["message"], "stdout = \"7\", vars.limit = 5 → expected int(stdout) < vars.limit");
    assert_eq!(steps[3]["attempts"], 0);
}

/// The checklist with durations (which vary) taken out.
fn without_timings(text: &str) -> String {
    text.lines()
        .map(|line| {
            let line = match line.rsplit_once("] ") {
                Some((head, ms)) if ms.ends_with("ms") && ms[..ms.len() - 2].parse::<u64>().is_ok() => {
                    format!("{head}]")
                }
                _ => line.to_owned(),
            };
            match line.rsplit_once(" in ") {
                Some((head, secs)) if secs.ends_with('s') && head.ends_with("pending") => format!("{head} in _s"),
                _ => line,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_text_checklist_groups_by_section_and_indents_the_reasons() {
    Test::new()
        .playbook(MIXED)
        .args(["run", "playbook.yaml"])
        .normalise(without_timings)
        .stdout(
            "Mixed bag  (playbook.yaml)

Basics
  ✓ Greets  [greet]
  ✗ critical: Count under the limit  [count]
      stdout = \"7\", vars.limit = 5 → expected int(stdout) < vars.limit

Follow-up
  ! Soft limit  [soft]
      stdout = \"3\" → wanted int(stdout) < 2
  - After the count  [after_count]
      skipped: needs `count`, which did not pass (fail)

1 passed, 1 warned, 1 failed, 0 errors (1 critical, 0 warning), 1 skipped, 0 pending in _s",
        )
        .status(1)
        .run();
}

/// The test folder's path, which changes every run, reads `[TMP]`.
#[test]
fn an_absolute_path_in_a_message_is_normalised() {
    let test = Test::new();
    let missing = test.dir().path().join("nowhere.yaml");
    test.args(["run"])
        .args([&missing])
        .stderr("error: [TMP]/nowhere.yaml: cannot read the playbook: No such file or directory (os error 2)\n\n")
        .status(2)
        .run();
}

/// The builder compares the whole output: one character off fails the test.
#[test]
#[should_panic(expected = "first difference at line 1")]
fn the_test_builder_fails_on_any_difference() {
    Test::new()
        .args(["run", "nowhere.yaml"])
        .stderr("error: nowhere.yaml: cannot read the playbook\n\n")
        .status(2)
        .run();
}

/// ... and on the exit code alone.
#[test]
#[should_panic(expected = "exit code: expected 0, got 2")]
fn the_test_builder_fails_on_another_exit_code() {
    Test::new()
        .args(["run", "nowhere.yaml"])
        .stderr("error: nowhere.yaml: cannot read the playbook: No such file or directory (os error 2)\n\n")
        .run();
}

#[test]
fn piped_output_is_plain_even_without_no_color() {
    let dir = TestDir::new();
    dir.write("p.yaml", MIXED);
    let out = dir.runbook().env_remove("NO_COLOR").args(["run", "p.yaml"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(!out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'), "{out:?}");
    assert!(out.stdout.contains("  ✗ critical: Count under the limit  [count]"), "{}", out.stdout);
}

#[test]
fn out_writes_the_chosen_format_to_a_file_and_the_checklist_to_the_terminal() {
    let dir = TestDir::new();
    dir.write("p.yaml", MIXED);
    let out = dir.runbook().args(["run", "p.yaml", "--format", "json", "--out", "report.json"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(saved["playbook"], "Mixed bag");
    assert_eq!(saved["counts"]["fail"], 1);
    assert!(out.stdout.starts_with("Mixed bag  (p.yaml)\n"), "{}", out.stdout);

    let out = dir.runbook().args(["run", "p.yaml", "--out", "report.txt"]).run();
    let saved = std::fs::read_to_string(dir.path().join("report.txt")).unwrap();
    assert!(saved.starts_with("Mixed bag  (p.yaml)\n\nBasics\n  ✓ Greets  [greet]"), "{saved}");
    assert!(!saved.contains('\x1b'));
    assert_eq!(without_timings(&saved), without_timings(&out.stdout));
}

#[test]
fn an_out_path_that_cannot_be_written_exits_2_before_anything_runs() {
    let test = Test::new().file(
        "p.yaml",
        "name: side effect\nsections:\n  - name: s\n    steps:\n      - id: touch\n        title: t\n        shell: { run: \"touch ran\" }\n",
    );
    let dir = test.dir();
    test.args(["run", "p.yaml", "--out", "no/such/dir/report.json"])
        .stderr("error: cannot write `no/such/dir/report.json`: No such file or directory (os error 2)\n")
        .status(2)
        .run();
    assert!(!dir.path().join("ran").exists(), "the step ran although the report could not be written");
}

#[test]
fn list_shows_sections_and_steps_without_running_them() {
    let dir = TestDir::new();
    dir.write("p.yaml", &MIXED.replace("echo 7", "touch ran"));
    let out = dir.runbook().args(["list", "p.yaml"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        out.stdout,
        "Mixed bag  (p.yaml)

Basics
  [greet] Greets
      shell: sh -c echo {{vars.greeting}}
  [count] Count under the limit
      shell: sh -c touch ran

Follow-up
  [soft] Soft limit
      shell: sh -c echo 3
  [after_count] After the count
      shell: sh -c true
      needs: count
"
    );
    assert!(!dir.path().join("ran").exists());
}
