//! Action steps (`action: true`): never run unconfirmed, shown but not sent
//! in a dry run, sent exactly once when confirmed. The test server counts
//! the requests it gets.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::util::{HttpServer, TestDir};

/// Counts POSTs to `/flatten` (answering `status`) and GETs to `/status`.
struct Console {
    server: HttpServer,
    posts: Arc<AtomicUsize>,
    gets: Arc<AtomicUsize>,
}

impl Console {
    fn start(status: StatusCode) -> Self {
        let (posts, gets) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (p, g) = (posts.clone(), gets.clone());
        let router = Router::new()
            .route(
                "/flatten",
                post(move || async move {
                    p.fetch_add(1, Ordering::SeqCst);
                    (status, "{\"ok\": true}")
                }),
            )
            .route(
                "/status",
                get(move || async move {
                    g.fetch_add(1, Ordering::SeqCst);
                    "armed"
                }),
            );
        Self { server: HttpServer::start(router), posts, gets }
    }
}

const SECRET: &str = "s3cret-flatten-token";

fn write_playbook(dir: &TestDir, url: &str) {
    dir.write(
        "emergency.yaml",
        &format!(
            r#"
name: emergency
vars: {{ url: "{url}" }}
secrets:
  token: {{ env: CONSOLE_TOKEN }}
defaults: {{ retries: 3, timeout: 10s }}
sections:
  - name: flatten
    steps:
      - id: status
        title: read the arm state
        http: {{ url: "{{{{vars.url}}}}/status" }}
        expect: ['status == 200']
      - id: flatten
        title: Emergency flatten all positions
        action: true
        http:
          url: "{{{{vars.url}}}}/flatten"
          method: POST
          headers: {{ X-Token: "{{{{secrets.token}}}}" }}
          json: {{ operator_id: emergency, token: "{{{{secrets.token}}}}" }}
        expect: ['status == 200']
"#
        ),
    );
}

fn run(dir: &TestDir, args: &[&str]) -> crate::util::Outcome {
    dir.runbook().args(["run", "emergency.yaml"]).args(args).env("CONSOLE_TOKEN", SECRET).env("USER", "ci-user").run()
}

#[test]
fn an_action_is_refused_without_yes_when_not_on_a_terminal() {
    let console = Console::start(StatusCode::OK);
    let dir = TestDir::new();
    write_playbook(&dir, &console.server.url);
    let out = run(&dir, &["--format", "json"]);
    assert_eq!(out.code, 1, "an unconfirmed action must fail the run: {out:?}");
    let step = out.step("flatten");
    assert_eq!(step["verdict"], "skipped");
    assert_eq!(step["message"], "action not confirmed: pass --yes or run on a terminal");
    assert_eq!(step["confirmation"]["confirmed"], false);
    assert_eq!(step["confirmation"]["by"], "ci-user");
    assert_eq!(console.posts.load(Ordering::SeqCst), 0);
    assert_eq!(out.step("status")["verdict"], "pass");
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
    let out = run(&dir, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("1 skipped, 0 pending in "), "{}", out.stdout);
    assert!(out.stdout.trim_end().ends_with("s (1 action not confirmed)"), "{}", out.stdout);
    assert_eq!(console.posts.load(Ordering::SeqCst), 0);
}

#[test]
fn a_dry_run_shows_the_rendered_request_masked_and_sends_nothing() {
    let console = Console::start(StatusCode::OK);
    let dir = TestDir::new();
    write_playbook(&dir, &console.server.url);
    let out = run(&dir, &["--dry-run", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(console.posts.load(Ordering::SeqCst), 0, "a dry run sent the action");
    assert_eq!(console.gets.load(Ordering::SeqCst), 1, "the read-only step runs in a dry run");
    let url = &console.server.url;
    let expected = format!(
        r#"skipped: dry run: would POST {url}/flatten [X-Token: ••••••] {{"operator_id":"emergency","token":"••••••"}}"#
    );
    assert!(out.stdout.contains(&expected), "{expected}\nnot in\n{}", out.stdout);
    assert!(out.stderr.contains("dry run: action steps are shown, not run"), "{}", out.stderr);
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET), "{out:?}");
}

