//! Approvals (`approvals: N`) and the rate limit (`max_runs`) of action steps.
//! The action appends a line to `count.txt`: the lines counted are the runs.
//! Approvals files are signed with the real `minisign` CLI.

use std::process::Command;

use crate::actions::run_on_a_terminal;
use crate::history::store::{Kind, Store, on_both_stores};
use crate::util::TestDir;

/// The action exactly as it runs, as an approval must name it.
const ACTION: &str = "sh -c echo ran >> count.txt";

fn playbook(guard: &str) -> String {
    format!(
        "name: approvals\nsections:\n  - name: s\n    steps:\n      - id: flatten\n        title: flatten all \
         positions\n        action: true\n        {guard}\n        shell: {{ run: 'echo ran >> count.txt' }}\n"
    )
}

fn runs(dir: &TestDir) -> usize {
    std::fs::read_to_string(dir.path().join("count.txt")).map_or(0, |t| t.lines().count())
}

fn minisign(dir: &TestDir, args: &[&str]) {
    let out = Command::new("minisign").args(args).current_dir(dir.path()).output().expect("run minisign");
    assert!(out.status.success(), "minisign {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Writes `approvals.yaml` with one entry per `(approver, action)` and signs it with the
/// minisign CLI (key pair `k.pub`/`k.key`, made on first use).
fn signed_approvals(dir: &TestDir, entries: &[(&str, &str)]) {
    if !dir.path().join("k.pub").exists() {
        minisign(dir, &["-G", "-W", "-p", "k.pub", "-s", "k.key"]);
    }
    let text: String = entries
        .iter()
        .map(|(who, action)| {
            format!("- step: flatten\n  approver: \"{who}\"\n  action: \"{action}\"\n  at: 2026-12-02T09:00:00Z\n")
        })
        .collect();
    dir.write("approvals.yaml", &text);
    let _ = std::fs::remove_file(dir.path().join("approvals.yaml.minisig"));
    minisign(dir, &["-S", "-s", "k.key", "-m", "approvals.yaml"]);
}

fn run_approved(dir: &TestDir, extra: &[&str]) -> crate::util::Outcome {
    let args = ["run", "p.yaml", "--yes", "--approvals", "approvals.yaml", "--approvals-key", "k.pub"];
    dir.runbook().args(args).args(extra).run()
}

#[test]
fn a_quorum_from_a_signed_file_runs_the_action_once_and_every_format_shows_who_approved() {
    let dir = TestDir::new();
    dir.write("p.yaml", &playbook("approvals: 2"));
    signed_approvals(&dir, &[("alice", ACTION), ("bob", ACTION)]);
    let out = run_approved(&dir, &["--format", "json", "--report", "r.html", "--junit", "r.xml"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(runs(&dir), 1, "the action must run exactly once");
    let step = out.step("flatten");
    assert_eq!(step["verdict"], "pass");
    assert_eq!(step["approvals"]["needed"], 2);
    let given = step["approvals"]["given"].as_array().unwrap();
    assert_eq!(given.len(), 2, "{step}");
    assert_eq!(given[0]["approver"], "alice");
    assert_eq!(given[0]["action"], ACTION);
    assert_eq!(given[0]["at"], "2026-12-02T09:00:00Z");
    assert!(given[1]["via"].as_str().unwrap().starts_with("file "), "{step}");
    assert_eq!(step["confirmation"]["by"], "alice, bob");
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.contains("2 of 2 approvals: alice (file "), "{html}");
    let junit = std::fs::read_to_string(dir.path().join("r.xml")).unwrap();
    assert!(junit.contains("approvals: 2 of 2 approvals: alice (file "), "{junit}");
    let tap = run_approved(&dir, &["--format", "tap"]);
    assert!(tap.stdout.contains(r#"  approvals: {"needed":2,"given":[{"approver":"alice""#), "{}", tap.stdout);
    assert!(tap.stdout.contains(&format!(r#""action":"{ACTION}""#)), "{}", tap.stdout);
    for report in ["r.md", "r.txt"] {
        // Approved again: the file still names the exact action.
        let out = run_approved(&dir, &["--report", report]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains("2 of 2 approvals: alice (file "), "{}", out.stdout);
        let text = std::fs::read_to_string(dir.path().join(report)).unwrap();
        assert!(text.contains("2 of 2 approvals: alice (file "), "{report}: {text}");
    }
}

#[test]
fn below_the_quorum_the_action_never_runs_whoever_said_yes() {
    let dir = TestDir::new();
    dir.write("p.yaml", &playbook("approvals: 2"));
    // Alice twice (the second in other case and spaces) and Bob for another action: one approval.
    signed_approvals(&dir, &[("alice", ACTION), (" ALICE ", ACTION), ("bob", "sh -c echo other >> count.txt")]);
    let out = run_approved(&dir, &["--format", "json"]);
    assert_eq!(out.code, 1, "an unapproved action must fail the run: {out:?}");
    assert_eq!(runs(&dir), 0, "the action ran below its quorum");
    let step = out.step("flatten");
    assert_eq!(step["verdict"], "skipped");
    assert_eq!(step["message"], "unapproved (1 of 2 approvals)");
    assert_eq!(step["approvals"]["given"].as_array().unwrap().len(), 1, "{step}");
    assert_eq!(out.json()["signoff"]["clean"], false);
    assert_eq!(out.json()["signoff"]["unconfirmed"][0], "flatten");
    // `--yes` alone, no file: nobody approved.
    let out = dir.runbook().args(["run", "p.yaml", "--yes"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("skipped: unapproved (0 of 2 approvals)"), "{}", out.stdout);
    assert_eq!(runs(&dir), 0);
}

#[test]
fn a_changed_or_unsigned_approvals_file_is_refused_before_anything_runs() {
    let dir = TestDir::new();
    dir.write("p.yaml", &playbook("approvals: 1"));
    signed_approvals(&dir, &[("alice", ACTION)]);
    let text = std::fs::read_to_string(dir.path().join("approvals.yaml")).unwrap();
    dir.write("approvals.yaml", &text.replace("alice", "mallory"));
    let out = run_approved(&dir, &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("is not signed by any --approvals-key"), "{}", out.stderr);
    assert_eq!(runs(&dir), 0);
    std::fs::remove_file(dir.path().join("approvals.yaml.minisig")).unwrap();
    let out = run_approved(&dir, &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(runs(&dir), 0);
    let out = dir.runbook().args(["run", "p.yaml", "--approvals", "approvals.yaml"]).run();
    assert_eq!(out.code, 2, "a file without a key to check it: {out:?}");
}

#[test]
fn approvals_and_max_runs_belong_to_actions_only_and_are_checked() {
    let dir = TestDir::new();
    let not_action = "name: p\nsections:\n  - name: s\n    steps:\n      - id: look\n        title: look\n        \
                      approvals: 2\n        max_runs: 1 per 1h\n        shell: { run: 'true' }\n";
    dir.write("p.yaml", not_action);
    let out = dir.runbook().args(["validate", "p.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("p.yaml:7:9: step `look` is not an action; `approvals` applies"), "{}", out.stderr);
    assert!(out.stderr.contains("p.yaml:8:19: step `look` is not an action; `max_runs` applies"), "{}", out.stderr);
    dir.write("q.yaml", &playbook("approvals: 12\n        max_runs: 1 per fortnight"));
    let out = dir.runbook().args(["validate", "q.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("`approvals` must be 1 to 9, not 12"), "{}", out.stderr);
    assert!(out.stderr.contains("`max_runs: 1 per fortnight`"), "{}", out.stderr);
}

#[test]
fn a_dry_run_shows_the_approvals_and_rate_limit_an_action_needs() {
    let dir = TestDir::new();
    dir.write("p.yaml", &playbook("approvals: 2\n        max_runs: 1 per 1h"));
    let out = dir.runbook().args(["run", "p.yaml", "--dry-run"]).run();
    assert!(
        out.stdout.contains(&format!("dry run: would {ACTION} (needs 2 approvals; max_runs: 1 per 1h)")),
        "{}",
        out.stdout
    );
    assert_eq!(runs(&dir), 0);
}

#[test]
fn without_a_history_a_rate_limited_action_never_runs() {
    let dir = TestDir::new();
    dir.write("p.yaml", &playbook("max_runs: 1 per 1h"));
    // The test harness runs with RUNBOOK_NO_HISTORY.
    let out = dir.runbook().args(["run", "p.yaml", "--yes", "--format", "json"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(runs(&dir), 0);
    let message = out.step("flatten")["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("rate-limited (1 per 1h): no run history"), "{message}");
}

fn a_second_run_within_the_period_does_not_run_the_action(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("p.yaml", &playbook("max_runs: 1 per 1h"));
    let run = || store.runbook(["run", "p.yaml", "--yes", "--format", "json"]).run();
    let first = run();
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(runs(&store.dir), 1);
    let second = run();
    assert_eq!(second.code, 1, "{second:?}");
    assert_eq!(runs(&store.dir), 1, "the action ran twice within the hour");
    let message = second.step("flatten")["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("rate-limited (1 per 1h; last ran at 20"), "{message}");
    assert_eq!(second.json()["signoff"]["clean"], false);
    // Refusals are not runs, and once the hour has passed the action may run again.
    store.execute("UPDATE action_runs SET at = at - 7200000");
    let third = run();
    assert_eq!(third.code, 0, "{third:?}");
    assert_eq!(runs(&store.dir), 2);
}

on_both_stores!(a_second_run_within_the_period_does_not_run_the_action);

#[test]
fn on_a_terminal_two_distinct_approvers_are_asked_for_by_name() {
    let dir = TestDir::new();
    dir.write("p.yaml", &playbook("approvals: 2"));
    let (code, screen) = run_on_a_terminal(&dir, "alice\ny\nAlice\n\n");
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains(&format!("    {ACTION}\r\nneeds 2 approvals (0 so far)")), "{screen}");
    assert!(screen.contains("Alice has already approved; another approver is needed"), "{screen}");
    assert!(screen.contains("unapproved (1 of 2 approvals)"), "{screen}");
    assert_eq!(runs(&dir), 0);

    let (code, screen) = run_on_a_terminal(&dir, "alice\ny\nbob\ny\n");
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("2 of 2 approvals: alice (interactive, at "), "{screen}");
    assert_eq!(runs(&dir), 1);
}
