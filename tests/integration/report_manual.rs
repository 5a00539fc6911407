//! Manual steps and the sign-off: answers from a file, the interactive
//! prompt through a real pseudo-terminal, unknown ids refused before the
//! run, and the journal line per run.

use std::process::Command;

use crate::report_fixture::{SECRET, daily_dir, read, run_daily};

#[test]
fn without_answers_manual_steps_stay_pending_and_the_run_still_passes() {
    let dir = crate::util::TestDir::new();
    dir.write(
        "p.yaml",
        "name: m\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: ok\n        shell: { run: 'true' }\n      - id: look\n        title: Look\n        manual: Look at it.\n",
    );
    let out = dir.runbook().args(["run", "p.yaml", "--format", "json"]).run();
    assert_eq!(out.code, 0, "pending is not a failure: {out:?}");
    assert_eq!(out.step("look")["verdict"], "pending");
    let signoff = &out.json()["signoff"];
    assert_eq!(signoff["clean"], false);
    assert_eq!(signoff["statement"], "1 check pending: look.");
}

#[test]
fn an_unknown_id_in_the_answers_file_is_refused_before_the_run() {
    let dir = daily_dir();
    dir.write("answers.yaml", "newz: pass\n");
    let out = run_daily(&dir, &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stderr, "error: --answers answers.yaml: no step `newz` in this run; did you mean `news`?\n");
    assert!(out.stdout.is_empty());
    dir.write("answers.yaml", "api_up: pass\n");
    let out = run_daily(&dir, &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("step `api_up` is a `shell` step, not a `manual` one"), "{}", out.stderr);
    dir.write("answers.yaml", "news: perhaps\n");
    let out = run_daily(&dir, &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("step `news`: `perhaps` is not a manual verdict"), "{}", out.stderr);
}

#[test]
fn the_journal_gets_one_line_per_run() {
    let dir = daily_dir();
    run_daily(&dir, &["--journal", "ops.log"]);
    run_daily(&dir, &["--journal", "ops.log"]);
    let journal = read(&dir, "ops.log");
    let lines: Vec<&str> = journal.lines().collect();
    assert_eq!(lines.len(), 2, "{journal}");
    assert_eq!(
        lines[0],
        "time=2026-01-02T03:04:05.000Z playbook=\"Daily ops\" file=playbook.yaml host=test-host operator=alice \
         verdict=error status=complete signoff=not-clean pass=2 warn=1 fail=2 error=1 skipped=1 pending=1"
    );
    assert!(!journal.contains(SECRET));
}

/// Drives the binary on a pseudo-terminal: answers each prompt as it appears.
const PTY_SCRIPT: &str = r#"[(b"pass / fail / skip?", b"f\n"), (b"comment (optional):", b"feeds are down\n"),
          (b"pass / fail / skip?", b"maybe\n"), (b"pass / fail / skip?", b"s\n"),
          (b"comment (optional):", b"\n"), (b"Operator", b"bob\n")]"#;

#[test]
fn the_operator_answers_manual_steps_and_signs_at_a_terminal() {
    let dir = daily_dir();
    let out = Command::new("python3")
        .arg("-c")
        .arg(crate::util::pty_driver(PTY_SCRIPT))
        .arg(env!("CARGO_BIN_EXE_runbook"))
        .args(["run", "playbook.yaml", "--report", "r.md", "--journal", "ops.log"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("RUNBOOK_NO_HISTORY", "1")
        .env_remove("RUNBOOK_OPERATOR")
        .env("RB_TEST_TOKEN", SECRET)
        .output()
        .expect("run python3");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{screen}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(screen.contains("[1/2] Check for market-moving news  [news]"), "{screen}");
    assert!(screen.contains("`maybe` is not a manual verdict"), "{screen}");
    let md = read(&dir, "r.md");
    assert!(md.contains("answered fail at the prompt: “feeds are down”"), "{md}");
    assert!(md.contains("- – Logs reviewed — skipped"), "{md}");
    assert!(md.contains("| Operator | bob |"), "{md}");
    assert!(md.contains("4 checks failed: pnl, token_echo, hung, news."), "{md}");
    assert!(read(&dir, "ops.log").contains(" operator=bob "));
}
