//! Notifications from `runbook watch --notify` to a real HTTP receiver and a
//! real command: one message when a fault starts, one when it ends; a
//! receiver that answers 500 is retried, then given up, and the runs go on.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;

use crate::util::{Background, HttpServer, TestDir};

const PLAYBOOK: &str = r#"
name: Notified
secrets:
  token: { env: NOTIFY_TEST_TOKEN }
sections:
  - name: Numbers
    steps:
      - id: reads
        title: The number in `val` is below 10
        shell: { run: "cat val", json: true, env: { TOKEN: "{{secrets.token}}" } }
        capture: { n: "$.json" }
        expect: ["n < 10"]
"#;

#[derive(Clone, Default)]
struct Received {
    hook: Arc<Mutex<Vec<Value>>>,
    broken: Arc<Mutex<u32>>,
}

fn receiver() -> (HttpServer, Received) {
    let received = Received::default();
    let router = axum::Router::new()
        .route(
            "/hook",
            post(|State(r): State<Received>, Json(body): Json<Value>| async move {
                r.hook.lock().unwrap().push(body);
                StatusCode::OK
            }),
        )
        .route(
            "/broken",
            post(|State(r): State<Received>| async move {
                *r.broken.lock().unwrap() += 1;
                StatusCode::INTERNAL_SERVER_ERROR
            }),
        )
        .with_state(received.clone());
    (HttpServer::start(router), received)
}

fn runs(out: &str) -> usize {
    out.matches("Notified").count()
}

#[test]
fn one_message_on_failure_one_on_recovery_and_a_broken_receiver_is_given_up() {
    let (server, received) = receiver();
    let dir = TestDir::new();
    dir.write("notified.yaml", PLAYBOOK);
    dir.write("val", "5\n");
    dir.write(
        "notify.yaml",
        &format!(
            "notify:\n  - webhook: {url}/hook?token=hook-secret\n  - webhook: {url}/broken\n    body: text\n    on: [always]\n  \
             - command: [\"sh\", \"-c\", \"cat >> messages.txt; echo >> messages.txt\"]\n    on: [failure]\n",
            url = server.url
        ),
    );
    let mut watch = Background::spawn(dir.runbook().env("NOTIFY_TEST_TOKEN", "tok-s3cret-value").args([
        "watch",
        "notified.yaml",
        "--every",
        "1s",
        "--notify",
        "notify.yaml",
    ]));
    watch.wait_until("two clean runs", |out, _| runs(out) >= 2);
    assert!(received.hook.lock().unwrap().is_empty(), "a clean start sends nothing");
    dir.write("val", "50\n");
    watch.wait_until("the failure message", |_, _| !received.hook.lock().unwrap().is_empty());
    let failing_from = runs(&watch.stdout());
    watch.wait_until("two more failed runs", |out, _| runs(out) >= failing_from + 2);
    dir.write("val", "5\n");
    watch.wait_until("the recovery message", |_, _| received.hook.lock().unwrap().len() >= 2);
    let recovered_at = runs(&watch.stdout());
    watch.wait_until("two more clean runs", |out, _| runs(out) >= recovered_at + 2);
    assert_eq!(watch.terminate(), 0, "{}", watch.stderr());

    let hook = received.hook.lock().unwrap().clone();
    let events: Vec<&str> = hook.iter().map(|m| m["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["failure", "recovery"], "{hook:#?}");
    let failure = &hook[0];
    assert_eq!(failure["playbook"], "Notified");
    assert_eq!(failure["failed"][0]["id"], "reads");
    assert_eq!(failure["failed"][0]["captured"]["n"], 50);
    assert!(failure["text"].as_str().unwrap().contains("n = 50 → expected n < 10"), "{failure}");
    assert_eq!(hook[1]["failed"], serde_json::json!([]));

    // The broken receiver got every try of every run, and each run still finished.
    let broken = *received.broken.lock().unwrap();
    let stderr = watch.stderr();
    assert!(broken >= 3, "{broken} tries");
    assert!(stderr.contains(&format!("webhook {}: ", server.url)), "{stderr}");
    assert!(stderr.contains("the receiver answered 500 Internal Server Error; gave up after 3 tries"), "{stderr}");
    assert!(
        !stderr.contains("hook-secret") && !stderr.contains("/broken") && !stderr.contains("tok-s3cret-value"),
        "{stderr}"
    );
    assert!(!hook.iter().any(|m| m.to_string().contains("tok-s3cret-value")));

    // The command heard the failure once.
    let messages = std::fs::read_to_string(dir.path().join("messages.txt")).unwrap();
    assert_eq!(messages.matches("FAILED").count(), 1, "{messages}");
    assert!(messages.contains("runbook: Notified on"), "{messages}");
}

#[test]
fn a_bad_notify_file_is_refused_before_anything_runs() {
    let dir = TestDir::new();
    dir.write("notified.yaml", PLAYBOOK);
    dir.write("both.yaml", "notify:\n  - webhook: http://127.0.0.1:9/x\n    command: [\"true\"]\n");
    dir.write("scheme.yaml", "notify:\n  - webhook: 127.0.0.1:9/x\n");
    dir.write("rule.yaml", "notify:\n  - command: [\"true\"]\n    on: [sometimes]\n");
    for (file, says) in [("both.yaml", "not both"), ("scheme.yaml", "http:// or https://"), ("rule.yaml", "sometimes")]
    {
        let out = dir
            .runbook()
            .env("NOTIFY_TEST_TOKEN", "x")
            .args(["watch", "notified.yaml", "--every", "1s", "--notify", file])
            .run();
        assert_eq!(out.code, 2, "{file}: {}", out.stderr);
        assert!(out.stderr.contains(says), "{file}: {}", out.stderr);
    }
}

#[test]
fn runbook_run_tells_a_new_fault_once_and_its_recovery_the_history_knowing_the_run_before() {
    let (server, received) = receiver();
    let dir = TestDir::new();
    dir.write("notified.yaml", PLAYBOOK);
    dir.write(
        "notify.yaml",
        &format!(
            "notify:\n  - webhook: {}/hook\n  - command: [\"sh\", \"-c\", \"cat >> every.txt; echo '<end>' >> every.txt\"]\n    \
             on: [always]\n",
            server.url
        ),
    );
    let run = |val: &str, extra: &[&str]| {
        dir.write("val", val);
        dir.runbook()
            .with_history()
            .env("NOTIFY_TEST_TOKEN", "tok-s3cret-value")
            .args(["run", "notified.yaml", "--history", "h.db", "--notify", "notify.yaml"])
            .args(extra)
            .run()
    };
    let codes: Vec<i32> = [("5\n", &[][..]), ("50\n", &[]), ("50\n", &[]), ("50\n", &["--dry-run"]), ("5\n", &[])]
        .iter()
        .map(|(val, extra)| run(val, extra).code)
        .collect();
    assert_eq!(codes, [0, 1, 1, 1, 0]);
    let hook = received.hook.lock().unwrap().clone();
    let events: Vec<&str> = hook.iter().map(|m| m["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["failure", "recovery"], "{hook:#?}");
    assert_eq!(hook[0]["failed"][0]["captured"]["n"], 50);
    // `always` heard every run but the rehearsal; nothing carries the secret.
    let every = std::fs::read_to_string(dir.path().join("every.txt")).unwrap();
    assert_eq!(every.matches("<end>").count(), 4, "{every}");
    assert!(!every.contains("tok-s3cret-value") && !format!("{hook:?}").contains("tok-s3cret-value"));
}
