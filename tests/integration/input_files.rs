//! Files the user names are held to their size limit by the bytes actually
//! read, not by what the file system says: a 50 MB playbook through a pipe,
//! `/dev/zero`, a FIFO nobody writes to. Peak memory is read from
//! `/usr/bin/time -v`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{TestDir, peak_rss_kib};

/// Far above a refused read (the binary itself takes about 25 MB, the playbook
/// limit is 4 MB) and far below the 50 MB input read whole and parsed.
const PEAK_RSS_BOUND_KB: u64 = 64 * 1024;

const REFUSED: &str = "the playbook is more than 4194304 bytes; the limit is 4194304 bytes \
                       (raise it with `--max-playbook-size` or `RUNBOOK_MAX_PLAYBOOK_SIZE`, e.g. `16MB`)";

/// Runs `script` under `bash -c` (with `$RUNBOOK` the binary) under `/usr/bin/time -v`
/// in `dir`; the exit code, stderr and peak RSS in kB. The script `exec`s the binary,
/// so the peak is the binary's.
fn bash_measured(dir: &TestDir, script: &str) -> (i32, String, u64) {
    let output = Command::new("/usr/bin/time")
        .args(["-v", "bash", "-c", script])
        .current_dir(dir.path())
        .env("RUNBOOK", env!("CARGO_BIN_EXE_runbook"))
        .env("NO_COLOR", "1")
        .env("RUNBOOK_NO_HISTORY", "1")
        .env_remove("RUNBOOK_MAX_PLAYBOOK_SIZE")
        .output()
        .expect("run bash under /usr/bin/time");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let peak = peak_rss_kib(&stderr);
    (output.status.code().unwrap_or(-1), stderr, peak)
}

#[test]
fn a_50_mb_playbook_through_a_pipe_is_refused_by_the_bytes_read_with_memory_bounded() {
    let dir = TestDir::new();
    let mut text = String::from("name: huge\nsections:\n  - name: s\n    steps:\n");
    let step = "      - { id: s, title: t, shell: { run: \"true\" } }\n";
    text.push_str(&step.repeat(50 * 1024 * 1024 / step.len()));
    dir.write("big.yaml", &text);
    // A pipe has no size to check first: the limit must hold on what is read.
    for command in ["validate", "run"] {
        let (code, stderr, peak_kb) = bash_measured(&dir, &format!("exec \"$RUNBOOK\" {command} <(cat big.yaml)"));
        assert_eq!(code, 2, "{command}: {stderr}");
        assert!(stderr.contains(&format!("error: /dev/fd/63: {REFUSED}")), "{command}: {stderr}");
        assert!(peak_kb < PEAK_RSS_BOUND_KB, "{command}: peak RSS {peak_kb} kB");
    }
}

#[test]
fn dev_zero_as_a_playbook_is_refused_with_memory_bounded() {
    let dir = TestDir::new();
    let (code, stderr, peak_kb) = bash_measured(&dir, "exec \"$RUNBOOK\" run /dev/zero");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(&format!("error: /dev/zero: {REFUSED}")), "{stderr}");
    assert!(peak_kb < PEAK_RSS_BOUND_KB, "peak RSS {peak_kb} kB");
}

#[test]
fn files_beside_the_playbook_are_held_to_a_limit_too() {
    let dir = TestDir::new();
    dir.write(
        "playbook.yaml",
        "name: p\nsecrets:\n  token: { file: /dev/zero }\nsections:\n  - name: s\n    steps:\n      \
         - { id: s, title: t, shell: { run: \"true\" } }\n",
    );
    let secret = dir.runbook().args(["run", "playbook.yaml"]).run();
    assert_eq!(secret.code, 2, "{secret:?}");
    assert!(
        secret.stderr.contains(
            "secret `token`: cannot read `/dev/zero`: it is more than 1048576 bytes; the limit is 1048576 bytes"
        ),
        "{}",
        secret.stderr
    );
    dir.write(
        "playbook.yaml",
        "name: p\nsections:\n  - name: s\n    steps:\n      - { id: s, title: t, shell: { run: \"true\" } }\n",
    );
    let notify = dir.runbook().args(["run", "playbook.yaml", "--notify", "/dev/zero"]).run();
    assert_eq!(notify.code, 2, "{notify:?}");
    assert!(
        notify.stderr.contains(
            "--notify: cannot read `/dev/zero`: it is more than 4194304 bytes; the limit is 4194304 bytes \
             (raise it with `--max-playbook-size`"
        ),
        "{}",
        notify.stderr
    );
    let answers = dir.runbook().args(["run", "playbook.yaml", "--answers", "/dev/zero"]).run();
    assert_eq!(answers.code, 2, "{answers:?}");
    assert!(
        answers.stderr.contains("cannot read `/dev/zero`: it is more than 1048576 bytes; the limit is 1048576 bytes"),
        "{}",
        answers.stderr
    );
}

/// Makes a FIFO named `name` in `dir`.
fn fifo(dir: &TestDir, name: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    let made = Command::new("mkfifo").arg(&path).status().expect("run mkfifo");
    assert!(made.success());
    path
}

#[test]
fn a_fifo_nobody_writes_to_is_an_error_after_the_read_timeout() {
    let dir = TestDir::new();
    fifo(&dir, "fifo.yaml");
    let mut child = dir
        .runbook()
        .args(["validate", "fifo.yaml"])
        .command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start runbook");
    // The read timeout is 10 s (`input::READ_TIMEOUT`); a hang would block this test, so it is
    // killed after 40 s and then fails on the exit code.
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() && started.elapsed() < Duration::from_secs(40) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let output = child.wait_with_output().expect("collect output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "error: fifo.yaml: cannot read the playbook: it did not end within 10s (a pipe or FIFO nobody writes to?)"
        ),
        "{stderr}"
    );
}

#[test]
fn a_fifo_whose_writer_comes_later_is_read_whole() {
    let dir = TestDir::new();
    let path = fifo(&dir, "fifo.yaml");
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        std::fs::write(
            path,
            "name: p\nsections:\n  - name: s\n    steps:\n      - { id: s, title: t, shell: { run: \"true\" } }\n",
        )
        .expect("write the FIFO");
    });
    let out = dir.runbook().args(["validate", "fifo.yaml"]).run();
    writer.join().expect("writer");
    assert_eq!((out.code, out.stdout.as_str()), (0, "1 playbook valid\n"), "{out:?}");
}
