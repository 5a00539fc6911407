//! Run history end to end: runs judged against earlier runs (`prev`, the
//! `24h` look-back, aggregates), `runbook history` and `runbook show`, and
//! the store's safety (SIGKILL at any moment, concurrent runs, no secrets),
//! each against SQLite and against the machine's PostgreSQL.

pub mod store;

use std::process::Stdio;
use std::time::{Duration, Instant};

use store::{Kind, Store, on_both_stores};

on_both_stores!(
    growth_is_judged_against_the_previous_run,
    prev_with_an_age_reads_the_latest_value_at_least_that_old,
    aggregates_read_the_last_n_runs,
    a_when_condition_reads_the_history,
    a_run_killed_at_any_moment_leaves_the_store_consistent,
    an_interrupted_run_is_kept_but_not_judged_against,
    a_dry_run_reads_the_history_but_is_not_kept,
    concurrent_runs_all_land,
    stored_values_hold_no_secrets,
);

/// The issue's acceptance playbook: the size comes from a file the test writes.
const GROWTH: &str = r#"
name: growth
sections:
  - name: Database
    steps:
      - id: db_size
        title: "Database size: reasonable growth (< 10% daily increase)"
        shell: { run: "cat size.txt", json: true }
        capture: { size: $.json }
        expect: ['delta_pct(prev("size"), size) < 10']
"#;

/// Writes `size.txt` and runs `file`.
pub fn run_with_size(store: &Store, file: &str, size: u32) -> crate::util::Outcome {
    store.dir.write("size.txt", &size.to_string());
    store.run(file)
}

fn growth_is_judged_against_the_previous_run(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("growth.yaml", GROWTH);

    let first = run_with_size(&store, "growth.yaml", 2000);
    assert_eq!(first.code, 0, "{first:?}");
    // Not judged on a first run: the default `on_no_history: warn`, never a plain pass.
    assert_eq!(first.step("db_size")["verdict"], "warn");
    assert_eq!(
        first.step("db_size")["message"],
        r#"not judged: no earlier value for `delta_pct(prev("size"), size) < 10` (on_no_history: warn); judged from the next run"#
    );
    let second = run_with_size(&store, "growth.yaml", 2100);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(second.step("db_size")["verdict"], "pass");
    assert_eq!(second.step("db_size")["message"], "");
    let third = run_with_size(&store, "growth.yaml", 2415);
    assert_eq!(third.code, 1, "{third:?}");
    assert_eq!(third.step("db_size")["verdict"], "fail");
    assert_eq!(
        third.step("db_size")["message"],
        r#"prev("size") = 2100, size = 2415 → expected delta_pct(prev("size"), size) < 10"#
    );

    let listed = store.runbook(["history", "--format", "json"]).run();
    assert_eq!(listed.code, 0, "{listed:?}");
    let runs: Vec<(i64, String, String, String)> = listed
        .json()
        .as_array()
        .expect("a list of runs")
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (r["id"].as_i64().unwrap_or_default(), text("playbook"), text("status"), text("verdict"))
        })
        .collect();
    let row = |id: i64, verdict: &str| (id, "growth".to_owned(), "complete".to_owned(), verdict.to_owned());
    assert_eq!(runs, vec![row(3, "fail"), row(2, "pass"), row(1, "warn")]);

    let table = store.runbook(["history"]).run();
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", table.stdout);
    assert!(lines[0].starts_with("RUN  STARTED (UTC)"), "{}", table.stdout);
    for (line, (id, verdict)) in lines[1..].iter().zip([("3", "fail"), ("2", "pass"), ("1", "warn")]) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells[0], id, "{line}");
        assert!(cells.contains(&"growth") && cells.contains(&"complete") && cells.contains(&verdict), "{line}");
    }

    let sizes = store.runbook(["history", "growth.yaml", "--step", "db_size"]).run();
    assert_eq!(sizes.code, 0, "{sizes:?}");
    let captured: Vec<&str> = sizes.stdout.lines().skip(1).filter_map(|l| l.split_whitespace().last()).collect();
    assert_eq!(captured, ["size=2415", "size=2100", "size=2000"], "{}", sizes.stdout);

    let shown = store.runbook(["show", "2", "--format", "json"]).run();
    assert_eq!(shown.code, 0, "{shown:?}");
    assert_eq!(shown.json(), second.json(), "`show 2` is run 2 as it was");
    let text = store.runbook(["show", "2"]).run();
    assert!(
        text.stdout.contains("✓ Database size: reasonable growth (< 10% daily increase)  [db_size]"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("1 passed, 0 warned, 0 failed"), "{}", text.stdout);
    let reports = crate::util::TestDir::new();
    let html = reports.path().join("run2.html");
    let rendered = store.runbook(["show", "2", "--report", html.to_str().unwrap_or_default()]).run();
    assert_eq!(rendered.code, 0, "{rendered:?}");
    let page = std::fs::read_to_string(&html).unwrap_or_default();
    assert!(page.starts_with("<!DOCTYPE html>") || page.starts_with("<!doctype html>"), "{page}");
    assert!(page.contains("Database size: reasonable growth (&lt; 10% daily increase)"), "{page}");
    let missing = store.runbook(["show", "99"]).run();
    assert_eq!((missing.code, missing.stderr.as_str()), (2, "error: no run 99 in the history\n"));
}

