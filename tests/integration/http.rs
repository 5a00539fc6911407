//! The `http` probe end to end against a real server on 127.0.0.1: pass,
//! fail with observed values, warn, errors (500 body, refused, timeout, lying
//! JSON), retries, captures that feed later steps, JSONPath filters.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::service::{self, refused_url};
use crate::util::{TestDir, run_playbook};

/// A one-section playbook whose steps reach the service as `{{vars.url}}`.
fn playbook(steps: &str) -> String {
    format!("name: http checks\nvars:\n  url: http://127.0.0.1:1\nsections:\n  - name: Service\n    steps:\n{steps}")
}

fn run(service_url: &str, steps: &str, extra: &[&str]) -> crate::util::Outcome {
    let var = format!("url={service_url}");
    let mut args = vec!["--format", "json", "--var", &var];
    args.extend_from_slice(extra);
    run_playbook(&playbook(steps), &args)
}

#[test]
fn a_healthy_service_passes_and_its_captures_are_recorded() {
    let service = service::start();
    let out = run(
        &service.url,
        r#"
      - id: brain_health
        title: 'Brain: status = "ok", uptime > 5000'
        http: { url: "{{vars.url}}/health" }
        capture: { health: $.body.status, uptime: $.body.uptime, version: $.body.version }
        expect: ['status == 200', 'health == "ok"', 'uptime - 5000 > 0', 'latency_ms < 5000', 'body.connections * 2 == 6']
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let step = out.step("brain_health");
    assert_eq!(step["verdict"], "pass", "{step}");
    assert_eq!(step["message"], "");
    assert_eq!(step["captured"], json!({"health": "ok", "uptime": 12345.5, "version": "1.4.2"}));
    assert_eq!(step["attempts"], 1);
}

#[test]
fn a_missed_threshold_fails_and_names_the_observed_values() {
    let service = service::start();
    let out = run(
        &service.url,
        r#"
      - id: cpu
        title: "CPU Usage: Overall < 70%"
        http: { url: "{{vars.url}}/metrics" }
        capture: { cpu_pct: $.body.cpu_pct }
        expect: ['status == 200', 'cpu_pct < 70', 'body.services.size() == 2']
"#,
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("cpu");
    assert_eq!(step["verdict"], "fail");
    assert_eq!(
        step["message"],
        "cpu_pct = 73.2 → expected cpu_pct < 70; body.services = [{\"lag_ms\":12,\"name\":\"brain\",\"up\":true},\
         {\"lag_ms\":80,\"name\":\"execution\",\"up\":true},{\"lag_ms\":4000,\"name\":\"scanner\",\"up\":… \
         → expected body.services.size() == 2"
    );
}

#[test]
fn a_missed_warning_warns_and_still_exits_0() {
    let service = service::start();
    let out = run(
        &service.url,
        r#"
      - id: conns
        title: Few open connections
        http: { url: "{{vars.url}}/health" }
        capture: { connections: $.body.connections }
        expect: ['status == 200']
        warn: ['connections < 2']
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["verdict"], "warn");
    let step = out.step("conns");
    assert_eq!(step["verdict"], "warn");
    assert_eq!(step["message"], "connections = 3 → wanted connections < 2");
}

#[test]
fn a_500_fails_on_its_status_with_the_body_still_readable() {
    let service = service::start();
    let out = run(
        &service.url,
        r#"
      - id: db
        title: Database answers
        http: { url: "{{vars.url}}/boom" }
        capture: { why: $.body.error }
        expect: ['status == 200']
"#,
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("db");
    assert_eq!(step["verdict"], "fail");
    assert_eq!(step["message"], "status = 500 → expected status == 200");
    assert_eq!(step["captured"], json!({"why": "database down"}));
}

#[test]
fn a_body_that_is_not_json_is_text_and_one_that_lies_is_an_error() {
    let service = service::start();
    let out = run(
        &service.url,
        r#"
      - id: text
        title: Plain text status page
        http: { url: "{{vars.url}}/text" }
        expect: ['body == "all systems nominal\n"', 'headers["content-type"] == "text/plain"']
      - id: lying
        title: Says JSON, sends garbage
        http: { url: "{{vars.url}}/lying" }
        expect: ['status == 200']
"#,
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.step("text")["verdict"], "pass", "{}", out.stdout);
    let lying = out.step("lying");
    assert_eq!(lying["verdict"], "error");
    assert_eq!(lying["message"], "response says JSON but is not: expected value at line 1 column 12");
}

#[test]
fn connection_refused_is_an_error_and_the_run_goes_on() {
    let service = service::start();
    let refused = refused_url();
    let steps = format!(
        r#"
      - id: gone
        title: A service that is down
        http: {{ url: "{refused}" }}
        expect: ['status == 200']
      - id: up
        title: A service that is up
        http: {{ url: "{{{{vars.url}}}}/health" }}
        expect: ['status == 200']
"#
    );
    let out = run(&service.url, &steps, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let gone = out.step("gone");
    assert_eq!(gone["verdict"], "error");
    assert_eq!(gone["message"], format!("GET {refused}: cannot connect: Connection refused (os error 111)"));
    assert_eq!(out.step("up")["verdict"], "pass");
    assert_eq!(
        out.json()["counts"],
        json!({"pass": 1, "warn": 0, "fail": 0, "error": 1, "skipped": 0, "pending": 0, "not_judged": 0, "waived": 0,
            "not_due": 0, "snoozed": 0, "failed_by_severity": {"critical": 1, "warning": 0}})
    );
}

#[test]
fn a_slow_response_is_cut_off_at_the_step_deadline() {
    let service = service::start();
    let clock = Instant::now();
    let out = run(
        &service.url,
        r#"
      - id: slow
        title: Answers within 3s
        timeout: 3s
        http: { url: "{{vars.url}}/slow?ms=20000" }
        expect: ['status == 200']
"#,
        &[],
    );
    let elapsed = clock.elapsed();
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("slow");
    assert_eq!(step["verdict"], "error");
    assert_eq!(step["message"], "timed out after 3s");
    assert!(step["duration_ms"].as_u64().unwrap() >= 3000, "{step}");
    // The deadline is honoured within 20%, start-up of the binary included.
    assert!(elapsed < Duration::from_millis(3600), "took {elapsed:?}");
}

#[test]
fn a_failed_expectation_is_final_even_with_retries() {
    // The second read would pass: a retry would turn a failed read into a pass.
    let service = service::start();
    let out = run(
        &service.url,
        r#"
      - id: flaky
        title: Comes up after a restart
        retries: 3
        http: { url: "{{vars.url}}/flaky" }
        capture: { call: $.body.call }
        expect: ['status == 200']
"#,
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("flaky");
    assert_eq!(step["verdict"], "fail");
    assert_eq!(step["attempts"], 1);
    assert_eq!(step["message"], "status = 503 → expected status == 200");
    assert!(step.get("tries").is_none(), "{step}");
    assert_eq!(service.log(), ["/flaky #1"]);
}

#[test]
fn without_retries_a_flaky_endpoint_fails_after_one_attempt() {
    let service = service::start();
    let out = run(
        &service.url,
        r#"
      - id: flaky
        title: Comes up after a restart
        http: { url: "{{vars.url}}/flaky" }
        expect: ['status == 200']
"#,
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.step("flaky")["attempts"], 1);
    assert_eq!(out.step("flaky")["message"], "status = 503 → expected status == 200");
}

#[test]
fn a_captured_value_feeds_a_later_step_which_waits_for_it() {
    let service = service::start();
    // `second` comes first in the file; reading `steps.first.token` makes it wait.
    let out = run(
        &service.url,
        r#"
      - id: second
        title: Uses the token
        http: { url: "{{vars.url}}/echo?token={{steps.first.token}}" }
        capture: { echoed: $.body.token }
        expect: ['echoed == steps.first.token', 'body.token == "t-42"']
      - id: first
        title: Hands out a token, slowly
        http: { url: "{{vars.url}}/slow?ms=300" }
        capture: { token: $.body.token }
        expect: ['status == 200']
"#,
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.step("second")["captured"]["echoed"], "t-42");
    assert_eq!(service.log(), ["/slow?ms=300", "/slow?ms=300 done", "/echo?token=t-42"]);
    // The record keeps file order, whatever order the steps ran in.
    let ids: Vec<_> = out.json()["steps"].as_array().unwrap().iter().map(|s| s["id"].clone()).collect();
    assert_eq!(ids, [json!("second"), json!("first")]);
}

#[test]
fn a_jsonpath_filter_captures_a_list_whatever_matches() {
    let service = service::start();
    let out = run(
        &service.url,
        r#"
      - id: services
        title: Every service is up and keeps up
        http: { url: "{{vars.url}}/metrics" }
        capture:
          down: "$.body.services[?(@.up == false)].name"
          lagging: "$.body.services[?(@.lag_ms > 50)].lag_ms"
        expect: ['size(lagging) == 2', 'size(down) == 0']
"#,
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("services");
    // One match is a list of one, as several are: an expression written for one day works on the next.
    assert_eq!(step["captured"], json!({"down": ["scanner"], "lagging": [80, 4000]}));
    assert_eq!(step["message"], "down = [\"scanner\"] → expected size(down) == 0");
}

#[test]
fn slow_steps_run_side_by_side() {
    // Not a timing test: the server sees every request before any answer.
    let service = service::start();
    let steps: String = (0..8)
        .map(|i| {
            format!(
                "      - id: s{i}\n        title: slow {i}\n        http: {{ url: \"{{{{vars.url}}}}/slow?ms=1500\" }}\n        \
                 expect: ['status == 200']\n"
            )
        })
        .collect();
    let dir = TestDir::new();
    dir.write("p.yaml", &playbook(&steps));
    let out = dir.runbook().args(["run", "p.yaml", "--var", &format!("url={}", service.url)]).run();
    assert_eq!(out.code, 0, "{out:?}");
    let log = service.log();
    let first_done = log.iter().position(|l| l.ends_with("done")).unwrap();
    assert_eq!(first_done, 8, "requests should all arrive before the first answer: {log:?}");
}
