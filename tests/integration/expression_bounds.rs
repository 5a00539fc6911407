//! Hostile expressions against the real binary: one too large to parse safely
//! is a located error before anything runs (it used to overflow the stack,
//! exit 134), and one that loops for minutes (a nested `map` over a captured
//! list) honours the step timeout, `--deadline`, Ctrl-C and SIGTERM, and
//! leaves `serve` answering `/healthz` while it runs.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::faults::{read_report, run_with};
use crate::sim::http;
use crate::util::{TestDir, exit_within, signal};

/// How long the binary may take to stop on a loaded 2-core machine.
const BOUND: Duration = Duration::from_secs(10);

/// A step whose command prints a list of 1,000 numbers (after writing `judging`, so a test
/// knows the expression is about to run) and whose `expect` would take hours: a million
/// rounds, each comparing two 1,000-item lists.
fn heavy(timeout: &str) -> String {
    format!(
        "name: faults\nsections:\n  - name: main\n    steps:\n      - id: faulty\n        title: a runaway expression\n        \
         timeout: {timeout}\n        shell: {{ run: \"touch judging; seq -s, 0 999 | sed 's/.*/[&]/'\", json: true }}\n        \
         expect: ['json.map(a, json.map(b, json == json)).size() > 0']\n      - id: after\n        title: the run goes on\n        \
         shell: {{ run: \"true\" }}\n        expect: ['exit_code == 0']\n"
    )
}

#[test]
fn an_expect_of_4500_terms_is_a_located_error_from_validate_and_run_exits_2() {
    let dir = TestDir::new();
    let sum = vec!["1"; 4500].join("+");
    let step = "sections:\n  - name: main\n    steps:\n      - id: sum\n        title: sum\n        shell: { run: \"true\" }\n";
    dir.write("playbook.yaml", &format!("name: big\n{step}        expect: ['{sum} > 0']\n"));
    let validated = dir.runbook().args(["validate", "playbook.yaml"]).run();
    assert_eq!(validated.code, 2, "{}", validated.stderr);
    // The 501st `+` is the expression's byte 1001; the expression starts at column 19.
    assert!(validated.stderr.starts_with("error: playbook.yaml:8:1020: "), "{}", validated.stderr);
    assert!(validated.stderr.contains("more than 500 operators"), "{}", validated.stderr);
    let ran = dir.runbook().args(["run", "playbook.yaml"]).run();
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("more than 500 operators"), "{}", ran.stderr);
}

#[test]
fn a_runaway_expect_is_cut_off_at_the_step_timeout_and_the_run_goes_on() {
    let run = run_with(TestDir::new(), &heavy("1s"), &[]);
    let faulty = run.step("faulty");
    assert_eq!(faulty["verdict"], "error", "{faulty}");
    let message = faulty["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("timed out after 1s judging `json.map("), "{faulty}");
    assert_eq!(run.step("after")["verdict"], "pass", "{}", run.report);
    assert_eq!((run.code, run.report["status"].as_str()), (1, Some("complete")));
    assert!(run.took < BOUND, "the run took {:?}", run.took);
}

#[test]
fn the_run_deadline_stops_a_runaway_expect() {
    let run = run_with(TestDir::new(), &heavy("10m"), &["--deadline", "1s"]);
    let faulty = run.step("faulty");
    assert_eq!(faulty["verdict"], "error", "{faulty}");
    assert_eq!(faulty["message"], "not finished: the run deadline passed", "{faulty}");
    assert_eq!((run.code, run.report["status"].as_str()), (1, Some("interrupted")));
    assert!(run.took < BOUND, "the run took {:?}", run.took);
}

/// Starts `run` on the heavy playbook and waits until its expression is being judged.
fn judging(dir: &TestDir) -> Child {
    dir.write("playbook.yaml", &heavy("10m"));
    let child = dir
        .runbook()
        .args(["run", "playbook.yaml", "--format", "json", "--out", "report.json"])
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start runbook");
    let waited = Instant::now();
    while !dir.path().join("judging").exists() {
        assert!(waited.elapsed() < Duration::from_secs(60), "the step never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    child
}

#[test]
fn ctrl_c_during_a_runaway_expect_exits_130_promptly_with_the_partial_report() {
    let dir = TestDir::new();
    let mut child = judging(&dir);
    signal(&child, "-INT");
    assert_eq!(exit_within(&mut child, BOUND), 130);
    let report = read_report(&dir.path().join("report.json"));
    assert_eq!(report["status"], "interrupted", "{report}");
    let faulty = report["steps"].as_array().unwrap().iter().find(|s| s["id"] == "faulty").cloned().unwrap();
    assert_eq!(faulty["message"], "not finished: interrupted (Ctrl-C)", "{faulty}");
}

#[test]
fn a_second_sigterm_during_a_runaway_expect_exits_143_at_once() {
    let dir = TestDir::new();
    let mut child = judging(&dir);
    signal(&child, "-TERM");
    signal(&child, "-TERM");
    assert_eq!(exit_within(&mut child, BOUND), 143);
}

/// `serve` finishes the run in progress on a first signal; a second one stops it at once.
#[test]
fn serve_answers_healthz_while_a_runaway_expect_is_judged() {
    let dir = TestDir::new();
    dir.write("playbook.yaml", &heavy("10m"));
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let listen = format!("127.0.0.1:{port}");
    let mut serve = dir
        .runbook()
        .args(["serve", "playbook.yaml", "--listen", &listen, "--every", "1h"])
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start runbook serve");
    let waited = Instant::now();
    while !dir.path().join("judging").exists() {
        assert!(waited.elapsed() < Duration::from_secs(60), "the step never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    // Before the fix the judge held serve's only runtime thread: this request waited for it.
    let (status, body) = http("GET", &format!("http://{listen}/healthz"), None);
    assert_eq!((status, body.as_str()), (200, Some("ok\n")));
    assert!(serve.try_wait().expect("wait").is_none(), "serve ended early");
    signal(&serve, "-TERM");
    std::thread::sleep(Duration::from_millis(200));
    signal(&serve, "-TERM");
    assert_eq!(exit_within(&mut serve, BOUND), 143);
}