/// Same playbook name as the recording playbook: the history is shared by name.
const LOOK_BACK: &str = r#"
name: trend
sections:
  - name: s
    steps:
      - id: size
        title: look back
        shell: { run: "cat size.txt", json: true }
        capture: { size: $.json }
        expect:
          - 'prev("size") == 30'
          - 'prev("size", "1h") == 30'
          - 'prev("size", "2h") == 20'
          - 'prev("size", "24h") == 20'
          - 'prev("size", "48h") == 10'
          - 'prev("size", "72h") == null'
"#;

pub const RECORD: &str = r#"
name: trend
sections:
  - name: s
    steps:
      - id: size
        title: record
        shell: { run: "cat size.txt", json: true }
        capture: { size: $.json }
"#;

const HOUR_MS: i64 = 3_600_000;

/// Moves run `id` (and its values and verdicts) `hours` into the past.
pub fn age_run(store: &Store, id: i64, hours: i64) {
    let shift = hours * HOUR_MS;
    store.execute(&format!(
        "UPDATE runs SET started_at = started_at - {shift}, finished_at = finished_at - {shift} WHERE id = {id}; \
         UPDATE run_values SET at = at - {shift} WHERE run_id = {id}; \
         UPDATE run_steps SET at = at - {shift} WHERE run_id = {id}"
    ));
}

fn prev_with_an_age_reads_the_latest_value_at_least_that_old(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("record.yaml", RECORD);
    store.dir.write("look_back.yaml", LOOK_BACK);
    for size in [10, 20, 30] {
        assert_eq!(run_with_size(&store, "record.yaml", size).code, 0);
    }
    for (id, hours_ago) in [(1, 50), (2, 30), (3, 1)] {
        age_run(&store, id, hours_ago);
    }
    let judged = run_with_size(&store, "look_back.yaml", 40);
    assert_eq!(judged.code, 0, "{judged:?}");
    // No "no earlier value" note: every look-up found its value.
    assert_eq!(
        (judged.step("size")["verdict"].clone(), judged.step("size")["message"].clone()),
        ("pass".into(), "".into())
    );

    let listed = store.runbook(["history", "trend", "--format", "json"]).run().json();
    let ids: Vec<i64> = listed.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [4, 3, 2, 1], "newest first by start time");
}

