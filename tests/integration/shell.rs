//! The `shell` probe end to end with real processes: output and exit codes,
//! `json: true`, `argv` and `env`, and a command that outlives its deadline
//! killed with its whole process group.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::util::{TestDir, run_playbook};

#[test]
fn output_exit_code_and_json_are_observed() {
    let out = run_playbook(
        r#"
name: shell checks
sections:
  - name: Processes
    steps:
      - id: pm2
        title: All processes online
        shell: { run: "printf '[{\"name\":\"brain\",\"status\":\"online\"},{\"name\":\"exec\",\"status\":\"online\"}]'", json: true }
        expect: ['exit_code == 0', 'json.all(p, p.status == "online")', 'size(json) == 2']
      - id: argv
        title: argv and env reach the program
        shell: { argv: ["sh", "-c", "echo $GREETING; echo second; echo oops >&2; exit 3"], env: { GREETING: hello } }
        expect: ['exit_code == 3', 'lines == ["hello", "second"]', 'stderr == "oops"']
"#,
        &["--format", "json"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.step("pm2")["verdict"], "pass", "{}", out.stdout);
    assert_eq!(out.step("argv")["verdict"], "pass", "{}", out.stdout);
}

#[test]
fn a_failing_command_shows_what_it_printed() {
    let out = run_playbook(
        r#"
name: shell checks
sections:
  - name: Disk
    steps:
      - id: logs
        title: No errors in the log
        shell: { run: "echo 'ERROR disk full'; exit 1" }
        expect: ['exit_code == 0 && !stdout.contains("ERROR")']
"#,
        &["--format", "json"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        out.step("logs")["message"],
        "exit_code = 1, stdout = \"ERROR disk full\" → expected exit_code == 0 && !stdout.contains(\"ERROR\")"
    );
}

#[test]
fn stdout_that_is_not_json_is_an_error() {
    let out = run_playbook(
        r#"
name: shell checks
sections:
  - name: s
    steps:
      - id: j
        title: JSON status
        shell: { run: "echo not-json", json: true }
"#,
        &["--format", "json"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.step("j")["verdict"], "error");
    assert_eq!(out.step("j")["message"], "stdout is not JSON: expected ident at line 1 column 2");
}

fn alive(pid: i32) -> bool {
    // A zombie (state Z) is dead: it only waits to be reaped by whoever adopted it.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

#[test]
fn a_command_that_ignores_sigterm_is_killed_with_its_children_at_the_deadline() {
    let dir = TestDir::new();
    dir.write(
        "p.yaml",
        r#"
name: stubborn
sections:
  - name: s
    steps:
      - id: hang
        title: A command that will not stop
        timeout: 2s
        shell:
          run: |
            trap '' TERM
            sh -c "trap '' TERM; sleep 60" &
            echo $! > child.pid
            sleep 60
"#,
    );
    let clock = Instant::now();
    let out = dir.runbook().args(["run", "p.yaml", "--format", "json"]).run();
    let elapsed = clock.elapsed();
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.step("hang")["verdict"], "error");
    assert_eq!(out.step("hang")["message"], "timed out after 2s");
    assert!(elapsed < Duration::from_millis(2400), "took {elapsed:?}");
    let pid: i32 = std::fs::read_to_string(dir.path().join("child.pid")).unwrap().trim().parse().unwrap();
    // SIGKILL is delivered at once, but give the kernel a moment to tear the process down.
    let gone = (0..50).any(|_| {
        if alive(pid) {
            std::thread::sleep(Duration::from_millis(20));
            false
        } else {
            true
        }
    });
    assert!(gone, "child {pid} survived its step's deadline");
}

#[test]
fn a_captured_value_is_shell_quoted_in_a_later_command() {
    let out = run_playbook(
        r#"
name: quoting
sections:
  - name: s
    steps:
      - id: name
        title: A hostile file name
        shell: { run: "echo 'x; echo injected'" }
        capture: { file: $.stdout }
      - id: use
        title: Stays one word
        shell: { run: "printf '%s|' {{steps.name.file}}" }
        expect: ['stdout == "x; echo injected|"']
"#,
        &["--format", "json"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.step("name")["captured"], json!({"file": "x; echo injected"}));
}
