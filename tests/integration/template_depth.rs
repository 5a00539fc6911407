//! 5,000 nested `{{#if}}` blocks in every place a user's template goes: each
//! is refused before anything renders, with where it goes too deep (it used to
//! overflow the stack: exit 134, no report, no history, a dead `serve`), and a
//! `serve` whose page fails to render answers with an error and keeps serving.

use crate::scrape::{served_url, wait_for};
use crate::sim::http;
use crate::util::{Background, TestDir};

/// 5,000 nested blocks; the 33rd opens at column 289.
fn deep() -> String {
    format!("{}x{}", "{{#if a}}".repeat(5000), "{{/if}}".repeat(5000))
}

const LIMIT: &str = "blocks and subexpressions nest more than 32 deep here";

const STEP: &str =
    "sections:\n  - name: main\n    steps:\n      - id: up\n        title: up\n        shell: { run: \"true\" }\n";

#[test]
fn a_deep_template_flag_is_refused_before_the_run() {
    let dir = TestDir::new();
    dir.write("playbook.yaml", &format!("name: deep\n{STEP}"));
    dir.write("deep.hbs", &deep());
    let out = dir.runbook().args(["run", "playbook.yaml", "--report", "r.md", "--template", "deep.hbs"]).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    let expected =
        format!("error: --template `deep.hbs`: bad report template at 1:289: invalid handlebars syntax: {LIMIT}");
    assert_eq!(out.stderr.trim_end(), expected);
    assert!(!dir.path().join("r.md").exists());
}

#[test]
fn a_deep_report_template_of_a_playbook_is_a_located_error_from_validate_and_run() {
    let dir = TestDir::new();
    dir.write("playbook.yaml", &format!("name: deep\nreport: {{ template: deep.hbs }}\n{STEP}"));
    dir.write("deep.hbs", &deep());
    for command in
        [&["validate", "playbook.yaml"][..], &["run", "playbook.yaml"], &["run", "playbook.yaml", "--report", "r.md"]]
    {
        let out = dir.runbook().args(command).run();
        assert_eq!(out.code, 2, "{command:?}: {}", out.stderr);
        let expected = format!(
            "error: playbook.yaml:2:21: the playbook's report.template `deep.hbs` at 1:289: invalid handlebars syntax: {LIMIT}"
        );
        assert!(out.stderr.starts_with(&expected), "{command:?}: {}", out.stderr);
    }
}

#[test]
fn a_deep_notify_message_is_a_located_error_from_validate_and_run() {
    let dir = TestDir::new();
    let notify = format!("notify:\n  - on: [failure]\n    command: [\"true\"]\n    message: \"{}\"\n", deep());
    dir.write("playbook.yaml", &format!("name: deep\n{notify}{STEP}"));
    for command in [&["validate", "playbook.yaml"][..], &["run", "playbook.yaml"]] {
        let out = dir.runbook().args(command).run();
        assert_eq!(out.code, 2, "{command:?}: {}", out.stderr);
        let expected = format!(
            "error: playbook.yaml:3:5: notify: `message`: bad template at 1:289: invalid handlebars syntax: {LIMIT}"
        );
        assert!(out.stderr.starts_with(&expected), "{command:?}: {}", out.stderr);
    }
}

#[test]
fn serve_refuses_a_deep_report_template_at_start() {
    let dir = TestDir::new();
    dir.write("playbook.yaml", &format!("name: deep\nreport: {{ template: deep.hbs }}\n{STEP}"));
    dir.write("deep.hbs", &deep());
    let out = dir.runbook().args(["serve", "playbook.yaml", "--listen", "127.0.0.1:0"]).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains(LIMIT), "{}", out.stderr);
    assert!(!out.stderr.contains("serving on"), "{}", out.stderr);
}

#[test]
fn a_page_that_fails_to_render_is_an_error_and_serve_keeps_serving() {
    let dir = TestDir::new();
    dir.write("playbook.yaml", &format!("name: fails\nreport: {{ template: broken.hbs }}\n{STEP}"));
    // Compiles, and fails on every render: `lookup` needs its arguments.
    dir.write("broken.hbs", "<p>{{lookup}}</p>");
    let mut serve =
        Background::spawn(dir.runbook().args(["serve", "playbook.yaml", "--listen", "127.0.0.1:0", "--every", "1h"]));
    serve.wait_until("the address", |_, err| err.contains("serving on http://"));
    let url = served_url(&serve.stderr());
    wait_for(&url, "the first run", &|s| s.contains_key(r#"runbook_runs_total{playbook="fails"}"#));
    let (status, _) = http("GET", &format!("{url}/"), None);
    assert_eq!(status, 500);
    let (status, body) = http("GET", &format!("{url}/healthz"), None);
    assert_eq!((status, body.as_str()), (200, Some("ok\n")));
    assert_eq!(serve.terminate(), 0, "{}", serve.stderr());
}
