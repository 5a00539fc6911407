//! History that stays fast: look-ups load only what the checks read,
//! retention (`runbook history prune` and a playbook's `history:`) never
//! removes what a look-back still needs, and `--stats` aggregates verdicts and
//! captures over a window; each against SQLite and the machine's PostgreSQL.

use std::time::Duration;

use runbook::expr::{History as _, HistoryRead};
use serde_json::Value;

use crate::history::store::{Kind, Store, on_both_stores};
use crate::history::{RECORD, age_run, count, run_with_size};

on_both_stores!(
    a_look_up_loads_only_the_values_it_reads,
    a_look_up_walks_back_past_runs_without_the_value,
    many_steps_each_read_their_own_values,
    prune_by_count_keeps_the_newest_runs,
    prune_by_age_and_its_dry_run,
    prune_never_removes_what_a_look_back_reads,
    a_playbook_retention_setting_prunes_after_each_run,
    stats_give_ok_rates_and_percentiles_over_a_window,
    a_store_of_the_first_schema_is_upgraded_with_its_runs,
);

/// RECORD, plus a second capture, so loading one name is seen not to load the other.
fn two_names() -> String {
    RECORD.replace("capture: { size: $.json }", "capture: { size: $.json, twice: $.json }")
}

/// Records runs of RECORD with these sizes.
fn record(store: &Store, sizes: impl IntoIterator<Item = u32>) {
    store.dir.write("record.yaml", RECORD);
    for size in sizes {
        let run = run_with_size(store, "record.yaml", size);
        assert_eq!(run.code, 0, "{run:?}");
    }
}

fn run_ids(store: &Store) -> Vec<i64> {
    store.texts("SELECT CAST(id AS TEXT) FROM runs ORDER BY id").iter().map(|t| t.parse().unwrap()).collect()
}

