//! One test per fault: a peer started here misbehaves (accepts and never
//! answers, dribbles its body, ignores SIGTERM and forks, sleeps in the
//! database, blocks in Redis, stalls the TLS handshake, never sends on a
//! WebSocket). Each step must end at its 1s deadline with an `error` naming
//! it, the next step must still run, and the report file must be written.
//! The time bound is generous (a loaded 2-core machine runs these).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{HttpServer, TestDir};

/// The bound on a whole run whose only slow step has a 1s deadline.
const BOUND: Duration = Duration::from_secs(5);

/// A run of a playbook holding `step` (id `faulty`) then a quick step `after`.
pub struct FaultRun {
    pub dir: TestDir,
    pub took: Duration,
    pub code: i32,
    /// The `--out` JSON report, read back from the file.
    pub report: Value,
}

impl FaultRun {
    pub fn step(&self, id: &str) -> &Value {
        let steps = self.report["steps"].as_array().expect("steps");
        steps.iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("no step `{id}` in {}", self.report))
    }

    /// The faulty step ended in an error at its deadline, the run went on, the report was written.
    fn assert_cut_at_deadline(&self) {
        let faulty = self.step("faulty");
        assert_eq!(faulty["verdict"], "error", "{faulty}");
        assert_eq!(faulty["message"], "timed out after 1s", "{faulty}");
        assert_eq!(self.step("after")["verdict"], "pass", "{}", self.report);
        assert_eq!(self.report["status"], "complete");
        assert_eq!(self.code, 1);
        assert!(self.took < BOUND, "the run took {:?}", self.took);
    }
}

pub fn playbook(step: &str) -> String {
    format!(
        "name: faults\nsections:\n  - name: faults\n    steps:\n      - id: faulty\n        title: a peer that misbehaves\n        \
         timeout: 1s\n{step}\n      - id: after\n        title: the run goes on\n        shell: {{ run: \"true\" }}\n        \
         expect: ['exit_code == 0']\n"
    )
}

/// Runs `playbook` with `--out report.json --format json` and `args`, reading the report back.
pub fn run_with(dir: TestDir, playbook: &str, args: &[&str]) -> FaultRun {
    dir.write("playbook.yaml", playbook);
    let started = Instant::now();
    let out = dir.runbook().args(["run", "playbook.yaml", "--format", "json", "--out", "report.json"]).args(args).run();
    let took = started.elapsed();
    let report = read_report(&dir.path().join("report.json"));
    assert!(out.stdout.contains("faults"), "the checklist is shown too: {out:?}");
    FaultRun { dir, took, code: out.code, report }
}

pub fn read_report(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("the report {} was not written: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("the report is not JSON ({e}): {text}"))
}

fn fault(step: &str) -> FaultRun {
    run_with(TestDir::new(), &playbook(step), &[])
}

/// A TCP peer on 127.0.0.1 that accepts connections, holds them open and never sends a byte.
pub fn silent_peer() -> std::net::SocketAddr {
    silent_peer_counting().0
}

/// [`silent_peer`], and how many connections it has accepted so far.
pub fn silent_peer_counting() -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    (addr, accepted)
}

/// An HTTP peer that answers `200` with a chunked body of one byte every 100ms, forever.
fn dribbling_peer() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut request = [0u8; 4096];
                let _ = conn.read(&mut request);
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
                if conn.write_all(head.as_bytes()).is_err() {
                    return;
                }
                while conn.write_all(b"1\r\nx\r\n").is_ok() {
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
    });
    addr
}

#[test]
fn an_http_server_that_never_answers() {
    let addr = silent_peer();
    let run = fault(&format!("        http: {{ url: \"http://{addr}/health\" }}\n        expect: ['status == 200']"));
    run.assert_cut_at_deadline();
}

#[test]
fn an_http_server_that_dribbles_its_body_forever() {
    let addr = dribbling_peer();
    let run = fault(&format!("        http: {{ url: \"http://{addr}/stream\" }}\n        expect: ['status == 200']"));
    run.assert_cut_at_deadline();
}

/// `pid` has exited: gone from /proc, or a zombie waiting for its parent.
fn is_dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

