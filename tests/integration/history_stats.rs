//! `runbook history PLAYBOOK --stats` from rollups: exact counts, percentiles
//! within 0.5% of the exact nearest rank, every finished run counted once
//! (whatever order runs finish in), a window of whole UTC days, and stats that
//! outlive pruning; each against SQLite and the machine's PostgreSQL.

use serde_json::Value;

use crate::history::store::{Kind, Store, on_both_stores};
use crate::history::{RECORD, count, run_with_size};

on_both_stores!(
    stats_agree_with_exact_counts_and_nearest_rank_percentiles,
    a_run_finished_after_a_stats_call_is_counted_once,
    the_window_starts_at_a_utc_midnight,
    pruned_runs_stay_counted,
);

const DAY_MS: i64 = 86_400_000;

/// Creates the schema (a run of another playbook).
fn schema(store: &Store) {
    store.dir.write("other.yaml", &RECORD.replace("name: trend", "name: other"));
    assert_eq!(run_with_size(store, "other.yaml", 1).code, 0);
}

/// Inserts a run of `gen` begun at `at`, not finished; returns its id.
fn begin(store: &Store, at: i64) -> i64 {
    store.execute(&format!(
        "INSERT INTO runs (playbook, file, host, status, started_at) VALUES ('gen', 'gen.yaml', 'h', 'incomplete', {at})"
    ));
    count(store, "SELECT MAX(id) FROM runs")
}

/// Finishes run `id` (begun at `at`) as a run does: its verdicts and values, then `complete`.
fn finish(store: &Store, id: i64, at: i64, steps: &[(&str, &str, Option<f64>)]) {
    let mut sql = String::new();
    for (step, verdict, value) in steps {
        sql += &format!("INSERT INTO run_steps VALUES ({id}, 'gen', '{step}', '{verdict}', {at});");
        if let Some(v) = value {
            sql += &format!(
                "INSERT INTO run_values (run_id, playbook, step_id, name, value, num, at) \
                 VALUES ({id}, 'gen', '{step}', 'x', '{v}', {v}, {at});"
            );
        }
    }
    sql += &format!("UPDATE runs SET status = 'complete', finished_at = {at} + 1000 WHERE id = {id}");
    store.execute(&sql);
}

fn stats(store: &Store, window: &str) -> Value {
    let out = store.runbook(["history", "gen", "--stats", "--window", window, "--format", "json"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    out.json()
}

/// The step `id` of a stats answer.
fn step<'a>(stats: &'a Value, id: &str) -> &'a Value {
    stats["steps"].as_array().unwrap().iter().find(|s| s["step"] == id).unwrap_or(&Value::Null)
}

fn nearest_rank(values: &[f64], p: u64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[usize::try_from((p * sorted.len() as u64).div_ceil(100).max(1)).unwrap() - 1]
}

fn assert_close(got: &Value, want: f64) {
    let got = got.as_f64().unwrap_or(f64::NAN);
    assert!((got - want).abs() <= want.abs() * 0.005 + 1e-12, "{got} is not within 0.5% of {want}");
}

fn stats_agree_with_exact_counts_and_nearest_rank_percentiles(kind: Kind) {
    let store = Store::new(kind);
    schema(&store);
    let now = runbook::history::now_ms();
    // 300 runs over 20 days (across a month boundary at some point of the year or not),
    // values spread over five orders of magnitude, negatives and zeros.
    let (mut values, mut judged, mut ok, mut fail, mut error) = (Vec::new(), 0, 0, 0, 0);
    for i in 0..300_i64 {
        let at = now - 1000 - i * (20 * DAY_MS / 300);
        let v = match i % 10 {
            0 => 0.0,
            1 => -((i * 7 % 13) as f64) * 1.25,
            _ => ((i * 37 % 101) as f64 + 0.5) * 10f64.powi((i % 5) as i32 - 2),
        };
        let verdict = ["pass", "warn", "fail", "error", "skip", "waived"][(i as usize * 7) % 6];
        judged += i64::from(verdict != "skip");
        ok += i64::from(matches!(verdict, "pass" | "warn"));
        fail += i64::from(verdict == "fail");
        error += i64::from(verdict == "error");
        values.push(v);
        let id = begin(&store, at);
        finish(&store, id, at, &[("a", verdict, Some(v)), ("b", "pass", None)]);
    }
    let all = stats(&store, "30d");
    let a = step(&all, "a");
    assert_eq!(
        (a["judged"].as_i64(), a["ok"].as_i64(), a["fail"].as_i64(), a["error"].as_i64()),
        (Some(judged), Some(ok), Some(fail), Some(error)),
        "{all}"
    );
    assert_eq!(step(&all, "b")["judged"], 300);
    assert_eq!(step(&all, "b")["captures"], Value::Array(Vec::new()));
    let x = &a["captures"][0];
    assert_eq!((x["name"].as_str(), x["count"].as_i64()), (Some("x"), Some(300)));
    assert_close(&x["p50"], nearest_rank(&values, 50));
    assert_close(&x["p95"], nearest_rank(&values, 95));
    // Asking again reads the same rollups: the same answer.
    assert_eq!(stats(&store, "30d"), all);
    // The 7-day window: the runs since the UTC midnight on or before 7 days ago.
    let since = runbook::history::window_start(now - 7 * DAY_MS);
    let week: Vec<f64> =
        (0..300_i64).filter(|i| now - 1000 - i * (20 * DAY_MS / 300) >= since).map(|i| values[i as usize]).collect();
    let recent = stats(&store, "7d");
    let x = &step(&recent, "a")["captures"][0];
    assert_eq!(x["count"].as_i64(), Some(week.len() as i64));
    assert_close(&x["p50"], nearest_rank(&week, 50));
    assert_close(&x["p95"], nearest_rank(&week, 95));
    // Rollups only: the raw rows are never read by the answer (every run is marked counted).
    assert_eq!(count(&store, "SELECT COUNT(*) FROM runs WHERE playbook = 'gen' AND rolled_up IS NULL"), 0);
}

