//! The record keeps what a step's expressions found as data, beside the
//! message: each check's expression, kind, whether it held and the values it
//! read (`checks`), and for an error what sort it was (`error_kind`), so tools
//! reading `--format json` need not parse messages. Against a real HTTP
//! server on 127.0.0.1.

use serde_json::json;

use crate::service::{self, refused_url};
use crate::util::run_playbook;

fn run(service_url: &str, steps: &str) -> crate::util::Outcome {
    let playbook = format!(
        "name: check data\nvars:\n  url: http://127.0.0.1:1\nsections:\n  - name: Service\n    steps:\n{steps}"
    );
    let var = format!("url={service_url}");
    run_playbook(&playbook, &["--format", "json", "--var", &var])
}

#[test]
fn a_failed_expectation_keeps_its_expression_and_observed_values_as_data() {
    let service = service::start();
    let out = run(
        &service.url,
        r#"
      - id: cpu
        title: CPU below 70%
        http: { url: "{{vars.url}}/metrics" }
        capture: { cpu: $.body.cpu_pct }
        expect: ['status == 200', 'cpu < 70 && body.min_price == "0.00005"']
        warn: ['size(body.services) < 3']
"#,
    );
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("cpu");
    assert_eq!(step["verdict"], "fail", "{step}");
    assert_eq!(
        step["message"],
        "cpu = 73.2, body.min_price = \"0.00005\" → expected cpu < 70 && body.min_price == \"0.00005\""
    );
    assert_eq!(
        step["checks"],
        json!([
            {"expression": "status == 200", "kind": "expect", "held": true},
            {
                "expression": "cpu < 70 && body.min_price == \"0.00005\"",
                "kind": "expect",
                "held": false,
                "observed": {"body.min_price": "0.00005", "cpu": 73.2}
            },
            {
                "expression": "size(body.services) < 3",
                "kind": "warn",
                "held": false,
                "observed": {"body.services": [
                    {"lag_ms": 12, "name": "brain", "up": true},
                    {"lag_ms": 80, "name": "execution", "up": true},
                    {"lag_ms": 4000, "name": "scanner", "up": false}
                ]}
            }
        ]),
        "{step}"
    );
    assert!(step.get("error_kind").is_none(), "a failure is not an error: {step}");
}

#[test]
fn a_passing_step_lists_its_checks_as_held() {
    let service = service::start();
    let out = run(
        &service.url,
        r#"
      - id: up
        title: Up
        http: { url: "{{vars.url}}/health" }
        expect: ['status == 200']
"#,
    );
    assert_eq!(out.code, 0, "{out:?}");
    let step = out.step("up");
    assert_eq!(step["checks"], json!([{"expression": "status == 200", "kind": "expect", "held": true}]));
    assert!(step.get("error_kind").is_none(), "{step}");
}

#[test]
fn a_refused_connection_a_timeout_and_a_lying_body_are_different_error_kinds() {
    let service = service::start();
    let refused = refused_url();
    let steps = format!(
        r#"
      - id: refused
        title: Nothing listens
        http: {{ url: "{refused}" }}
        expect: ['status == 200']
      - id: slow
        title: Answers too late
        timeout: 1s
        http: {{ url: "{{{{vars.url}}}}/slow?ms=20000" }}
        expect: ['status == 200']
      - id: lying
        title: Says JSON, sends something else
        http: {{ url: "{{{{vars.url}}}}/lying" }}
        expect: ['status == 200']
"#
    );
    let out = run(&service.url, &steps);
    assert_eq!(out.code, 1, "{out:?}");
    let kinds: Vec<_> = ["refused", "slow", "lying"].map(|id| out.step(id)).into_iter().collect();
    for step in &kinds {
        assert_eq!(step["verdict"], "error", "{step}");
        assert!(step.get("checks").is_none(), "nothing was judged: {step}");
    }
    assert_eq!(kinds[0]["error_kind"], "refused", "{}", kinds[0]);
    assert_eq!(kinds[0]["message"], format!("GET {refused}: cannot connect: Connection refused (os error 111)"));
    assert_eq!(kinds[1]["error_kind"], "timeout", "{}", kinds[1]);
    assert_eq!(kinds[1]["message"], "timed out after 1s");
    assert_eq!(kinds[2]["error_kind"], "decode", "{}", kinds[2]);
}

#[test]
fn an_expression_that_cannot_be_judged_is_an_expression_error() {
    let service = service::start();
    let out = run(
        &service.url,
        r#"
      - id: typo
        title: Compares text with a number
        http: { url: "{{vars.url}}/health" }
        expect: ['status == 200', 'body.status > 3']
"#,
    );
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("typo");
    assert_eq!(step["verdict"], "error", "{step}");
    assert_eq!(step["error_kind"], "expression", "{step}");
    assert_eq!(step["checks"], json!([{"expression": "status == 200", "kind": "expect", "held": true}]));
}

#[test]
fn databases_say_refused_and_protocol_like_http_does() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.local_addr().expect("local addr").port()
    };
    let steps = format!(
        r#"
      - id: pg_down
        title: PostgreSQL that is not there
        sql: {{ url: "postgres://postgres@127.0.0.1:{port}/test", query: "select 1 as n" }}
      - id: redis_down
        title: Redis that is not there
        redis: {{ url: "redis://127.0.0.1:{port}", command: PING }}
      - id: pg_no
        title: A query PostgreSQL refuses
        sql: {{ url: "postgres://postgres@127.0.0.1:5432/test", query: "select * from rb_no_such_table_anywhere" }}
      - id: redis_no
        title: A command Redis refuses
        redis: {{ url: "redis://127.0.0.1:6379", command: "GET", write: true }}
"#
    );
    let out = run("http://127.0.0.1:1", &steps);
    assert_eq!(out.code, 1, "{out:?}");
    for (id, kind) in
        [("pg_down", "refused"), ("redis_down", "refused"), ("pg_no", "protocol"), ("redis_no", "protocol")]
    {
        let step = out.step(id);
        assert_eq!(step["verdict"], "error", "{step}");
        assert_eq!(step["error_kind"], kind, "{step}");
    }
}
