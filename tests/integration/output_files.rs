//! The files a run leaves: `--out`, `--report` (and its signature) and
//! `--junit` replace the previous file whole or not at all, so a run killed
//! mid-way keeps yesterday's report; the journal line says whether the run
//! finished (`status=complete`) or was stopped (`status=interrupted`).

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::util::TestDir;

/// A step that writes its pid to `slow.pid` and then sleeps.
const SLOW: &str = "name: slow\nsections:\n  - name: main\n    steps:\n      - id: slow\n        title: slow\n        \
    timeout: 60s\n        shell: { run: \"echo $$ > slow.pid.tmp && mv slow.pid.tmp slow.pid && exec sleep 60\" }\n";

const QUICK: &str = "name: quick\nsections:\n  - name: main\n    steps:\n      - id: quick\n        title: quick\n        \
    shell: { run: \"true\" }\n";

const FILES: [&str; 4] = ["run.json", "report.html", "report.html.minisig", "junit.xml"];
const ARGS: [&str; 10] =
    ["--format", "json", "--out", "run.json", "--report", "report.html", "--sign", "key", "--junit", "junit.xml"];

/// Starts `runbook run slow.yaml ARGS` and waits until its step is running.
fn start_slow(dir: &TestDir, extra: &[&str]) -> (Child, String) {
    let child = dir
        .runbook()
        .args(["run", "slow.yaml", "--operator", "ops"])
        .args(extra)
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start runbook");
    let pid_file = dir.path().join("slow.pid");
    let waited = Instant::now();
    while !pid_file.exists() {
        assert!(waited.elapsed() < Duration::from_secs(60), "the slow step never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = std::fs::read_to_string(&pid_file).expect("read slow.pid").trim().to_owned();
    (child, pid)
}

/// `kill -s SIGNAL -- PID`: procps-ng 4.0.2's `kill -SIGNAL -PGID` reads `-16810` as `-1`
/// and signals every process on the machine; `-s` and `--` are read right.
fn kill(signal: &str, pid: &str) {
    assert!(pid.trim_start_matches('-').parse::<u32>().is_ok_and(|p| p > 1), "not a pid to signal: {pid}");
    let _ = std::process::Command::new("kill").args(["-s", signal, "--", pid]).status();
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn a_run_killed_mid_way_keeps_the_previous_files_and_a_finished_run_replaces_them_whole() {
    let dir = TestDir::new();
    dir.write("slow.yaml", SLOW);
    dir.write("quick.yaml", QUICK);
    assert_eq!(dir.runbook().args(["keygen", "--out", "key"]).run().code, 0);
    for name in FILES {
        dir.write(name, &format!("yesterday's {name}\n"));
    }
    let (mut child, sleeper) = start_slow(&dir, &ARGS);
    child.kill().expect("SIGKILL runbook");
    child.wait().expect("reap runbook");
    // Killed with SIGKILL, runbook could not kill its step's process group: do it here.
    kill("KILL", &format!("-{sleeper}"));
    for name in FILES {
        assert_eq!(read(dir.path(), name), format!("yesterday's {name}\n"), "{name} was touched by the killed run");
    }

    let out = dir.runbook().args(["run", "quick.yaml", "--operator", "ops"]).args(ARGS).run();
    assert_eq!(out.code, 0, "{out:?}");
    let record: serde_json::Value = serde_json::from_str(&read(dir.path(), "run.json")).expect("run.json is JSON");
    assert_eq!(record["playbook"], "quick");
    assert!(read(dir.path(), "report.html").contains("quick"));
    assert!(read(dir.path(), "report.html.minisig").starts_with("untrusted comment:"));
    assert!(read(dir.path(), "junit.xml").contains("<testsuites"));
    let verified = dir.runbook().args(["verify", "report.html", "--pubkey", "key.pub"]).run();
    assert_eq!(verified.code, 0, "the new signature is for the new report: {verified:?}");
    // The temporary files were renamed into place; the killed run's own are the only strays.
    let strays: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") && !n.contains(&child.id().to_string()))
        .collect();
    assert!(strays.is_empty(), "{strays:?}");
}

#[test]
fn the_journal_says_whether_the_run_finished_or_was_interrupted() {
    let dir = TestDir::new();
    dir.write("slow.yaml", SLOW);
    dir.write("quick.yaml", QUICK);
    let done = dir.runbook().args(["run", "quick.yaml", "--journal", "ops.log"]).run();
    assert_eq!(done.code, 0, "{done:?}");
    let (mut child, _) = start_slow(&dir, &["--journal", "ops.log"]);
    kill("INT", &child.id().to_string());
    let waited = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(waited.elapsed() < Duration::from_secs(30), "runbook did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    let journal = read(dir.path(), "ops.log");
    let lines: Vec<&str> = journal.lines().collect();
    assert_eq!(lines.len(), 2, "{journal}");
    assert!(lines[0].contains(" status=complete ") && lines[0].contains("playbook=quick"), "{journal}");
    assert!(lines[1].contains(" status=interrupted ") && lines[1].contains("playbook=slow"), "{journal}");
}
