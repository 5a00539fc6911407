//! `runbook watch`: runs on its schedule, one run at a time, each kept in the
//! history, and stops cleanly on SIGTERM after the run in progress.

use crate::util::{Background, TestDir};

const PLAYBOOK: &str = r#"
name: Watched
sections:
  - name: Checks
    steps:
      - id: counts
        title: Appends a line and counts them
        shell: { run: "echo run >> runs.log; wc -l < runs.log", json: true }
        capture: { lines: "$.json" }
        expect: ["lines > 0"]
"#;

fn runs_printed(stdout: &str) -> usize {
    stdout.matches("Watched").count()
}

#[test]
fn runs_every_interval_until_sigterm_and_keeps_each_run() {
    let dir = TestDir::new();
    dir.write("watched.yaml", PLAYBOOK);
    let history = dir.path().join("history.db");
    let mut watch = Background::spawn(dir.runbook().with_history().args([
        "watch",
        "watched.yaml",
        "--every",
        "1s",
        "--history",
        history.to_str().unwrap(),
    ]));
    watch.wait_until("three runs", |out, _| runs_printed(out) >= 3);
    assert_eq!(watch.terminate(), 0, "a SIGTERM stop is clean:\n{}", watch.stderr());
    let printed = runs_printed(&watch.stdout());
    let stderr = watch.stderr();
    assert!(stderr.contains(&format!("watch: stopped after {printed} runs")), "{stderr}");
    // Every run ran the step once, and none overlapped another (each counted one more line).
    let log = std::fs::read_to_string(dir.path().join("runs.log")).unwrap();
    assert_eq!(log.lines().count(), printed);
    let listed =
        dir.runbook().args(["history", "Watched", "--format", "json", "--history", history.to_str().unwrap()]).run();
    let runs = listed.json();
    assert_eq!(runs.as_array().unwrap().len(), printed, "{}", listed.stdout);
    assert!(runs.as_array().unwrap().iter().all(|r| r["status"] == "complete"), "{}", listed.stdout);
}

#[test]
fn a_run_longer_than_its_interval_is_reported() {
    let dir = TestDir::new();
    dir.write(
        "slow.yaml",
        "name: Slow\nsections:\n  - name: S\n    steps:\n      - id: slow\n        title: Takes 1.5 s\n        \
         shell: { run: \"sleep 1.5\" }\n",
    );
    let mut watch = Background::spawn(dir.runbook().args(["watch", "slow.yaml", "--every", "1s", "--format", "json"]));
    watch.wait_until("an overrun", |_, err| err.contains("longer than --every 1s"));
    assert_eq!(watch.terminate(), 0);
    // One JSON record per line.
    for line in watch.stdout().lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("a JSON record per line");
        assert_eq!(record["playbook"], "Slow");
    }
}

#[test]
fn schedule_arguments_are_checked() {
    let dir = TestDir::new();
    dir.write("watched.yaml", PLAYBOOK);
    for (args, says) in [
        (&["--every", "1h", "--between", "9-5"][..], "--between: `9-5` is not a time window"),
        (&["--every", "1h", "--days", "someday"], "--days: `someday` is not a weekday"),
        (&["--every", "1h", "--tz", "Mars/Olympus"], "--tz: `Mars/Olympus` is not a time zone"),
        (&["--every", "0s"], "--every: the interval must be longer than zero"),
    ] {
        let out = dir.runbook().args(["watch", "watched.yaml"]).args(args).run();
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    assert!(!dir.path().join("runs.log").exists(), "nothing ran");
}

#[test]
fn outside_the_window_nothing_runs_and_the_next_run_is_announced() {
    let dir = TestDir::new();
    dir.write("watched.yaml", PLAYBOOK);
    // A one-minute window twelve hours from now, in UTC: certainly closed now.
    let closed = chrono::Utc::now() + chrono::Duration::hours(12);
    let window = format!("{}-{}", closed.format("%H:%M"), (closed + chrono::Duration::minutes(1)).format("%H:%M"));
    let mut watch = Background::spawn(dir.runbook().args([
        "watch",
        "watched.yaml",
        "--every",
        "1s",
        "--between",
        &window,
        "--tz",
        "UTC",
    ]));
    watch.wait_until("the announcement", |_, err| err.contains("watch: next run at"));
    assert_eq!(watch.terminate(), 0);
    assert!(watch.stderr().contains("stopped after 0 runs"), "{}", watch.stderr());
    assert!(!dir.path().join("runs.log").exists());
}
