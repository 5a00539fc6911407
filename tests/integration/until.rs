//! `retries` against `until` with a real HTTP server on 127.0.0.1: a retry
//! re-observes only when the probe could not observe, every attempt is kept
//! in the record, and waiting for a condition is `until`'s, with its limit.

use std::time::{Duration, Instant};

use crate::service::{self, WARM_AFTER, refused_url};
use crate::util::run_playbook;

fn playbook(url: &str, steps: &str) -> String {
    format!("name: until checks\nvars:\n  url: {url}\nsections:\n  - name: Service\n    steps:\n{steps}")
}

/// A step whose first answer cannot be read (an error) and whose second can.
const HICCUP: &str = r#"
      - id: hiccup
        title: Answers on the second try
        retries: 3
        http: { url: "{{vars.url}}/hiccup" }
        expect: ['status == 200']
"#;

fn json_run(url: &str, steps: &str) -> crate::util::Outcome {
    run_playbook(&playbook(url, steps), &["--format", "json"])
}

#[test]
fn a_refused_connection_is_retried_and_every_attempt_is_recorded() {
    let url = refused_url();
    let out = json_run(
        &url,
        r#"
      - id: down
        title: Nothing listens
        retries: 2
        http: { url: "{{vars.url}}" }
        expect: ['status == 200']
"#,
    );
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("down");
    assert_eq!(step["verdict"], "error");
    assert_eq!(step["attempts"], 3);
    let tries = step["tries"].as_array().expect("tries recorded");
    assert_eq!(tries.len(), 3, "{step}");
    for t in tries {
        assert_eq!(t["verdict"], "error", "{t}");
        assert_eq!(t["error_kind"], "refused", "{t}");
        assert!(!t["message"].as_str().unwrap_or("").is_empty(), "{t}");
    }
}