#[test]
fn a_command_that_ignores_sigterm_and_forks_children() {
    let dir = TestDir::new();
    // Every process of the command writes its pid; all ignore SIGTERM.
    dir.write(
        "stubborn.sh",
        "trap '' TERM\necho $$ >> pids\n( trap '' TERM; sleep 60 & echo $! >> pids; wait ) &\necho $! >> pids\n\
         sleep 60 &\necho $! >> pids\nwait\n",
    );
    let run =
        run_with(dir, &playbook("        shell: { run: \"sh stubborn.sh\" }\n        expect: ['exit_code == 0']"), &[]);
    run.assert_cut_at_deadline();
    let pids = std::fs::read_to_string(run.dir.path().join("pids")).expect("the command wrote its pids");
    let pids: Vec<&str> = pids.lines().collect();
    // The shell, the subshell, its sleep and the outer sleep.
    assert_eq!(pids.len(), 4, "{pids:?}");
    let waited = Instant::now();
    while !pids.iter().all(|p| is_dead(p)) {
        assert!(
            waited.elapsed() < BOUND,
            "still running: {:?}",
            pids.iter().filter(|p| !is_dead(p)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_query_that_sleeps_in_postgresql() {
    let run = fault(
        "        sql: { url: \"postgres://postgres@127.0.0.1:5432/postgres\", query: \"select pg_sleep(60)\" }\n        \
         expect: ['rows.size() == 1']",
    );
    run.assert_cut_at_deadline();
}

#[test]
fn a_redis_command_that_blocks() {
    let key = crate::sql::unique("rb_fault_block");
    let run = fault(&format!(
        "        redis: {{ url: \"redis://127.0.0.1:6379\", command: \"BLPOP {key} 0\", write: true }}\n        \
         expect: ['reply != null']"
    ));
    run.assert_cut_at_deadline();
}

#[test]
fn a_tls_handshake_that_stalls() {
    let addr = silent_peer();
    let run = fault(&format!(
        "        tls: {{ host: \"127.0.0.1\", port: {}, server_name: localhost }}\n        expect: ['valid']",
        addr.port()
    ));
    run.assert_cut_at_deadline();
}

#[test]
fn a_websocket_that_never_sends() {
    use axum::extract::ws::{WebSocket, WebSocketUpgrade};
    let silent = axum::routing::get(|upgrade: WebSocketUpgrade| async move {
        upgrade.on_upgrade(|mut socket: WebSocket| async move { while let Some(Ok(_)) = socket.recv().await {} })
    });
    let server = HttpServer::start(axum::Router::new().route("/silent", silent));
    let url = server.url.replace("http://", "ws://");
    let run = fault(&format!(
        "        websocket: {{ url: \"{url}/silent\", expect_message: true }}\n        expect: ['message != null']"
    ));
    // Silence is an observation (`message: null`), judged like any other: a failure, not an error.
    let faulty = run.step("faulty");
    assert_eq!(faulty["verdict"], "fail", "{faulty}");
    assert_eq!(faulty["message"], "message = null → expected message != null", "{faulty}");
    assert_eq!(run.step("after")["verdict"], "pass", "{}", run.report);
    assert!(run.took < BOUND, "the run took {:?}", run.took);
}

#[test]
fn the_run_deadline_stops_unfinished_steps_and_still_writes_the_report() {
    let dir = TestDir::new();
    let history = dir.path().join("history.db");
    let steps = "        shell: { run: \"sleep 60\" }\n        timeout: 60s\n      - id: slow2\n        title: also slow\n        \
                 shell: { run: \"sleep 60\" }\n        timeout: 60s";
    // The faulty step's own 1s is replaced by 60s: only the run deadline can stop these.
    let book = playbook(steps).replacen("        timeout: 1s\n", "", 1);
    let history_arg = history.to_str().expect("utf-8 path").to_owned();
    dir.write("playbook.yaml", &book);
    let started = Instant::now();
    let out = dir
        .runbook()
        .with_history()
        .args(["run", "playbook.yaml", "--format", "json", "--out", "report.json", "--deadline", "1s"])
        .args(["--history", &history_arg])
        .run();
    let took = started.elapsed();
    let report = read_report(&dir.path().join("report.json"));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(took < BOUND, "the run took {took:?}");
    assert_eq!(report["status"], "interrupted", "{report}");
    for id in ["faulty", "slow2"] {
        let step = report["steps"].as_array().unwrap().iter().find(|s| s["id"] == id).cloned().unwrap();
        assert_eq!(step["verdict"], "error", "{step}");
        assert_eq!(step["message"], "not finished: the run deadline passed", "{step}");
    }
    let listed = dir.runbook().with_history().args(["history", "--format", "json", "--history", &history_arg]).run();
    assert_eq!(listed.json()[0]["status"], "interrupted", "{listed:?}");
}
