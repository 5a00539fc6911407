//! The acceptance test of issue #10: `runbook serve playbooks/hourly.yaml`
//! against the Titan simulator, scraped over HTTP. Its metrics pass
//! `promtool check metrics` and change when a fault is injected into the
//! running simulator; a webhook hears one message when the fault starts and
//! one when it ends, however many runs see it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;

use crate::scrape::{promtool_accepts, served_url, wait_for};
use crate::sim::TitanSim;
use crate::util::{Background, HttpServer, Runbook, TestDir};

const PLAYBOOK: &str = "Titan hourly monitoring";

fn series(section: &str, step: &str, severity: &str, verdict: &str) -> String {
    format!(
        r#"runbook_step_verdict{{playbook="{PLAYBOOK}",section="{section}",step="{step}",severity="{severity}",verdict="{verdict}"}}"#
    )
}

fn receiver() -> (HttpServer, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let router = axum::Router::new()
        .route(
            "/hook",
            post(|State(r): State<Arc<Mutex<Vec<Value>>>>, Json(body): Json<Value>| async move {
                r.lock().unwrap().push(body);
                StatusCode::OK
            }),
        )
        .with_state(received.clone());
    (HttpServer::start(router), received)
}

#[test]
fn serve_hourly_against_the_simulator_follows_an_injected_fault_and_notifies_once_each_way() {
    let sim = TitanSim::start(&[]);
    let (hook, received) = receiver();
    let dir = TestDir::new();
    let notify = dir.write("notify.yaml", &format!("notify:\n  - webhook: {}/hook\n", hook.url));
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut args: Vec<String> =
        ["serve", "playbooks/hourly.yaml", "--listen", "127.0.0.1:0", "--every", "1s"].map(String::from).into();
    args.extend(sim.var_args());
    args.extend(["--notify".to_owned(), notify.display().to_string()]);
    let mut serve = Background::spawn(Runbook::new(&repo).args(&args).env("TITAN_CONSOLE_AUTH", &sim.console_auth));
    serve.wait_until("the address", |_, err| err.contains("serving on http://"));
    let url = served_url(&serve.stderr());
    let messages = || received.lock().unwrap().clone();
    let runs_total = format!(r#"runbook_runs_total{{playbook="{PLAYBOOK}"}}"#);
    let runs = |s: &std::collections::BTreeMap<String, f64>| s.get(&runs_total).copied().unwrap_or(0.0);
    let two_more_runs = |what: &str| {
        let (_, now) = crate::scrape::scrape(&url);
        let from = runs(&now);
        wait_for(&url, what, &|s| runs(s) >= from + 2.0)
    };

    let breaker = |verdict: &str| series("Hourly Monitoring Tasks", "circuit_breaker", "critical", verdict);
    let reconnects = |verdict: &str| series("Hourly Monitoring Tasks", "websocket_reconnects", "warning", verdict);
    let clean = format!(r#"runbook_run_clean{{playbook="{PLAYBOOK}"}}"#);
    let (text, healthy) = wait_for(&url, "a first run", &|s| s.contains_key(&runs_total));
    promtool_accepts(&text);
    assert_eq!(healthy[&breaker("pass")], 1.0, "{text}");
    assert_eq!(healthy[&breaker("fail")], 0.0);
    assert_eq!(healthy[&reconnects("pass")], 1.0, "{text}");
    assert_eq!(healthy[&clean], 1.0, "the hourly playbook is clean on the healthy simulator:\n{text}");
    two_more_runs("two healthy runs");
    assert!(messages().is_empty(), "a clean start sends nothing: {:?}", messages());

    // A critical fault and a warning-level one, injected into the running simulator.
    sim.set_scenarios(&["breaker-active", "websocket-flapping"]);
    let (text, faulty) = wait_for(&url, "the breaker to fail", &|s| s.get(&breaker("fail")) == Some(&1.0));
    promtool_accepts(&text);
    assert_eq!(faulty[&breaker("pass")], 0.0);
    let active = format!(
        r#"runbook_step_value{{playbook="{PLAYBOOK}",section="Hourly Monitoring Tasks",step="circuit_breaker",name="active"}}"#
    );
    assert_eq!((healthy[&active], faulty[&active]), (0.0, 1.0), "the captured flag follows the fault");
    assert_eq!(faulty[&reconnects("fail")], 1.0, "{text}");
    assert_eq!(faulty[&clean], 0.0);
    let brain = series("Hourly Monitoring Tasks", "brain_responding", "critical", "pass");
    assert_eq!((healthy[&brain], faulty[&brain]), (1.0, 1.0), "other steps stay as they were");
    two_more_runs("two more failing runs");
    let heard = messages();
    assert_eq!(heard.len(), 1, "one message for the fault, not one per run: {heard:#?}");
    assert_eq!(heard[0]["event"], "failure");
    let failed: Vec<(&str, &str)> = heard[0]["failed"]
        .as_array()
        .expect("failed steps")
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(failed, [("circuit_breaker", "critical"), ("websocket_reconnects", "warning")], "{heard:#?}");
    assert_eq!(heard[0]["failed"][0]["captured"]["active"], true);

    sim.set_scenarios(&[]);
    wait_for(&url, "the breaker to pass again", &|s| s.get(&breaker("pass")) == Some(&1.0) && s[&clean] == 1.0);
    two_more_runs("two more healthy runs");
    let heard = messages();
    let events: Vec<&str> = heard.iter().map(|m| m["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["failure", "recovery"], "{heard:#?}");
    assert_eq!(heard[1]["failed"], serde_json::json!([]));
    assert_eq!(serve.terminate(), 0, "{}", serve.stderr());
    for text in [serve.stdout(), serve.stderr(), serde_json::to_string(&heard).unwrap()] {
        assert!(!text.contains(&sim.console_auth), "the console secret leaked:\n{text}");
    }
}