/// The history loads while steps probe; a `when:` is judged before the probe, so it
/// must wait for the history, not judge without it.
fn a_when_condition_reads_the_history(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("record.yaml", RECORD);
    store.dir.write(
        "gated.yaml",
        &RECORD.replace(
            "title: record",
            "title: gated\n        when: 'prev(\"size\") > 100'\n        expect: ['size > 0']",
        ),
    );
    assert_eq!(run_with_size(&store, "record.yaml", 50).code, 0);
    let skipped = run_with_size(&store, "gated.yaml", 60);
    assert_eq!(skipped.step("size")["verdict"], "skipped", "the last size, 50, is not over 100: {skipped:?}");
    assert_eq!(run_with_size(&store, "record.yaml", 300).code, 0);
    let ran = run_with_size(&store, "gated.yaml", 70);
    assert_eq!(ran.step("size")["verdict"], "pass", "the last size, 300, is over 100: {ran:?}");
}

fn aggregates_read_the_last_n_runs(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("record.yaml", RECORD);
    store.dir.write(
        "aggregates.yaml",
        &RECORD.replace(
            "title: record",
            "title: aggregates\n        expect: ['avg(\"size\", 3) == 30.0', 'max_of(\"size\", 2) == 60.0', \
             'min_of(\"size\", 2) == 20.0', 'min_of(\"size\", 10) == 10.0', 'avg(\"size\", 1) == 60.0']",
        ),
    );
    for size in [10, 20, 60] {
        assert_eq!(run_with_size(&store, "record.yaml", size).code, 0);
    }
    let judged = run_with_size(&store, "aggregates.yaml", 0);
    assert_eq!(judged.code, 0, "{judged:?}");
    assert_eq!(
        (judged.step("size")["verdict"].clone(), judged.step("size")["message"].clone()),
        ("pass".into(), "".into())
    );

    // The values are real: a wrong expectation fails and shows the aggregate (of 0 and 60).
    store.dir.write(
        "wrong.yaml",
        &RECORD.replace("title: record", "title: wrong\n        expect: ['avg(\"size\", 2) > 31']"),
    );
    let wrong = run_with_size(&store, "wrong.yaml", 0);
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert_eq!(wrong.step("size")["message"], r#"avg("size", 2) = 30.0 → expected avg("size", 2) > 31"#);
}

/// The growth playbook plus a slow step, so a kill lands mid-run.
fn slow_growth() -> String {
    format!(
        "{GROWTH}      - id: slow\n        title: slow\n        timeout: 60s\n        shell: {{ run: \"sleep 15\" }}\n"
    )
}

/// Starts `runbook run FILE` against the store in the background.
fn spawn_run(store: &Store, file: &str) -> std::process::Child {
    store.runbook(["run", file]).command().stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start runbook")
}

pub fn count(store: &Store, sql: &str) -> i64 {
    store.texts(&format!("SELECT CAST(({sql}) AS TEXT)"))[0].parse().expect("a count")
}

fn assert_consistent(store: &Store) {
    if store.is_sqlite() {
        assert_eq!(store.texts("PRAGMA integrity_check"), ["ok"]);
    }
    let statuses = store.texts("SELECT status FROM runs");
    assert!(statuses.iter().all(|s| s == "complete" || s == "incomplete"), "{statuses:?}");
    assert_eq!(
        count(store, "SELECT COUNT(*) FROM run_values v JOIN runs r ON r.id = v.run_id WHERE r.status <> 'complete'"),
        0,
        "an incomplete run has no values"
    );
    assert_eq!(count(store, "SELECT COUNT(*) FROM runs WHERE status = 'complete' AND record IS NULL"), 0);
}

fn a_run_killed_at_any_moment_leaves_the_store_consistent(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("growth.yaml", GROWTH);
    store.dir.write("slow.yaml", &slow_growth());
    assert_eq!(run_with_size(&store, "growth.yaml", 2000).code, 0);

    // Killed mid-run, after it captured a size that would fail the next run.
    store.dir.write("size.txt", "50");
    let mut child = spawn_run(&store, "slow.yaml");
    wait_for_incomplete_run(&store);
    std::thread::sleep(Duration::from_millis(300));
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    assert_consistent(&store);
    let listed = store.runbook(["history", "--format", "json"]).run().json();
    assert_eq!((listed[0]["id"].as_i64(), listed[0]["status"].as_str()), (Some(2), Some("incomplete")));
    let shown = store.runbook(["show", "2"]).run();
    assert_eq!(shown.code, 1);
    assert_eq!(shown.stderr, "error: run 2 has no record to show: it never finished (still running, or killed)\n");

    // Killed at assorted moments: opening the store, starting, running.
    for delay_ms in [0, 3, 10, 25, 60, 120] {
        let mut child = spawn_run(&store, "slow.yaml");
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }
    assert_consistent(&store);

    // A clean run afterwards judges against run 1 (2000), not the killed runs (50).
    let after = run_with_size(&store, "growth.yaml", 2080);
    assert_eq!(after.code, 0, "{after:?}");
    assert_eq!(after.step("db_size")["message"], "");
    assert_consistent(&store);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM runs WHERE status = 'complete'"), 2);
}

/// Waits (bounded) until the store has an incomplete run: the run is under way.
fn wait_for_incomplete_run(store: &Store) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(store, "SELECT COUNT(*) FROM runs WHERE status = 'incomplete'") == 0 {
        assert!(Instant::now() < deadline, "the run never showed up in the history");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn an_interrupted_run_is_kept_but_not_judged_against(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("growth.yaml", GROWTH);
    store.dir.write("slow.yaml", &slow_growth());
    assert_eq!(run_with_size(&store, "growth.yaml", 2000).code, 0);
    store.dir.write("size.txt", "50");
    let mut child = spawn_run(&store, "slow.yaml");
    wait_for_incomplete_run(&store);
    std::thread::sleep(Duration::from_millis(300));
    let term = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(term.success());
    assert_eq!(child.wait().expect("reap").code(), Some(143));
    let listed = store.runbook(["history", "--format", "json"]).run().json();
    assert_eq!((listed[0]["id"].as_i64(), listed[0]["status"].as_str()), (Some(2), Some("interrupted")));
    let shown = store.runbook(["show", "2", "--format", "json"]).run();
    assert_eq!(shown.json()["status"], "interrupted");
    assert_eq!(shown.step("db_size")["captured"]["size"], 50);

    // Judged against run 1 (2000), not the interrupted run's 50.
    let after = run_with_size(&store, "growth.yaml", 2080);
    assert_eq!((after.code, after.step("db_size")["message"].clone()), (0, "".into()), "{after:?}");
}

/// The ids of the runs `runbook history` lists, newest first.
fn listed_runs(store: &Store) -> Vec<i64> {
    let listed = store.runbook(["history", "--format", "json"]).run().json();
    listed.as_array().expect("a list of runs").iter().filter_map(|r| r["id"].as_i64()).collect()
}

fn a_dry_run_reads_the_history_but_is_not_kept(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("growth.yaml", GROWTH);
    let dry = |size: u32| {
        store.dir.write("size.txt", &size.to_string());
        store.runbook(["run", "growth.yaml", "--format", "json", "--dry-run"]).run()
    };
    let first = dry(2000);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stderr.contains("dry run: the run is not kept in the history"), "{}", first.stderr);
    assert_eq!(listed_runs(&store), Vec::<i64>::new(), "a dry run on an empty history");

    assert_eq!(run_with_size(&store, "growth.yaml", 2000).code, 0);
    // Judged against run 1 (2000), as the real run would be: +7.5%.
    let rehearsal = dry(2150);
    assert_eq!((rehearsal.code, rehearsal.step("db_size")["message"].clone()), (0, "".into()), "{rehearsal:?}");
    assert_eq!(listed_runs(&store), [1], "the dry run is not in `runbook history`");

    // Against the rehearsal's 2150 this +15% would pass; the real previous run is 2000.
    let real = run_with_size(&store, "growth.yaml", 2300);
    assert_eq!(real.code, 1, "{real:?}");
    assert_eq!(
        real.step("db_size")["message"],
        r#"prev("size") = 2000, size = 2300 → expected delta_pct(prev("size"), size) < 10"#
    );
    assert_eq!(listed_runs(&store), [2, 1]);
}

fn concurrent_runs_all_land(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("growth.yaml", GROWTH);
    store.dir.write("size.txt", "1000");
    // A fresh store: the runs also race to create it and apply the migrations.
    let children: Vec<_> = (0..4).map(|_| store.runbook(["run", "growth.yaml"]).command().output_async()).collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(count(&store, "SELECT COUNT(*) FROM runs WHERE status = 'complete'"), 4);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM run_values"), 4);
    // Each migration applied once, though four runs raced to apply them.
    assert_eq!(
        count(&store, "SELECT COUNT(*) FROM schema_version"),
        count(&store, "SELECT MAX(version) FROM schema_version")
    );
    assert_consistent(&store);
}

/// `Command::spawn` with both outputs piped, for `wait_with_output`.
trait SpawnPiped {
    fn output_async(self) -> std::process::Child;
}

impl SpawnPiped for std::process::Command {
    fn output_async(mut self) -> std::process::Child {
        self.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start runbook")
    }
}

fn stored_values_hold_no_secrets(kind: Kind) {
    const SECRET: &str = "s3cr3t-hunter-42";
    let store = Store::new(kind);
    store.dir.write(
        "secret.yaml",
        r#"
name: secret
secrets: { token: { env: HISTORY_TEST_TOKEN } }
sections:
  - name: s
    steps:
      - id: echo
        title: echo the token
        shell: { run: 'echo "token=$T"', env: { T: "{{secrets.token}}" } }
        capture: { out: $.stdout }
        expect: ['out.startsWith("token=")']
"#,
    );
    let out = store.runbook(["run", "secret.yaml"]).env("HISTORY_TEST_TOKEN", SECRET).run();
    assert_eq!(out.code, 0, "{out:?}");
    let values = store.texts("SELECT value FROM run_values");
    assert_eq!(values, ["\"token=••••••\""]);
    for text in store.texts("SELECT record FROM runs").iter().chain(&values) {
        assert!(!text.contains(SECRET), "{text}");
    }
    if store.is_sqlite() {
        for entry in std::fs::read_dir(store.dir.path()).expect("list the test folder") {
            let bytes = std::fs::read(entry.expect("entry").path()).unwrap_or_default();
            assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()), "a file holds the secret");
        }
    }
}

