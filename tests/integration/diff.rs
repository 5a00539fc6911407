//! `runbook diff` on stored runs, SQLite and PostgreSQL: verdicts that
//! changed, values that moved (with the percentage), steps added or removed,
//! and `--against previous` finding the run before on the same host.

use crate::history::store::{Kind, Store, on_both_stores};

on_both_stores!(changes_between_two_stored_runs_are_listed, against_previous_is_the_run_before_on_that_host);

const SIZE: &str = r#"
name: growth
sections:
  - name: s
    steps:
      - id: size
        title: Size is small
        shell: { run: "cat size.txt", json: true }
        capture: { size: $.json }
        expect: ['size < 100']
"#;

fn run_with(store: &Store, playbook: &str, size: u32, host: &str) -> i64 {
    store.dir.write("p.yaml", playbook);
    store.dir.write("size.txt", &size.to_string());
    let out = store.runbook(["run", "p.yaml", "--host", host, "--format", "json"]).run();
    assert!(out.code <= 1, "{out:?}");
    let listed = store.runbook(["history", "growth", "--format", "json", "--limit", "1"]).run();
    listed.json()[0]["id"].as_i64().expect("a stored run")
}

fn changes_between_two_stored_runs_are_listed(kind: Kind) {
    let store = Store::new(kind);
    let first = run_with(&store, SIZE, 50, "a");
    let with_new_step = format!("{SIZE}      - {{ id: extra, title: Extra, shell: {{ run: 'true' }} }}\n");
    let second = run_with(&store, &with_new_step, 150, "a");
    let out = store.runbook(["diff", &first.to_string(), &second.to_string(), "--format", "json"]).run();
    assert_eq!(out.code, 1, "something changed: {out:?}");
    let diff = &out.json()["diff"];
    assert_eq!(diff["verdicts"][0]["before"], "pass");
    assert_eq!(diff["verdicts"][0]["after"], "fail");
    assert_eq!(diff["values"][0]["change_pct"], 200.0);
    assert_eq!(diff["added"], serde_json::json!(["extra"]));
    let text = store.runbook(["diff", &first.to_string(), &second.to_string()]).run();
    assert!(text.stdout.contains("size.size: 50 -> 150 (+200.0%)"), "{}", text.stdout);
    let same = store.runbook(["diff", &first.to_string(), &first.to_string()]).run();
    assert_eq!(same.code, 0, "{same:?}");
    assert!(same.stdout.contains("no change"));
    assert_eq!(store.runbook(["diff", "999999", &first.to_string()]).run().code, 2);
}

fn against_previous_is_the_run_before_on_that_host(kind: Kind) {
    let store = Store::new(kind);
    run_with(&store, SIZE, 10, "a");
    run_with(&store, SIZE, 20, "b");
    let latest = run_with(&store, SIZE, 40, "a");
    let out = store.runbook(["diff", &latest.to_string(), "--against", "previous", "--format", "json"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.json()["diff"]["values"][0]["before"], 10, "host b's run is not a's previous run");
    assert_eq!(out.json()["diff"]["values"][0]["change_pct"], 300.0);
}