fn a_run_finished_after_a_stats_call_is_counted_once(kind: Kind) {
    let store = Store::new(kind);
    schema(&store);
    let now = runbook::history::now_ms();
    // Two runs start together; the first (lower id) is still running at the first --stats.
    let slow = begin(&store, now - 60_000);
    let fast = begin(&store, now - 50_000);
    assert!(slow < fast);
    finish(&store, fast, now - 50_000, &[("a", "pass", Some(10.0))]);
    assert_eq!(step(&stats(&store, "7d"), "a")["judged"], 1, "an unfinished run is not counted");
    finish(&store, slow, now - 60_000, &[("a", "fail", Some(30.0))]);
    let after = stats(&store, "7d");
    let a = step(&after, "a");
    assert_eq!((a["judged"].clone(), a["ok"].clone(), a["fail"].clone()), (2.into(), 1.into(), 1.into()), "{after}");
    assert_eq!(a["captures"][0]["count"], 2);
    assert_close(&a["captures"][0]["p95"], 30.0);
    // Asked again, and after a later run: each run once.
    assert_eq!(stats(&store, "7d"), after);
    let later = begin(&store, now - 1000);
    finish(&store, later, now - 1000, &[("a", "pass", Some(20.0))]);
    let a = step(&stats(&store, "7d"), "a").clone();
    assert_eq!((a["judged"].clone(), a["captures"][0]["count"].clone()), (3.into(), 3.into()));
    assert_close(&a["captures"][0]["p50"], 20.0);
    // Two readers at once count each run once too.
    for i in 0..20 {
        let id = begin(&store, now - 2000 - i);
        finish(&store, id, now - 2000 - i, &[("a", "pass", Some(5.0))]);
    }
    let readers: Vec<_> = (0..3)
        .map(|_| {
            store
                .runbook(["history", "gen", "--stats", "--format", "json"])
                .command()
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut reader in readers {
        assert!(reader.wait().unwrap().success());
    }
    assert_eq!(step(&stats(&store, "7d"), "a")["judged"], 23);
}

fn the_window_starts_at_a_utc_midnight(kind: Kind) {
    let store = Store::new(kind);
    schema(&store);
    let now = runbook::history::now_ms();
    let midnight = runbook::history::window_start(now - 7 * DAY_MS);
    // A minute after the window's first midnight is in; a minute before it is out.
    for (at, v) in [(midnight + 60_000, 1.0), (midnight - 60_000, 2.0), (midnight - 40 * DAY_MS, 3.0)] {
        let id = begin(&store, at);
        finish(&store, id, at, &[("a", "pass", Some(v))]);
    }
    let week = stats(&store, "7d");
    assert_eq!(week["since"], runbook::history::rfc3339(midnight), "{week}");
    let x = &step(&week, "a")["captures"][0];
    assert_eq!(x["count"], 1, "{week}");
    assert_close(&x["p50"], 1.0);
    // 60 days: whole months and the days before them; every run, once.
    assert_eq!(step(&stats(&store, "60d"), "a")["judged"], 3);
    let text = store.runbook(["history", "gen", "--stats"]).run();
    let day = chrono::DateTime::from_timestamp_millis(midnight).unwrap().format("%Y-%m-%d");
    assert!(text.stdout.starts_with(&format!("`gen` since {day} 00:00 UTC")), "{}", text.stdout);
    assert!(text.stdout.contains("x 1 / 1 (1)"), "{}", text.stdout);
}

fn pruned_runs_stay_counted(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("limit.yaml", &RECORD.replace("title: record", "title: limit\n        expect: ['size < 55']"));
    for size in (1..=6).map(|n| n * 10) {
        run_with_size(&store, "limit.yaml", size);
    }
    let before = store.runbook(["history", "trend", "--stats", "--format", "json"]).run().json();
    for size in [70, 80] {
        run_with_size(&store, "limit.yaml", size);
    }
    // A dry run counts nothing for good (its transaction is rolled back).
    let dry = store.runbook(["history", "prune", "--keep-runs", "1", "--dry-run"]).run();
    assert_eq!(dry.stdout, "would prune `trend`: 7 runs, 7 values\n", "{dry:?}");
    // Runs 1..6 were counted by --stats, 7 and 8 not yet: pruning counts those it removes first.
    let pruned = store.runbook(["history", "prune", "trend", "--keep-runs", "1"]).run();
    assert_eq!(pruned.stdout, "pruned `trend`: 7 runs, 7 values\n", "{pruned:?}");
    assert!(pruned.stderr.contains("still counts the removed runs"), "{pruned:?}");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM runs"), 1);
    let after = store.runbook(["history", "trend", "--stats", "--format", "json"]).run().json();
    let step = &after["steps"][0];
    assert_eq!(before["steps"][0]["judged"], 6);
    assert_eq!((step["judged"].clone(), step["ok"].clone(), step["fail"].clone()), (8.into(), 5.into(), 3.into()));
    // Nearest rank of 10..80: p50 the 4th (40), p95 the 8th (80).
    assert_close(&step["captures"][0]["p50"], 40.0);
    assert_close(&step["captures"][0]["p95"], 80.0);
    // Later runs add to what was kept.
    run_with_size(&store, "limit.yaml", 10);
    let more = store.runbook(["history", "trend", "--stats", "--format", "json"]).run().json();
    assert_eq!(
        (more["steps"][0]["judged"].clone(), more["steps"][0]["captures"][0]["count"].clone()),
        (9.into(), 9.into())
    );
}
