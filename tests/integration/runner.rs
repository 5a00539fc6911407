//! Scheduling seen from outside: `when`, `needs` and step references decide
//! what runs and in what order; `--only` and `--section` pull in what the
//! chosen steps need.

use serde_json::json;

use crate::util::{TestDir, run_playbook};

const CHAIN: &str = r#"
name: chain
vars:
  maintenance: false
sections:
  - name: Connectivity
    steps:
      - id: db
        title: Database reachable
        shell: { run: "echo 5" }
        capture: { size: $.stdout }
        expect: ['int(size) > 0']
      - id: cache
        title: Cache reachable
        shell: { run: "echo cache" }
  - name: Data
    steps:
      - id: growth
        title: Database growth sane
        needs: [db]
        shell: { run: "echo {{steps.db.size}}" }
        expect: ['int(stdout) == int(steps.db.size)']
      - id: reindex
        title: Reindex (maintenance only)
        when: vars.maintenance
        shell: { run: "echo reindexed" }
      - id: after_reindex
        title: Check after reindex
        needs: [reindex]
        shell: { run: "echo checked" }
"#;

fn ids(out: &crate::util::Outcome) -> Vec<String> {
    out.json()["steps"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn when_false_skips_and_steps_that_need_it_are_skipped_with_the_reason() {
    let out = run_playbook(CHAIN, &["--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let reindex = out.step("reindex");
    assert_eq!(reindex["verdict"], "skipped");
    assert_eq!(reindex["message"], "`when: vars.maintenance` is false");
    let after = out.step("after_reindex");
    assert_eq!(after["verdict"], "skipped");
    assert_eq!(after["message"], "needs `reindex`, which did not pass (skipped)");
    assert_eq!(out.step("growth")["verdict"], "pass");
}

#[test]
fn when_true_runs_the_step_and_its_dependants() {
    let out = run_playbook(CHAIN, &["--format", "json", "--var", "maintenance=true"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.step("reindex")["verdict"], "pass");
    assert_eq!(out.step("after_reindex")["verdict"], "pass");
}

#[test]
fn a_failed_need_skips_the_step_with_the_reason() {
    let out = run_playbook(&CHAIN.replace("echo 5", "echo 0"), &["--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.step("db")["verdict"], "fail");
    let growth = out.step("growth");
    assert_eq!(growth["verdict"], "skipped");
    assert_eq!(growth["message"], "needs `db`, which did not pass (fail)");
    assert_eq!(growth["attempts"], 0);
}

#[test]
fn reading_a_value_from_a_step_that_errored_says_so() {
    let out = run_playbook(
        r#"
name: broken source
sections:
  - name: s
    steps:
      - id: source
        title: Reports its size as JSON
        shell: { run: "echo not-json", json: true }
        capture: { size: $.json.size }
      - id: in_params
        title: Uses the size in a command
        shell: { run: "echo {{steps.source.size}}" }
      - id: in_expression
        title: Compares with the size
        shell: { run: "echo 1" }
        expect: ['int(stdout) < steps.source.size']
"#,
        &["--format", "json"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    for id in ["in_params", "in_expression"] {
        let step = out.step(id);
        assert_eq!(step["verdict"], "error", "{step}");
        assert_eq!(step["message"], "reads `steps.source`, but step `source` ended in error and captured nothing");
    }
}

#[test]
fn only_runs_the_chosen_step_and_what_it_needs() {
    let out = run_playbook(CHAIN, &["--format", "json", "--only", "growth"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(ids(&out), ["db", "growth"]);
    assert_eq!(out.json()["counts"]["pass"], 2);
}

#[test]
fn section_runs_its_steps_and_pulls_in_needs_from_other_sections() {
    let out = run_playbook(CHAIN, &["--format", "json", "--section", "Data"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(ids(&out), ["db", "growth", "reindex", "after_reindex"]);
    let out = run_playbook(CHAIN, &["--format", "json", "--section", "Connectivity", "--only", "after_reindex"]);
    assert_eq!(ids(&out), ["db", "cache", "reindex", "after_reindex"]);
}

#[test]
fn unknown_only_and_section_names_exit_2() {
    let out = run_playbook(CHAIN, &["--only", "grwoth"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stderr, "error: --only `grwoth`: no step has that id; did you mean `growth`?\n");
    assert_eq!(out.stdout, "");
    let out = run_playbook(CHAIN, &["--section", "Nope"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stderr, "error: --section `Nope`: no such section; the playbook has `Connectivity`, `Data`\n");
}

#[test]
fn a_manual_step_is_pending_and_does_not_fail_the_run() {
    let out = run_playbook(
        r#"
name: manual
sections:
  - name: s
    steps:
      - id: news
        title: Check for market-moving events
        manual: Look at the news feeds.
"#,
        &["--format", "json"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.step("news")["verdict"], "pending");
    assert_eq!(out.step("news")["message"], "Look at the news feeds.");
    assert_eq!(
        out.json()["counts"],
        json!({"pass": 0, "warn": 0, "fail": 0, "error": 0, "skipped": 0, "pending": 1,
            "waived": 0, "not_judged": 0, "not_due": 0, "snoozed": 0, "failed_by_severity": {"critical": 0, "warning": 0}})
    );
}

#[test]
fn a_panicking_step_ends_as_an_error_of_its_own_and_its_message_is_never_printed() {
    let dir = TestDir::new();
    dir.write(
        "playbook.yaml",
        r#"
name: panics
sections:
  - name: s
    steps:
      - id: boom
        title: this step's probe panics
        shell: { argv: ["true"] }
      - id: fine
        title: this one still runs
        shell: { argv: ["true"] }
        expect: ['exit_code == 0']
"#,
    );
    let canary = "Zq8-panic-payload-3391";
    let out = dir
        .runbook()
        .args(["run", "playbook.yaml", "--format", "json"])
        .env("RUNBOOK_TEST_PANIC", "boom")
        .env("RUNBOOK_TEST_PANIC_MESSAGE", canary)
        .run();
    assert_eq!(out.code, 1, "{out:?}");
    let boom = out.step("boom");
    assert_eq!(boom["verdict"], "error", "{boom}");
    assert_eq!(boom["message"], "internal error: the probe panicked (a bug in runbook)");
    assert_eq!(out.step("fine")["verdict"], "pass");
    assert!(out.stderr.contains("error: internal error at engine/runner/step.rs:"), "{}", out.stderr);
    assert!(!out.stdout.contains(canary) && !out.stderr.contains(canary), "{out:?}");
}
