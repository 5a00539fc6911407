//! The playbook every report test runs: one step of each verdict (one failure
//! of `severity: warning`, the others critical), a secret
//! that a step echoes, a manual step answered in a file and one left
//! pending, and an end-of-day summary. Deterministic apart from times,
//! durations and the host, which `RUNBOOK_FIXED_CLOCK` pins.

use crate::util::{Outcome, TestDir};

/// The secret's value: no output may contain it.
pub const SECRET: &str = "tok-SECRET-4711";

pub const PLAYBOOK: &str = r#"name: Daily ops
description: End-of-day checks for <Titan> & friends
vars: { limit: 100 }
secrets: { token: { env: RB_TEST_TOKEN } }
sections:
  - name: Health
    steps:
      - id: api_up
        title: API answers
        shell: { run: "echo ok" }
        capture: { status: $.stdout }
        expect: ['stdout == "ok"']
      - id: pnl
        title: P&L within limit
        severity: warning
        shell: { run: "echo 1234.5" }
        capture: { daily: $.stdout }
        expect: ['double(daily) < double(vars.limit)']
      - id: latency
        title: Latency is fine
        shell: { run: "echo 350" }
        capture: { ms: $.stdout }
        warn: ['int(ms) < 300']
      - id: token_echo
        title: The token is never shown
        shell: { run: 'echo "$T"', env: { T: "{{secrets.token}}" } }
        capture: { said: $.stdout }
        expect: ['stdout == "nope"']
      - id: hung
        title: A command that hangs
        shell: { run: "sleep 5" }
        timeout: 300ms
      - id: mexc
        title: MEXC connected
        when: 'vars.limit > 1000'
        shell: { run: "true" }
  - name: Sign-off
    steps:
      - id: news
        title: Check for market-moving news
        manual: Look at the news feeds.
      - id: logs
        title: Logs reviewed
        manual: Read the error log.
summary:
  - { label: "Daily P&L", value: "double(steps.pnl.daily)" }
  - { label: "API status", value: "steps.api_up.status" }
  - { label: "Token", value: "steps.token_echo.said" }
"#;

/// The answers file: `news` answered (its comment quotes the secret), `logs` not.
pub fn answers() -> String {
    format!("news: {{verdict: pass, comment: \"quiet day; token {SECRET}\"}}\n")
}

/// A folder with the playbook and the answers file.
pub fn daily_dir() -> TestDir {
    let dir = TestDir::new();
    dir.write("playbook.yaml", PLAYBOOK);
    dir.write("answers.yaml", &answers());
    dir
}

/// `runbook run playbook.yaml --operator alice --answers answers.yaml ARGS` with pinned clock.
pub fn run_daily(dir: &TestDir, args: &[&str]) -> Outcome {
    dir.runbook()
        .args(["run", "playbook.yaml", "--operator", "alice", "--answers", "answers.yaml"])
        .args(args)
        .env("RB_TEST_TOKEN", SECRET)
        .env("RUNBOOK_FIXED_CLOCK", "2026-01-02T03:04:05Z")
        .env("TZ", "UTC")
        .run()
}

/// Reads a file of the test folder.
pub fn read(dir: &TestDir, name: &str) -> String {
    std::fs::read_to_string(dir.path().join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

/// Compares `actual` with `tests/integration/golden/<name>` (see [`crate::util::golden`]).
pub fn golden(name: &str, actual: &str) {
    crate::util::golden(&format!("tests/integration/golden/{name}"), actual);
}