#[test]
fn a_confirmed_action_is_sent_exactly_once_even_when_it_fails_and_retries_are_set() {
    let console = Console::start(StatusCode::INTERNAL_SERVER_ERROR);
    let dir = TestDir::new();
    write_playbook(&dir, &console.server.url);
    let out = run(&dir, &["--yes", "--operator", "alice", "--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(console.posts.load(Ordering::SeqCst), 1, "the action was sent more than once");
    let step = out.step("flatten");
    assert_eq!(step["verdict"], "fail");
    assert_eq!(step["attempts"], 1);
    assert_eq!(step["confirmation"]["confirmed"], true);
    assert_eq!(step["confirmation"]["by"], "alice");
    assert_eq!(step["confirmation"]["how"], "--yes");
    assert!(step["confirmation"]["at"].as_str().unwrap().ends_with('Z'), "{step}");
    assert!(out.step("status")["confirmation"].is_null());
}

#[test]
fn a_confirmed_action_that_succeeds_is_recorded_with_the_operator_from_the_environment() {
    let console = Console::start(StatusCode::OK);
    let dir = TestDir::new();
    write_playbook(&dir, &console.server.url);
    let out = dir
        .runbook()
        .args(["run", "emergency.yaml", "--yes"])
        .env("CONSOLE_TOKEN", SECRET)
        .env("RUNBOOK_OPERATOR", "night-shift")
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(console.posts.load(Ordering::SeqCst), 1);
    assert!(out.stdout.contains("action confirmed by night-shift (--yes) at "), "{}", out.stdout);
}

#[test]
fn retries_on_an_action_are_refused_by_validation() {
    let dir = TestDir::new();
    dir.write(
        "p.yaml",
        "name: p\nsections:\n  - name: s\n    steps:\n      - id: rotate\n        title: rotate keys\n        \
         action: true\n        retries: 2\n        shell: { run: 'true' }\n",
    );
    let out = dir.runbook().args(["validate", "p.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("p.yaml:8:9: step `rotate` is an action, which runs at most once; remove `retries`"),
        "{}",
        out.stderr
    );
}

/// Runs `p.yaml` as bob under `script`, so it sees a terminal, typing `answer`.
pub fn run_on_a_terminal(dir: &TestDir, answer: &str) -> (i32, String) {
    use std::io::Write;
    let command = format!("{} run p.yaml --operator bob", env!("CARGO_BIN_EXE_runbook"));
    let mut child = std::process::Command::new("timeout")
        .args(["60", "script", "-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run script(1)");
    child.stdin.take().unwrap().write_all(answer.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn on_a_terminal_the_action_is_shown_and_runs_only_after_yes() {
    let dir = TestDir::new();
    dir.write(
        "p.yaml",
        "name: p\nsections:\n  - name: s\n    steps:\n      - id: rotate\n        title: rotate keys\n        \
         action: true\n        shell: { run: 'echo rotated >> done.txt' }\n",
    );
    let (code, screen) = run_on_a_terminal(&dir, "n\n");
    assert_eq!(code, 1, "{screen}");
    assert!(screen.contains("action `rotate`: rotate keys\r\n    sh -c echo rotated >> done.txt\r\n"), "{screen}");
    assert!(screen.contains("run it now, as bob? [y/N]"), "{screen}");
    assert!(screen.contains("skipped: action declined on the terminal"), "{screen}");
    assert!(!dir.path().join("done.txt").exists());

    let (code, screen) = run_on_a_terminal(&dir, "y\n");
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("action confirmed by bob (terminal) at "), "{screen}");
    assert_eq!(std::fs::read_to_string(dir.path().join("done.txt")).unwrap(), "rotated\n");
}