#[test]
fn the_history_lives_in_the_xdg_data_dir_unless_told_otherwise() {
    let dir = crate::util::TestDir::new();
    dir.write("growth.yaml", GROWTH);
    dir.write("size.txt", "7");
    let data = dir.path().join("data");
    let home = dir.path().join("home");
    let runbook = || {
        dir.runbook().with_history().env("XDG_DATA_HOME", data.to_str().unwrap()).env("HOME", home.to_str().unwrap())
    };

    // Looking does not create it.
    let empty = runbook().args(["history"]).run();
    assert_eq!((empty.code, empty.stdout.as_str()), (0, "no runs in the history yet\n"));
    assert!(!data.exists());
    // --no-history neither reads nor writes.
    assert_eq!(runbook().args(["run", "growth.yaml", "--no-history"]).run().code, 0);
    assert!(!data.exists());

    assert_eq!(runbook().args(["run", "growth.yaml"]).run().code, 0);
    assert!(data.join("runbook/history.db").is_file());
    let elsewhere = dir.path().join("elsewhere.db");
    let env_run = runbook().args(["run", "growth.yaml"]).env("RUNBOOK_HISTORY", elsewhere.to_str().unwrap()).run();
    assert_eq!(env_run.code, 0, "{env_run:?}");
    assert!(elsewhere.is_file());
    assert_eq!(runbook().args(["history", "--format", "json"]).run().json().as_array().map(Vec::len), Some(1));

    // Without XDG_DATA_HOME: ~/.local/share.
    let fallback = dir.runbook().with_history().env("HOME", home.to_str().unwrap()).env("XDG_DATA_HOME", "");
    assert_eq!(fallback.args(["run", "growth.yaml"]).run().code, 0);
    assert!(home.join(".local/share/runbook/history.db").is_file());
}
