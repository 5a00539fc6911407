//! Signals sent to the real binary mid-run: SIGINT exits 130 and SIGTERM 143,
//! the running commands are killed, the partial report is written and the
//! history keeps the run as `interrupted`; a second Ctrl-C exits at once even
//! while the end of the run waits (here on a history store another process
//! has locked).

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::faults::read_report;
use crate::util::{TestDir, exit_within, signal};

/// How long the binary may take to notice a signal on a loaded machine.
const BOUND: Duration = Duration::from_secs(5);

/// A step that writes its pid to `slow.pid` and then sleeps, and a quick one.
const PLAYBOOK: &str = "name: interrupt\nsections:\n  - name: main\n    steps:\n      - id: slow\n        title: slow\n        \
    timeout: 60s\n        shell: { run: \"echo $$ > slow.pid.tmp && mv slow.pid.tmp slow.pid && exec sleep 60\" }\n      \
    - id: quick\n        title: quick\n        shell: { run: \"true\" }\n";

struct Running {
    dir: TestDir,
    history: PathBuf,
    child: Child,
}

fn start() -> Running {
    let dir = TestDir::new();
    dir.write("playbook.yaml", PLAYBOOK);
    let history = dir.path().join("history.db");
    let child = dir
        .runbook()
        .with_history()
        .args(["run", "playbook.yaml", "--format", "json", "--out", "report.json", "--history"])
        .arg_path(&history)
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start runbook");
    let running = Running { dir, history, child };
    wait_for(&running.dir.path().join("slow.pid"));
    running
}

fn wait_for(path: &Path) {
    let waited = Instant::now();
    while !path.exists() {
        assert!(waited.elapsed() < Duration::from_secs(60), "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn is_dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

fn interrupted_by(name: &str, code: i32, reason: &str) {
    let mut run = start();
    signal(&run.child, name);
    assert_eq!(exit_within(&mut run.child, BOUND), code);
    let report = read_report(&run.dir.path().join("report.json"));
    assert_eq!(report["status"], "interrupted", "{report}");
    let slow = report["steps"].as_array().unwrap().iter().find(|s| s["id"] == "slow").cloned().unwrap();
    assert_eq!((&slow["verdict"], &slow["message"]), (&"error".into(), &format!("not finished: {reason}").into()));
    let pid = std::fs::read_to_string(run.dir.path().join("slow.pid")).unwrap();
    let waited = Instant::now();
    while !is_dead(pid.trim()) {
        assert!(waited.elapsed() < BOUND, "the step's command {pid} still runs");
        std::thread::sleep(Duration::from_millis(20));
    }
    let listed = run.dir.runbook().with_history().args(["history", "--format", "json", "--history"]);
    let listed = listed.arg_path(&run.history).run();
    assert_eq!(listed.json()[0]["status"], "interrupted", "{listed:?}");
}

#[test]
fn sigint_writes_the_partial_report_and_history_and_exits_130() {
    interrupted_by("-INT", 130, "interrupted (Ctrl-C)");
}

#[test]
fn sigterm_writes_the_partial_report_and_history_and_exits_143() {
    interrupted_by("-TERM", 143, "terminated (SIGTERM)");
}

#[test]
fn a_second_ctrl_c_exits_at_once_while_the_history_store_is_locked() {
    let mut run = start();
    // Another writer holds the store: the run's final write waits for it (up to 30s).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let url = format!("sqlite://{}", run.history.display());
    let _lock = runtime.block_on(async {
        let mut conn = sqlx::SqliteConnection::connect(&url).await.expect("open the history");
        sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await.expect("lock the history");
        conn
    });
    signal(&run.child, "-INT");
    std::thread::sleep(Duration::from_secs(1));
    assert!(run.child.try_wait().expect("wait").is_none(), "the run should be waiting for the locked store");
    signal(&run.child, "-INT");
    assert_eq!(exit_within(&mut run.child, BOUND), 130);
}

#[test]
fn ctrl_c_while_the_history_store_does_not_answer_stops_the_run_at_once() {
    let (addr, accepted) = crate::faults::silent_peer_counting();
    let dir = TestDir::new();
    dir.write("playbook.yaml", PLAYBOOK);
    let mut child = dir
        .runbook()
        .with_history()
        .args(["run", "playbook.yaml", "--format", "json", "--out", "report.json", "--history"])
        .args([format!("postgres://runbook@{addr}/history")])
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start runbook");
    let waited = Instant::now();
    while accepted.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(waited.elapsed() < Duration::from_secs(60), "runbook never opened the history");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, "-INT");
    assert_eq!(exit_within(&mut child, BOUND), 130);
    let report = read_report(&dir.path().join("report.json"));
    assert_eq!(report["status"], "interrupted", "{report}");
    assert!(!dir.path().join("slow.pid").exists(), "no step starts after the signal");
}
