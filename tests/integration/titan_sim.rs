//! The Titan simulator (`examples/titan-sim`) as a real process: a small
//! playbook run against it through the real binary passes when healthy and
//! fails exactly the steps a combination of faults should fail; the POST
//! endpoints refuse requests without basic auth and count each one; the
//! market data honours its query parameters; SIGTERM stops it cleanly.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::sim::{TitanSim, http, sim_binary};
use crate::util::{Outcome, TestDir};

/// Reads the contract's fields the way the Titan playbooks will.
const PLAYBOOK: &str = r#"
name: titan-sim check
vars:
  brain_url: http://localhost:3100
  execution_url: http://localhost:3002
  console_url: http://localhost:3002
  scavenger_url: http://localhost:3003
  ai_quant_url: http://localhost:3004
  exchange_url: https://api.bybit.com
  pg_url: postgres://titan_user@localhost/titan_brain
  redis_url: redis://localhost:6379
  pm2_bin: pm2
  log_dir: /var/log/titan
  backup_dir: /var/backups/titan
  scripts_dir: ./scripts
secrets:
  console_auth: { env: TITAN_CONSOLE_AUTH }
defaults: { timeout: 10s }
sections:
  - name: Titan
    steps:
      - id: brain_health
        title: 'Brain Service: Status = "ok", Uptime > 0'
        http: { url: "{{vars.brain_url}}/health" }
        capture: { health: $.body.status, uptime: $.body.uptime }
        expect: ['status == 200', 'health == "ok"', 'uptime > 0']
      - id: breaker
        title: 'Circuit Breaker: Not active'
        http: { url: "{{vars.brain_url}}/breaker" }
        capture: { active: $.body.active }
        expect: ['active == false']
      - id: dashboard
        title: All services responding (< 2 second response time)
        http: { url: "{{vars.brain_url}}/dashboard" }
        capture: { nav: $.body.nav, phase1: $.body.phaseEquity.phase1 }
        expect: ['latency_ms < 2000', 'nav > 0', 'phase1 / nav == 0.6']
      - id: funding
        title: 'Funding rates: Check for extreme rates (>±0.1%)'
        http: { url: "{{vars.exchange_url}}/v5/market/funding/history?category=linear&symbol=BTCUSDT&limit=5" }
        capture: { rate: "$.body.result.list[0].fundingRate" }
        expect: ['abs(num(rate)) <= 0.001']
      - id: pm2
        title: 'No services showing "errored" or "stopped" status'
        shell: { run: "{{vars.pm2_bin}} jlist" }
        expect: ['exit_code == 0', '!stdout.contains("errored")', 'stdout.contains("titan-scavenger")']
      - id: log_errors
        title: No critical errors in application logs
        shell: { run: "cat {{vars.log_dir}}/*.log | grep -ciE 'error|critical' || true" }
        expect: ['stdout == "0"']
      - id: reconcile
        title: Force position reconciliation
        http: { url: "{{vars.execution_url}}/api/state/reconcile", method: POST, basic_auth: "{{secrets.console_auth}}" }
        capture: { started: $.body.started }
        expect: ['status == 200', 'started == true']
      - id: console_health
        title: 'Console Service: Status = "ok", Uptime > 0'
        http: { url: "{{vars.console_url}}/health" }
        capture: { health: $.body.status }
        expect: ['health == "ok"']
"#;

fn run_against(sim: &TitanSim) -> Outcome {
    let dir = TestDir::new();
    dir.write("titan.yaml", PLAYBOOK);
    dir.runbook()
        .args(["run", "titan.yaml", "--format", "json"])
        .args(sim.var_args())
        .env("TITAN_CONSOLE_AUTH", &sim.console_auth)
        .run()
}