fn a_look_up_loads_only_the_values_it_reads(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("two.yaml", &two_names());
    for size in 1..=8 {
        assert_eq!(run_with_size(&store, "two.yaml", size).code, 0);
    }
    for id in 1..=4 {
        age_run(&store, id, 48 - id);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let location = runbook::history::Location::resolve(Some(&store.location)).unwrap();
    let opened = runtime.block_on(runbook::history::Store::open(&location)).unwrap();
    let load = |reads: Vec<HistoryRead>| {
        let loaded = runtime.block_on(opened.playbook_history("trend", [("size", reads)], runbook::history::now_ms()));
        loaded.unwrap()
    };
    let recent = |count| HistoryRead::Recent { name: "size".to_owned(), count };

    // avg("size", 3): the three newest values of that one name, not the 16 stored.
    let three = load(vec![recent(3)]);
    let step = three.step("size").unwrap();
    assert_eq!(step.loaded(), 3);
    assert_eq!(step.recent("size", 10), [Value::from(8), Value::from(7), Value::from(6)]);
    assert!(step.recent("twice", 1).is_empty(), "a name no check reads is not loaded");

    // prev("size", "24h"): one value, the newest at least a day old (run 4, 44 h ago).
    let day = load(vec![HistoryRead::Before { name: "size".to_owned(), age: Duration::from_secs(86_400) }]);
    let step = day.step("size").unwrap();
    assert_eq!(step.loaded(), 1);
    assert_eq!(step.at_least("size", Duration::from_secs(86_400)), Some(Value::from(4)));

    // Both at once: one list, each value once.
    let both = load(vec![recent(1), HistoryRead::Before { name: "size".to_owned(), age: Duration::from_millis(1) }]);
    assert_eq!(both.step("size").unwrap().loaded(), 1, "the newest value answers both");

    // A computed name (prev(vars.name)) cannot be bounded: the step's whole past is loaded.
    assert_eq!(load(vec![HistoryRead::Unbounded]).step("size").unwrap().loaded(), 16);
}

/// Look-ups read the newest runs' values; a name those runs lack (the step stopped
/// capturing it) is looked for further back, run by run, never answered short.
fn a_look_up_walks_back_past_runs_without_the_value(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("two.yaml", &two_names());
    store.dir.write("twice.yaml", &RECORD.replace("capture: { size: $.json }", "capture: { twice: $.json }"));
    for size in 1..=5 {
        assert_eq!(run_with_size(&store, "two.yaml", size).code, 0);
    }
    for size in 6..=8 {
        assert_eq!(run_with_size(&store, "twice.yaml", size).code, 0, "the same playbook, without `size`");
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let location = runbook::history::Location::resolve(Some(&store.location)).unwrap();
    let opened = runtime.block_on(runbook::history::Store::open(&location)).unwrap();
    let reads = vec![
        HistoryRead::Recent { name: "size".to_owned(), count: 3 },
        HistoryRead::Recent { name: "twice".to_owned(), count: 4 },
        HistoryRead::Before { name: "size".to_owned(), age: Duration::from_millis(1) },
    ];
    let loaded = runtime.block_on(opened.playbook_history("trend", [("size", reads)], runbook::history::now_ms()));
    let step = loaded.unwrap();
    let step = step.step("size").unwrap();
    let numbers = |values: Vec<Value>| values.iter().map(|v| v.as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(numbers(step.recent("size", 3)), [5, 4, 3], "the three newest runs hold no `size`");
    assert_eq!(numbers(step.recent("twice", 4)), [8, 7, 6, 5]);
    assert_eq!(step.at_least("size", Duration::from_millis(1)), Some(Value::from(5)));
    assert_eq!(step.loaded(), 7, "3 of `size` (the newest answers both of its reads) and 4 of `twice`");
}

/// 130 steps of two reads each: the look-ups go a hundred to a statement, and
/// every step must still get its own values, not a neighbour's.
fn many_steps_each_read_their_own_values(kind: Kind) {
    const STEPS: usize = 130;
    let store = Store::new(kind);
    let mut playbook = String::from("name: many\nsections:\n  - name: s\n    steps:\n");
    for i in 0..STEPS {
        playbook.push_str(&format!(
            "      - id: s{i}\n        title: step {i}\n        shell: {{ run: \"cat v{i}.txt\", json: true }}\n\
             \x20       capture: {{ v: $.json }}\n        expect: ['v == prev(\"v\")', 'v == prev(\"v\", \"1ms\")']\n"
        ));
    }
    store.dir.write("many.yaml", &playbook);
    let run = |changed: Option<usize>| {
        for i in 0..STEPS {
            let value = if Some(i) == changed { 1000 + i } else { i };
            store.dir.write(&format!("v{i}.txt"), &value.to_string());
        }
        store.run("many.yaml")
    };
    assert_eq!(run(None).code, 0, "the first run is not judged");
    let second = run(None);
    assert_eq!(second.code, 0, "{second:?}");
    for i in 0..STEPS {
        assert_eq!(second.step(&format!("s{i}"))["verdict"], "pass", "step s{i}: {:?}", second.step(&format!("s{i}")));
    }
    let third = run(Some(117));
    assert_eq!(third.code, 1, "{third:?}");
    for i in 0..STEPS {
        let expected = if i == 117 { "fail" } else { "pass" };
        assert_eq!(third.step(&format!("s{i}"))["verdict"], expected, "step s{i}");
    }
}

fn prune_by_count_keeps_the_newest_runs(kind: Kind) {
    let store = Store::new(kind);
    record(&store, [10, 20, 30, 40, 50, 60]);
    let pruned = store.runbook(["history", "prune", "trend", "--keep-runs", "2"]).run();
    assert_eq!((pruned.code, pruned.stdout.as_str()), (0, "pruned `trend`: 4 runs, 4 values\n"), "{pruned:?}");
    assert_eq!(run_ids(&store), [5, 6]);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM run_values"), 2);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM run_steps"), 2);
    // The history still judges: the next run reads what is left.
    store
        .dir
        .write("growth.yaml", &RECORD.replace("title: record", "title: g\n        expect: ['size > prev(\"size\")']"));
    let judged = run_with_size(&store, "growth.yaml", 70);
    assert_eq!(judged.step("size")["verdict"], "pass", "{judged:?}");
}

fn prune_by_age_and_its_dry_run(kind: Kind) {
    let store = Store::new(kind);
    record(&store, [10, 20, 30]);
    age_run(&store, 1, 72);
    age_run(&store, 2, 30);
    let dry = store.runbook(["history", "prune", "--keep-for", "1d", "--dry-run"]).run();
    assert_eq!(dry.stdout, "would prune `trend`: 2 runs, 2 values\n", "{dry:?}");
    assert_eq!(run_ids(&store), [1, 2, 3], "a dry run removes nothing");
    let json = store.runbook(["history", "prune", "--keep-for", "2d", "--format", "json"]).run().json();
    assert_eq!((json[0]["runs"].clone(), json[0]["values"].clone()), (Value::from(1), Value::from(1)));
    assert_eq!(run_ids(&store), [2, 3]);
    let refused = store.runbook(["history", "prune"]).run();
    assert_eq!(refused.code, 2, "a prune with no limit is refused: {refused:?}");
}

/// A trend check over the last three runs, which must hold exactly.
fn three_run_average(expected: &str) -> String {
    RECORD.replace("title: record", &format!("title: avg\n        expect: ['avg(\"size\", 3) == {expected}']"))
}

/// The same look-back, holding whatever the values.
fn three_run_average_any() -> String {
    RECORD.replace("title: record", "title: avg\n        expect: ['avg(\"size\", 3) >= 0.0']")
}

fn prune_never_removes_what_a_look_back_reads(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("avg.yaml", &three_run_average_any());
    for size in [10, 20, 30, 40, 50] {
        run_with_size(&store, "avg.yaml", size);
    }
    // Keep one run: the playbook's avg("size", 3) reads three, so three stay.
    let pruned = store.runbook(["history", "prune", "trend", "--keep-runs", "1"]).run();
    assert_eq!(
        pruned.stdout, "pruned `trend`: 2 runs, 2 values (runs its trend checks still read are kept)\n",
        "{pruned:?}"
    );
    assert_eq!(run_ids(&store), [3, 4, 5]);
    store.dir.write("exact.yaml", &three_run_average("40.0"));
    let judged = run_with_size(&store, "exact.yaml", 0);
    assert_eq!(
        (judged.step("size")["verdict"].clone(), judged.step("size")["message"].clone()),
        ("pass".into(), "".into()),
        "the average of the three kept runs (30, 40, 50)"
    );
    // A look-back by age keeps every younger run and the newest older one.
    store.dir.write(
        "day.yaml",
        &RECORD.replace("title: record", "title: day\n        expect: ['size >= prev(\"size\", \"24h\")']"),
    );
    for (id, hours) in [(3, 50), (4, 30), (5, 2), (6, 1)] {
        age_run(&store, id, hours);
    }
    run_with_size(&store, "day.yaml", 60);
    store.runbook(["history", "prune", "--keep-for", "1h"]).run();
    assert_eq!(run_ids(&store), [4, 5, 6, 7], "run 4 (30 h old) is what prev(size, 24h) reads");
}

fn a_playbook_retention_setting_prunes_after_each_run(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("kept.yaml", &RECORD.replace("name: trend", "name: trend\nhistory: { keep_runs: 2 }"));
    for size in [1, 2, 3] {
        run_with_size(&store, "kept.yaml", size);
    }
    let fourth = store.runbook(["run", "kept.yaml"]).run();
    assert!(fourth.stderr.contains("pruned `trend`: 1 runs, 1 values"), "{fourth:?}");
    assert_eq!(run_ids(&store), [3, 4]);
    // With a look-back deeper than the setting, the look-back wins.
    store
        .dir
        .write("deep.yaml", &three_run_average_any().replace("name: trend", "name: trend\nhistory: { keep_runs: 1 }"));
    for size in [5, 6, 7] {
        run_with_size(&store, "deep.yaml", size);
    }
    assert_eq!(run_ids(&store), [5, 6, 7]);
}

fn stats_give_ok_rates_and_percentiles_over_a_window(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("limit.yaml", &RECORD.replace("title: record", "title: limit\n        expect: ['size < 95']"));
    for size in (1..=10).map(|n| n * 10) {
        run_with_size(&store, "limit.yaml", size);
    }
    age_run(&store, 1, 24 * 10);
    let stats = store.runbook(["history", "trend", "--stats", "--format", "json"]).run().json();
    let step = &stats["steps"][0];
    // Runs 2..10 (20..100) in the last 7 days; 100 failed the limit.
    assert_eq!((step["step"].clone(), step["judged"].clone(), step["ok"].clone()), ("size".into(), 9.into(), 8.into()));
    let size = &step["captures"][0];
    // Nearest rank of 9 values: p50 the 5th (60), p95 the 9th (100).
    assert_eq!(
        (size["count"].clone(), size["p50"].clone(), size["p95"].clone()),
        (9.into(), 60.0.into(), 100.0.into())
    );
    let month = store.runbook(["history", "trend", "--stats", "--window", "30d", "--format", "json"]).run().json();
    assert_eq!(month["steps"][0]["judged"], 10);
    let text = store.runbook(["history", "trend", "--stats"]).run();
    assert!(text.stdout.contains("size  9     88.9%  1     0      size 60 / 100 (9)"), "{}", text.stdout);
}

/// `serve` shows the same stats, per playbook, from its history store.
#[test]
fn serve_shows_each_playbooks_history_stats() {
    use crate::scrape::{served_url, wait_for};
    let store = Store::new(Kind::Sqlite);
    store.dir.write("limit.yaml", &RECORD.replace("title: record", "title: limit\n        expect: ['size < 95']"));
    for size in [100, 20] {
        run_with_size(&store, "limit.yaml", size);
    }
    store.dir.write("size.txt", "40");
    let serve = crate::util::Background::spawn(store.runbook([
        "serve",
        "limit.yaml",
        "--listen",
        "127.0.0.1:0",
        "--every",
        "1h",
    ]));
    serve.wait_until("the address", |_, err| err.contains("serving on http://"));
    let url = served_url(&serve.stderr());
    wait_for(&url, "its first run", &|s| s.contains_key(r#"runbook_runs_total{playbook="trend"}"#));
    let (status, page) = crate::sim::http("GET", &format!("{url}/playbooks/1/stats"), None);
    let page = page.as_str().unwrap_or_default().to_owned();
    assert_eq!(status, 200, "{page}");
    // Three runs (100 failed; 20 and 40 held): p50 of 20, 40, 100 is 40.
    assert!(
        page.contains("<tr><td>size</td><td>3</td><td>66.7%</td><td>1</td><td>0</td><td>size 40 / 100 (3)</td></tr>"),
        "{page}"
    );
    let (missing, _) = crate::sim::http("GET", &format!("{url}/playbooks/2/stats"), None);
    assert_eq!(missing, 404);
}

/// The first schema, as a store written before bounded look-ups holds it.
fn first_schema(store: &Store) -> String {
    let (id, int) = if store.is_sqlite() {
        ("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER")
    } else {
        ("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "BIGINT")
    };
    format!(
        "CREATE TABLE schema_version (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);
         INSERT INTO schema_version VALUES (1, 0);
         CREATE TABLE runs (id {id}, playbook TEXT NOT NULL, file TEXT NOT NULL, host TEXT NOT NULL,
             operator TEXT, status TEXT NOT NULL, verdict TEXT, started_at {int} NOT NULL, finished_at {int},
             counts TEXT, record TEXT);
         CREATE INDEX runs_by_playbook ON runs (playbook, started_at);
         CREATE TABLE run_values (run_id {int} NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
             playbook TEXT NOT NULL, step_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
             at {int} NOT NULL, PRIMARY KEY (run_id, step_id, name));
         CREATE INDEX run_values_by_step ON run_values (playbook, step_id, at);"
    )
}

fn a_store_of_the_first_schema_is_upgraded_with_its_runs(kind: Kind) {
    let store = Store::new(kind);
    if store.is_sqlite() {
        store.dir.write("h.db", ""); // an empty file is an empty database
    }
    store.execute(&first_schema(&store));
    let now = runbook::history::now_ms();
    for (id, size, verdict) in [(1, 10, "pass"), (2, 30, "fail")] {
        let record = format!(r#"{{"steps":[{{"id":"size","verdict":"{verdict}","captured":{{"size":{size}}}}}]}}"#);
        store.execute(&format!(
            "INSERT INTO runs (playbook, file, host, status, verdict, started_at, finished_at, record) \
             VALUES ('trend', 'r.yaml', 'h', 'complete', '{verdict}', {now} - {id}, {now}, '{record}'); \
             INSERT INTO run_values VALUES ({id}, 'trend', 'size', 'size', '{size}', {now} - {id})"
        ));
    }
    // Opening it applies the second migration: verdicts and numbers are filled in from what was kept.
    let stats = store.runbook(["history", "trend", "--stats", "--format", "json"]).run().json();
    let step = &stats["steps"][0];
    assert_eq!((step["judged"].clone(), step["ok"].clone(), step["fail"].clone()), (2.into(), 1.into(), 1.into()));
    assert_eq!(step["captures"][0]["p95"], 30.0);
    // And the old runs are read by bounded look-ups.
    store
        .dir
        .write("growth.yaml", &RECORD.replace("title: record", "title: g\n        expect: ['size > prev(\"size\")']"));
    let judged = run_with_size(&store, "growth.yaml", 11);
    assert_eq!(judged.step("size")["verdict"], "pass", "11 > 10, the newer of the two: {judged:?}");
}
