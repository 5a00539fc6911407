//! Snoozes (`runbook snooze`), on SQLite and PostgreSQL: a snoozed step still runs and
//! shows its real verdict, marked snoozed in every format; its failure neither fails the
//! run nor notifies until the snooze ends (the clock moved by the real `faketime`), or is
//! lifted. A wrong step id is refused with a suggestion.

use crate::history::store::{Kind, Store, on_both_stores};

on_both_stores!(a_snoozed_failure_neither_fails_nor_notifies_until_it_ends, a_lifted_snooze_no_longer_covers,);

const PLAYBOOK: &str = r#"
name: snoozed
notify:
  - command: ["sh", "-c", "cat >> told.txt; echo '<end>' >> told.txt"]
sections:
  - name: s
    steps:
      - id: disk
        title: Disk has room
        shell: { run: 'true' }
        expect: ['exit_code == 1']
      - id: ok
        title: Fine
        shell: { run: 'true' }
        expect: ['exit_code == 0']
"#;

fn told(store: &Store) -> String {
    std::fs::read_to_string(store.dir.path().join("told.txt")).unwrap_or_default()
}

fn snooze(store: &Store, duration: &str) -> crate::util::Outcome {
    store
        .runbook([
            "snooze",
            "book.yaml",
            "disk",
            "--for",
            duration,
            "--reason",
            "new volume on Friday",
            "--owner",
            "ana",
        ])
        .run()
}

fn a_snoozed_failure_neither_fails_nor_notifies_until_it_ends(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("book.yaml", PLAYBOOK);
    let added = snooze(&store, "2h");
    assert_eq!(added.code, 0, "{added:?}");
    let listed = store.runbook(["snooze", "--list", "snoozed"]).run();
    assert!(listed.stdout.contains("disk") && listed.stdout.contains("snoozed by ana"), "{listed:?}");

    let run = store.run("book.yaml");
    assert_eq!(run.code, 0, "a snoozed failure does not fail the run: {run:?}");
    let record = run.json();
    let disk = run.step("disk");
    assert_eq!(disk["verdict"], "fail", "the real verdict is kept");
    assert_eq!(disk["snoozed"]["owner"], "ana");
    assert_eq!(disk["snoozed"]["reason"], "new volume on Friday");
    assert_eq!(record["counts"]["fail"], 1);
    assert_eq!(record["counts"]["snoozed"], 1);
    assert_eq!(record["verdict"], "warn", "never a plain pass while a failure is snoozed");
    let statement = record["signoff"]["statement"].as_str().unwrap();
    assert!(statement.contains("Snoozed: disk (fail): snoozed by ana until"), "{statement}");
    assert!(!statement.starts_with("All "), "{statement}");
    assert_eq!(told(&store), "", "no notification while snoozed");

    for (format, mark) in [
        ("text", "snoozed by ana until"),
        ("tap", "# TODO snoozed by ana until"),
        ("junit", "snoozed: snoozed by ana until"),
        ("nagios", "[snoozed by ana until"),
        ("markdown", "snoozed by ana until"),
        ("html", "Snoozed by ana until"),
    ] {
        let out = store.runbook(["run", "book.yaml", "--format", format]).run();
        // Nagios states are exit codes: 1 is WARNING, what a snoozed failure is.
        assert_eq!(out.code, if format == "nagios" { 1 } else { 0 }, "{format}: {out:?}");
        assert!(out.stdout.contains(mark), "{format} shows the snooze: {}", out.stdout);
    }
    let nagios = store.runbook(["run", "book.yaml", "--format", "nagios"]).run();
    assert!(nagios.stdout.starts_with("CHECKLIST WARNING"), "{}", nagios.stdout);

    // Three hours on, the snooze has ended: the failure counts and is told.
    let later = store.runbook(["run", "book.yaml", "--format", "json"]).faketime("+3h").run();
    assert_eq!(later.code, 1, "{later:?}");
    assert!(later.step("disk").get("snoozed").is_none(), "{}", later.stdout);
    assert!(told(&store).contains("disk"), "the failure is told once the snooze ends: {}", told(&store));
    let none = store.runbook(["snooze", "--list"]).faketime("+3h").run();
    assert_eq!(none.stdout, "no snoozes in force\n", "{none:?}");
}

fn a_lifted_snooze_no_longer_covers(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("book.yaml", PLAYBOOK);
    let added = snooze(&store, "2h");
    let id = added.stdout.strip_prefix("snooze ").and_then(|s| s.split(':').next()).unwrap().to_owned();
    assert_eq!(store.run("book.yaml").code, 0);
    let lifted = store.runbook(["snooze", "--lift", &id]).run();
    assert_eq!(lifted.code, 0, "{lifted:?}");
    assert_eq!(store.runbook(["snooze", "--lift", &id]).run().code, 2, "a lifted snooze cannot be lifted again");
    let run = store.run("book.yaml");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.step("disk").get("snoozed").is_none());
    let json = store.runbook(["snooze", "--list", "book.yaml", "--format", "json"]).run();
    assert_eq!(json.json(), serde_json::json!([]), "{json:?}");
}

#[test]
fn a_snooze_names_a_known_step_a_reason_and_a_bounded_time() {
    let store = Store::new(Kind::Sqlite);
    store.dir.write("book.yaml", PLAYBOOK);
    let typo = store.runbook(["snooze", "book.yaml", "dsk", "--for", "2h", "--reason", "r"]).run();
    assert_eq!(typo.code, 2, "{typo:?}");
    assert!(typo.stderr.contains("has no step `dsk`; did you mean `disk`?"), "{}", typo.stderr);
    let long = store.runbook(["snooze", "book.yaml", "disk", "--for", "31d", "--reason", "r"]).run();
    assert_eq!(long.code, 2, "{long:?}");
    let unexplained = store.runbook(["snooze", "book.yaml", "disk", "--for", "2h"]).run();
    assert_eq!(unexplained.code, 2, "{unexplained:?}");
    assert!(unexplained.stderr.contains("--reason"), "{}", unexplained.stderr);
}

#[test]
fn without_history_no_snooze_applies_and_the_failure_counts() {
    let store = Store::new(Kind::Sqlite);
    store.dir.write("book.yaml", PLAYBOOK);
    assert_eq!(snooze(&store, "2h").code, 0);
    let run = store.runbook(["run", "book.yaml", "--format", "json", "--no-history"]).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.step("disk").get("snoozed").is_none());
}
