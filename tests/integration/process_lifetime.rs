//! A step's processes do not outlive runbook, even when runbook is killed with
//! SIGKILL and cannot clean up (`process::supervisor`).

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::TestDir;

/// The pids whose command line has `marker` as an argument.
fn alive_with(marker: &str) -> Vec<String> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        if cmdline.split(|&b| b == 0).any(|arg| arg == marker.as_bytes()) {
            pids.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    pids
}

/// Waits up to `limit` for `done`; whether it came.
fn wait_for(limit: Duration, done: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    while !done() {
        if started.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

#[test]
fn sigkill_of_runbook_kills_its_step_commands_and_their_children() {
    // `sleep` takes a fraction, so a duration unique to this test run marks its processes.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let direct = format!("1000.{}{nanos}1", std::process::id());
    let forked = format!("1000.{}{nanos}2", std::process::id());
    let dir = TestDir::new();
    dir.write(
        "playbook.yaml",
        &format!(
            "name: lifetime\nsections:\n  - name: s\n    steps:\n      \
             - {{ id: direct, title: t, timeout: 1h, shell: {{ run: \"sleep {direct}\" }} }}\n      \
             - {{ id: forked, title: t, timeout: 1h, shell: {{ run: \"sleep {forked} & wait\" }} }}\n"
        ),
    );
    let mut runbook = dir
        .runbook()
        .args(["run", "playbook.yaml"])
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start runbook");
    let started =
        wait_for(Duration::from_secs(30), || !alive_with(&direct).is_empty() && !alive_with(&forked).is_empty());
    runbook.kill().expect("SIGKILL runbook");
    runbook.wait().expect("reap runbook");
    assert!(started, "the steps' sleeps never started");
    let gone = wait_for(Duration::from_secs(3), || alive_with(&direct).is_empty() && alive_with(&forked).is_empty());
    let left = [alive_with(&direct), alive_with(&forked)].concat();
    for pid in &left {
        let _ = std::process::Command::new("kill").args(["-9", pid]).status();
    }
    assert!(gone, "still alive after runbook was killed: {left:?}");
}