#[test]
fn a_retried_error_that_then_observes_says_so_in_the_checklist() {
    // The first answer cannot be read (an error), the second can.
    let service = service::start();
    let steps = HICCUP;
    let out = run_playbook(&playbook(&service.url, steps), &["--format", "text"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("after 2 attempts; attempt 1: error: "), "{}", out.stdout);
    // A fresh service, so its first answer is again the bad one.
    let service = service::start();
    let out = json_run(&service.url, steps);
    let step = out.step("hiccup");
    assert_eq!(step["attempts"], 2, "{step}");
    assert_eq!(step["tries"][0]["verdict"], "error", "{step}");
    assert_eq!(step["tries"][1]["verdict"], "pass", "{step}");
}

#[test]
fn until_waits_for_the_good_answer_and_records_the_wait() {
    let service = service::start();
    let out = json_run(
        &service.url,
        r#"
      - id: warm
        title: Warmed up
        retries: 3
        http: { url: "{{vars.url}}/warming" }
        until: { expr: 'body.state == "ready"', every: 200ms, within: 10s }
        capture: { call: $.body.call }
        expect: ['body.state == "ready"']
"#,
    );
    assert_eq!(out.code, 0, "{out:?}");
    let step = out.step("warm");
    assert_eq!(step["verdict"], "pass", "{step}");
    assert_eq!(step["attempts"], WARM_AFTER);
    assert_eq!(step["captured"]["call"], WARM_AFTER);
    assert_eq!(step["until"]["held"], true);
    assert_eq!(step["until"]["polls"], WARM_AFTER);
    // Two pauses of 200ms at least came before the condition held.
    assert!(step["until"]["waited_ms"].as_u64().unwrap() >= 400, "{step}");
    let tries = step["tries"].as_array().expect("tries recorded");
    assert_eq!(tries.len(), WARM_AFTER);
    assert_eq!(tries[0]["verdict"], "fail");
    assert!(tries[0]["message"].as_str().unwrap().contains(r#"body.state = "starting""#), "{step}");
    assert_eq!(tries[WARM_AFTER - 1]["verdict"], "pass");
    let log = service.log();
    assert_eq!(log.len(), WARM_AFTER, "{log:?}");
}

#[test]
fn junit_lists_every_attempt_of_a_retried_step() {
    let service = service::start();
    let steps = HICCUP;
    let out = run_playbook(&playbook(&service.url, steps), &["--format", "junit"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(r#"<property name="attempts" value="2"/>"#), "{}", out.stdout);
    assert!(out.stdout.contains("attempt 1: error: "), "{}", out.stdout);
    assert!(out.stdout.contains("attempt 2: pass: "), "{}", out.stdout);
}

#[test]
fn until_shows_the_wait_in_the_checklist() {
    let service = service::start();
    let out = run_playbook(
        &playbook(
            &service.url,
            r#"
      - id: warm
        title: Warmed up
        http: { url: "{{vars.url}}/warming" }
        until: { expr: 'body.state == "ready"', every: 100ms, within: 10s }
"#,
        ),
        &["--format", "text"],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("condition held after "), "{}", out.stdout);
    assert!(out.stdout.contains(&format!("({WARM_AFTER} polls)")), "{}", out.stdout);
}

#[test]
fn markdown_and_html_reports_show_retried_errors() {
    for format in ["markdown", "html"] {
        let service = service::start();
        let steps = r#"
      - id: hiccup
        title: Answers on the second try
        retries: 1
        http: { url: "{{vars.url}}/hiccup" }
        expect: ['status == 200']
"#;
        let out = run_playbook(&playbook(&service.url, steps), &["--format", format]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains("after 2 attempts; attempt 1: error: "), "{format}:\n{}", out.stdout);
    }
}

#[test]
fn until_that_never_holds_fails_at_its_limit() {
    let service = service::start();
    let clock = Instant::now();
    let out = json_run(
        &service.url,
        r#"
      - id: never
        title: Never ready
        http: { url: "{{vars.url}}/health" }
        until: { expr: 'body.status == "ready"', every: 200ms, within: 1s }
        expect: ['status == 200']
"#,
    );
    let elapsed = clock.elapsed();
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("never");
    assert_eq!(step["verdict"], "fail", "{step}");
    let message = step["message"].as_str().unwrap();
    assert!(message.starts_with(r#"`body.status == "ready"` did not hold within 1s ("#), "{message}");
    assert!(message.contains(r#"last poll: body.status = "ok""#), "{message}");
    assert_eq!(step["until"]["held"], false);
    let polls = step["until"]["polls"].as_u64().unwrap();
    assert!((4..=6).contains(&polls), "{step}");
    assert!(step["until"]["waited_ms"].as_u64().unwrap() >= 800, "{step}");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
}

#[test]
fn until_that_saw_its_condition_false_fails_even_when_the_last_poll_errored() {
    let service = service::start();
    let out = json_run(
        &service.url,
        r#"
      - id: fading
        title: Seen starting, then unreadable
        http: { url: "{{vars.url}}/fading" }
        until: { expr: 'body.state == "ready"', every: 100ms, within: 600ms }
"#,
    );
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("fading");
    assert_eq!(step["verdict"], "fail", "{step}");
    assert!(step["error_kind"].is_null(), "{step}");
    assert_eq!(step["tries"][0]["verdict"], "fail", "{step}");
    assert_eq!(step["tries"][1]["verdict"], "error", "{step}");
    assert!(step["message"].as_str().unwrap().contains("last poll: "), "{step}");
}

#[test]
fn until_that_never_observed_anything_is_an_error() {
    let out = json_run(
        &refused_url(),
        r#"
      - id: gone
        title: Nothing listens
        http: { url: "{{vars.url}}" }
        until: { expr: 'status == 200', every: 100ms, within: 400ms }
"#,
    );
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("gone");
    assert_eq!(step["verdict"], "error", "{step}");
    assert_eq!(step["error_kind"], "refused", "{step}");
}

#[test]
fn until_is_checked_where_it_stands() {
    let out = run_playbook(
        &playbook(
            "http://127.0.0.1:1",
            r#"
      - id: bad
        title: Bad wait
        http: { url: "{{vars.url}}/health" }
        until: { expr: 'stat == 200', every: 0s, within: soon }
"#,
        ),
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("playbook.yaml:11:25: `stat` in `stat == 200` is not defined"), "{}", out.stderr);
    assert!(out.stderr.contains("playbook.yaml:11:46: `until.every` must be more than 0"), "{}", out.stderr);
    assert!(out.stderr.contains("playbook.yaml:11:58: `soon` is not a duration"), "{}", out.stderr);
}

#[test]
fn an_action_cannot_wait() {
    let out = run_playbook(
        &playbook(
            "http://127.0.0.1:1",
            r#"
      - id: flatten
        title: Flatten
        action: true
        http: { url: "{{vars.url}}/flatten", method: POST }
        until: { expr: 'status == 200', within: 5s }
"#,
        ),
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
    let want = "playbook.yaml:12:24: step `flatten` is an action, which runs at most once; remove `until`";
    assert!(out.stderr.contains(want), "{}", out.stderr);
}
