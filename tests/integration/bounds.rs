//! Huge inputs are refused with a clear error and memory stays bounded: a
//! 50 MB playbook (refused by size before parsing; `--max-playbook-size` or
//! `RUNBOOK_MAX_PLAYBOOK_SIZE` sets the limit), an endless HTTP body
//! (`max_body`), a command printing forever (`max_output`). Peak memory is
//! read from `/usr/bin/time -v` with a generous bound.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::faults::{playbook, read_report};
use crate::util::{TestDir, peak_rss_kib};

/// Far above what a capped run needs, far below the endless input.
const PEAK_RSS_BOUND_KB: u64 = 300 * 1024;

/// Runs `runbook run playbook.yaml --format json --out report.json` under
/// `/usr/bin/time -v`; the exit code, stderr and the peak RSS in kB.
fn run_measured(dir: &TestDir) -> (i32, String, u64) {
    let output = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_runbook"))
        .args(["run", "playbook.yaml", "--format", "json", "--out", "report.json"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("RUNBOOK_NO_HISTORY", "1")
        .output()
        .expect("run runbook under /usr/bin/time");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let peak = peak_rss_kib(&stderr);
    (output.status.code().unwrap_or(-1), stderr, peak)
}

/// An HTTP peer that answers `200` with an endless chunked body, 64 KiB at a time.
fn endless_body_peer() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut request = [0u8; 4096];
                let _ = conn.read(&mut request);
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
                let chunk =
                    [format!("{:x}\r\n", 64 * 1024).into_bytes(), vec![b'x'; 64 * 1024], b"\r\n".to_vec()].concat();
                if conn.write_all(head.as_bytes()).is_err() {
                    return;
                }
                while conn.write_all(&chunk).is_ok() {}
            });
        }
    });
    addr
}

#[test]
fn a_50_mb_playbook_is_refused_by_its_size_before_parsing() {
    let dir = TestDir::new();
    let mut text = String::from("name: huge\nsections:\n  - name: s\n    steps:\n");
    let step = "      - { id: s, title: t, shell: { run: \"true\" } }\n";
    text.push_str(&step.repeat(50 * 1024 * 1024 / step.len()));
    dir.write("playbook.yaml", &text);
    let started = Instant::now();
    for command in ["run", "validate"] {
        let out = dir.runbook().args([command, "playbook.yaml"]).run();
        assert_eq!(out.code, 2, "{command}: {out:?}");
        assert!(
            out.stderr.contains("playbook.yaml: the playbook is")
                && out.stderr.contains(
                    "the limit is 4194304 bytes (raise it with `--max-playbook-size` or `RUNBOOK_MAX_PLAYBOOK_SIZE`"
                ),
            "{command}: {}",
            out.stderr
        );
    }
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
}

#[test]
fn the_playbook_size_limit_is_set_by_flag_or_environment() {
    let dir = TestDir::new();
    let mut text = String::from("name: padded\nsections:\n  - name: s\n    steps:\n");
    text.push_str("      - { id: s, title: t, shell: { run: \"true\" } }\n");
    text.push_str(&"# padding\n".repeat(300));
    let size = dir.write("playbook.yaml", &text).metadata().expect("playbook size").len();
    assert!(size > 2048 && size < 8192, "{size}");
    let refused = format!(
        "error: playbook.yaml: the playbook is {size} bytes; the limit is 2048 bytes \
         (raise it with `--max-playbook-size` or `RUNBOOK_MAX_PLAYBOOK_SIZE`, e.g. `16MB`)"
    );
    let by_env = dir.runbook().args(["validate", "playbook.yaml"]).env("RUNBOOK_MAX_PLAYBOOK_SIZE", "2KB").run();
    assert_eq!(by_env.code, 2, "{by_env:?}");
    assert!(by_env.stderr.starts_with(&refused), "{}", by_env.stderr);
    let by_flag = dir.runbook().args(["--max-playbook-size", "2KB", "run", "playbook.yaml"]).run();
    assert_eq!(by_flag.code, 2, "{by_flag:?}");
    assert!(by_flag.stderr.starts_with(&refused), "{}", by_flag.stderr);
    // The flag wins over the environment, and goes after the command too.
    let raised = dir
        .runbook()
        .args(["validate", "playbook.yaml", "--max-playbook-size", "8KB"])
        .env("RUNBOOK_MAX_PLAYBOOK_SIZE", "2KB")
        .run();
    assert_eq!((raised.code, raised.stdout.as_str()), (0, "1 playbook valid\n"), "{raised:?}");
    let nonsense = dir.runbook().args(["validate", "playbook.yaml", "--max-playbook-size", "lots"]).run();
    assert_eq!(nonsense.code, 2, "{nonsense:?}");
    assert!(nonsense.stderr.contains("`lots` is not a size"), "{}", nonsense.stderr);
}

#[test]
fn an_endless_http_body_stops_at_max_body_with_memory_bounded() {
    let addr = endless_body_peer();
    let dir = TestDir::new();
    let steps = format!(
        "        timeout: 60s\n        http: {{ url: \"http://{addr}/huge\" }}\n        expect: ['status == 200']\n      \
         - id: small_cap\n        title: a smaller cap\n        timeout: 60s\n        \
         http: {{ url: \"http://{addr}/huge\", max_body: 1MB }}"
    );
    dir.write("playbook.yaml", &playbook(&steps).replacen("        timeout: 1s\n", "", 1));
    let (code, stderr, peak_kb) = run_measured(&dir);
    assert_eq!(code, 1, "{stderr}");
    let report = read_report(&dir.path().join("report.json"));
    let step = |id: &str| report["steps"].as_array().unwrap().iter().find(|s| s["id"] == id).cloned().unwrap();
    let faulty = step("faulty");
    assert_eq!(faulty["verdict"], "error", "{faulty}");
    assert_eq!(faulty["message"], "response body is larger than 10485760 bytes (raise `max_body` to read it)");
    assert_eq!(
        step("small_cap")["message"],
        "response body is larger than 1048576 bytes (raise `max_body` to read it)"
    );
    assert!(peak_kb < PEAK_RSS_BOUND_KB, "peak RSS {peak_kb} kB");
}

#[test]
fn a_command_printing_forever_stops_at_max_output_with_memory_bounded() {
    let dir = TestDir::new();
    let steps = "        timeout: 60s\n        shell: { run: \"yes\" }\n        expect: ['exit_code == 0']\n      \
                 - id: small_cap\n        title: a smaller cap\n        timeout: 60s\n        \
                 shell: { run: \"yes runbook >&2\", max_output: 64KB }";
    dir.write("playbook.yaml", &playbook(steps).replacen("        timeout: 1s\n", "", 1));
    let started = Instant::now();
    let (code, stderr, peak_kb) = run_measured(&dir);
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    assert_eq!(code, 1, "{stderr}");
    let report = read_report(&dir.path().join("report.json"));
    let step = |id: &str| report["steps"].as_array().unwrap().iter().find(|s| s["id"] == id).cloned().unwrap();
    let faulty = step("faulty");
    assert_eq!(faulty["verdict"], "error", "{faulty}");
    assert_eq!(faulty["message"], "stdout is longer than 1048576 bytes (raise `max_output` to keep more)");
    assert_eq!(step("small_cap")["message"], "stderr is longer than 65536 bytes (raise `max_output` to keep more)");
    assert!(peak_kb < PEAK_RSS_BOUND_KB, "peak RSS {peak_kb} kB");
}