fn failing(out: &Outcome) -> BTreeSet<String> {
    out.json()["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["verdict"] != "pass")
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn the_healthy_simulator_passes_a_playbook_and_counts_its_post() {
    let sim = TitanSim::start(&[]);
    let out = run_against(&sim);
    assert_eq!(out.code, 0, "{}\n{}\nsim stderr:\n{}", out.stdout, out.stderr, sim.stderr());
    assert!(failing(&out).is_empty());
    let requests = sim.requests();
    assert_eq!(requests["received"]["/api/state/reconcile"], 1, "{requests}");
    assert_eq!(requests["authorized"]["/api/state/reconcile"], 1, "{requests}");
    assert_eq!(requests["received"]["/api/console/flatten-all"], 0, "{requests}");
    assert!(!out.stdout.contains(&sim.console_auth), "the secret leaked into the report");
}

#[test]
fn faults_fail_exactly_the_steps_that_read_them() {
    let faults = ["brain-degraded", "breaker-active", "slow-endpoint", "funding-extreme", "pm2-errored", "log-errors"];
    let sim = TitanSim::start(&faults);
    let out = run_against(&sim);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let expected: BTreeSet<String> =
        ["brain_health", "breaker", "dashboard", "funding", "pm2", "log_errors"].map(String::from).into();
    assert_eq!(failing(&out), expected, "{}", out.stdout);
    assert_eq!(out.step("funding")["captured"]["rate"], "0.003");
    assert_eq!(out.step("brain_health")["captured"]["health"], "degraded");
}

#[test]
fn posts_without_basic_auth_are_refused_and_counted() {
    let sim = TitanSim::start(&[]);
    let execution = sim.var("execution_url");
    for path in
        ["/api/console/flatten-all", "/api/console/cancel-all", "/api/console/master-arm", "/api/state/reconcile"]
    {
        let (status, _) = http("POST", &format!("{execution}{path}"), Some(r#"{"operator_id": "test"}"#));
        assert_eq!(status, 401, "{path}");
    }
    let requests = sim.requests();
    for path in ["/api/console/flatten-all", "/api/console/cancel-all", "/api/console/master-arm"] {
        assert_eq!(requests["received"][path], 1, "{requests}");
        assert_eq!(requests["authorized"][path], 0, "{requests}");
    }
    let (_, arm) = http("GET", &format!("{execution}/api/console/master-arm"), None);
    assert_eq!(arm["enabled"], true, "a refused request changed nothing");
    let (_, positions) = http("GET", &format!("{execution}/positions"), None);
    assert_eq!(positions["count"], 3);
}

#[test]
fn scenarios_change_their_fields_and_healthy_values_stay_inside_the_limits() {
    let healthy = TitanSim::start(&[]);
    let dir = TestDir::new();
    let file = dir.write("faults.yaml", "- master-arm-off\n- api-key-expiring\n");
    let file = file.to_str().expect("utf-8 path");
    let faulty = TitanSim::start_with(&["healthy", "btc-range-12,orphaned-position"], &["--scenario-file", file]);
    let names = ["master-arm-off", "orphaned-position", "btc-range-12", "api-key-expiring"];
    assert_eq!(faulty.requests()["scenarios"], serde_json::json!(names), "flags, commas and the file combine");
    assert_eq!(healthy.requests()["scenarios"], serde_json::json!(["healthy"]));
    let range = |sim: &TitanSim, symbol: &str| {
        let url =
            format!("{}/v5/market/kline?category=linear&symbol={symbol}&interval=60&limit=24", sim.var("exchange_url"));
        let (_, body) = http("GET", &url, None);
        let list = body["result"]["list"].as_array().expect("kline list").clone();
        assert_eq!(list.len(), 24, "limit honoured");
        let field = |c: &Value, i: usize| c[i].as_str().expect("numbers as strings").parse::<f64>().unwrap();
        let high = list.iter().map(|c| field(c, 2)).fold(f64::MIN, f64::max);
        let low = list.iter().map(|c| field(c, 3)).fold(f64::MAX, f64::min);
        (high - low) / low
    };
    assert!(range(&healthy, "BTCUSDT") < 0.03 && range(&healthy, "ETHUSDT") < 0.03);
    assert!(range(&faulty, "BTCUSDT") > 0.11 && range(&faulty, "ETHUSDT") < 0.03);

    let get = |sim: &TitanSim, var: &str, path: &str| http("GET", &format!("{}{path}", sim.var(var)), None).1;
    let healthy_rec = get(&healthy, "execution_url", "/api/state/reconciliation-status");
    assert_eq!(
        (healthy_rec["status"].as_str(), healthy_rec["orphaned"].as_array().map(Vec::len)),
        (Some("ok"), Some(0))
    );
    let faulty_rec = get(&faulty, "execution_url", "/api/state/reconciliation-status");
    assert_eq!(faulty_rec["status"], "mismatch");
    assert_ne!(faulty_rec["shadow_positions"], faulty_rec["exchange_positions"]);
    assert_eq!(get(&faulty, "execution_url", "/api/console/master-arm")["enabled"], false);
    let days_left = |sim: &TitanSim| {
        let config = get(sim, "execution_url", "/api/console/config");
        let expires = config["api_keys"]["bybit"]["expires_at"].as_str().expect("expires_at").to_owned();
        (chrono::DateTime::parse_from_rfc3339(&expires).expect("RFC 3339") - chrono::Utc::now().fixed_offset())
            .num_days()
    };
    assert!(days_left(&healthy) > 30);
    assert!((2..=3).contains(&days_left(&faulty)));

    let (status, bad) = http(
        "GET",
        &format!("{}/v5/market/kline?category=linear&symbol=NOPE&interval=60", healthy.var("exchange_url")),
        None,
    );
    assert_eq!((status, bad["retCode"].as_i64()), (200, Some(10001)));
}

#[test]
fn unknown_scenarios_are_refused_with_the_known_names() {
    let out = Command::new(sim_binary())
        .args(["--port-base", "0", "--no-seed", "--scenario", "breaker-on"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("unknown scenario `breaker-on`") && stderr.contains("breaker-active"), "{stderr}");
}

#[test]
fn sigterm_stops_the_simulator_and_removes_its_temp_state() {
    let mut child = Command::new(sim_binary())
        .args(["--port-base", "0", "--no-seed"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let vars: Value = serde_json::from_str(&line).expect("one JSON line");
    let log_dir = std::path::PathBuf::from(vars["log_dir"].as_str().unwrap());
    assert!(log_dir.join("brain.log").is_file());
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(!log_dir.exists(), "the temp state dir is removed on shutdown");
}

#[test]
fn scenarios_switch_while_the_simulator_runs_except_those_written_at_start() {
    let sim = TitanSim::start(&[]);
    let breaker = || http("GET", &format!("{}/breaker", sim.var("brain_url")), None).1["active"].clone();
    assert_eq!(breaker(), false);
    sim.set_scenarios(&["breaker-active"]);
    assert_eq!(breaker(), true);
    assert_eq!(sim.requests()["scenarios"], serde_json::json!(["breaker-active"]));
    let switch = |body: &str| http("PUT", &format!("{}/_sim/scenarios", sim.var("execution_url")), Some(body));
    let (status, refused) = switch(r#"["pm2-errored"]"#);
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("`pm2-errored` is written into files"), "{refused}");
    let (status, unknown) = switch(r#"["breaker-on"]"#);
    assert_eq!(status, 400);
    assert!(unknown["error"].as_str().unwrap().contains("unknown scenario `breaker-on`"), "{unknown}");
    assert_eq!(breaker(), true, "a refused switch changes nothing");
    sim.set_scenarios(&[]);
    assert_eq!(breaker(), false);
    assert_eq!(sim.requests()["scenarios"], serde_json::json!(["healthy"]));
}
