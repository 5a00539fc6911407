//! Every Titan playbook against the Titan simulator (real PostgreSQL and
//! Redis, the simulator's fake `pm2`, log, backup and script folders): on the
//! healthy simulator every automated step passes; for each fault scenario
//! exactly the expected set of steps fails. The emergency actions send nothing
//! on a dry run and exactly one request each when confirmed.
//!
//! The playbooks get only the simulator's `--var`s, as a real deployment
//! would. Host steps (CPU, memory, load, swap, disks, the host's journal,
//! packages and services) judge the machine the tests run on, not Titan, so
//! they are left out of the failing sets; the tests still require that they
//! ran (never `error`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::sim::TitanSim;
use crate::util::{Outcome, Runbook, TestDir};

/// Every playbook a scenario runs through (the emergency actions are tested on their own).
const PLAYBOOKS: &[&str] = &[
    "premarket",
    "hourly",
    "midday",
    "postmarket",
    "end-of-day",
    "weekly-monday",
    "weekly-wednesday",
    "weekly-friday",
    "monthly",
    "troubleshooting",
];

/// Steps whose verdict depends on the test machine, not on the simulator.
pub const HOST_STEPS: &[&str] = &[
    "cpu_usage",
    "memory_usage",
    "disk_space",
    "load_average",
    "swap_usage",
    "host_memory",
    "system_updates",
    "disk_trend",
    "disk_capacity",
    "journal_errors",
    "auth_attempts",
    "api_access_patterns",
    "postgres_service",
    "nginx_config",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `runbook run playbooks/<name>.yaml` with the simulator's vars, a history
/// store, the committed answers and `extra` arguments, as JSON.
fn run(sim: &TitanSim, name: &str, history: &Path, extra: &[&str]) -> Outcome {
    let mut args: Vec<String> = vec!["run".into(), format!("playbooks/{name}.yaml"), "--format".into(), "json".into()];
    args.extend(sim.var_args());
    args.extend(["--history".into(), history.display().to_string()]);
    let answers = format!("tests/titan/answers/{name}.yaml");
    if repo().join(&answers).exists() {
        args.extend(["--answers".into(), answers]);
    }
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    Runbook::new(&repo()).with_history().args(&args).env("TITAN_CONSOLE_AUTH", &sim.console_auth).run()
}

fn steps(out: &Outcome) -> Vec<Value> {
    out.json()["steps"].as_array().cloned().unwrap_or_default()
}

/// Ids of the steps that failed or errored, host steps left out.
fn failing(out: &Outcome) -> BTreeSet<String> {
    steps(out)
        .iter()
        .filter(|s| s["verdict"] == "fail" || s["verdict"] == "error")
        .filter_map(|s| s["id"].as_str())
        .filter(|id| !HOST_STEPS.contains(id))
        .map(str::to_owned)
        .collect()
}

/// A short account of the steps that did not pass, for assertion messages.
fn explain(out: &Outcome) -> String {
    let lines: Vec<String> = steps(out)
        .iter()
        .filter(|s| s["verdict"] != "pass")
        .map(|s| format!("  {} {}: {}", s["verdict"], s["id"], s["message"]))
        .collect();
    format!("exit {}\n{}\nstderr: {}", out.code, lines.join("\n"), out.stderr)
}

/// Runs every playbook against a simulator with `scenarios` and returns the
/// failing step ids per playbook (empty sets left out).
fn failing_sets(scenarios: &[&str]) -> Vec<(String, BTreeSet<String>, String)> {
    let sim = TitanSim::start(scenarios);
    let dir = TestDir::new();
    let history = dir.path().join("history.db");
    PLAYBOOKS
        .iter()
        .map(|name| {
            let out = run(&sim, name, &history, &["--yes"]);
            assert!(out.code == 0 || out.code == 1, "{name}: {}", explain(&out));
            for step in steps(&out).iter().filter(|s| HOST_STEPS.contains(&s["id"].as_str().unwrap_or(""))) {
                assert_ne!(step["verdict"], "error", "{name}: host step {} errored: {}", step["id"], step["message"]);
            }
            ((*name).to_owned(), failing(&out), explain(&out))
        })
        .filter(|(_, set, _)| !set.is_empty())
        .collect()
}

fn assert_failing(scenarios: &[&str], expected: &[(&str, &[&str])]) {
    let found = failing_sets(scenarios);
    let want: Vec<(String, BTreeSet<String>)> = expected
        .iter()
        .map(|(book, ids)| ((*book).to_owned(), ids.iter().map(|s| (*s).to_owned()).collect()))
        .collect();
    let got: Vec<(String, BTreeSet<String>)> = found.iter().map(|(b, s, _)| (b.clone(), s.clone())).collect();
    let details: Vec<&str> = found.iter().map(|(_, _, e)| e.as_str()).collect();
    assert_eq!(got, want, "scenario {scenarios:?}:\n{}", details.join("\n"));
}

#[test]
fn every_playbook_passes_against_the_healthy_simulator() {
    let sim = TitanSim::start(&[]);
    let dir = TestDir::new();
    let history = dir.path().join("history.db");
    for name in PLAYBOOKS {
        let out = run(&sim, name, &history, &["--yes"]);
        let all = steps(&out);
        assert!(!all.is_empty(), "{name}: {}", explain(&out));
        for step in &all {
            let id = step["id"].as_str().unwrap_or("");
            let verdict = step["verdict"].as_str().unwrap_or("");
            if HOST_STEPS.contains(&id) {
                assert_ne!(verdict, "error", "{name}: {id}: {}", step["message"]);
            } else {
                assert!(matches!(verdict, "pass" | "warn" | "skipped"), "{name}: {id} is {verdict}\n{}", explain(&out));
            }
        }
        let host_failed = all.iter().any(|s| s["verdict"] == "fail" || s["verdict"] == "error");
        assert_eq!(out.code, i32::from(host_failed), "{name}: {}", explain(&out));
    }
}

#[test]
fn a_second_healthy_run_judges_the_trends_from_history_and_still_passes() {
    let sim = TitanSim::start(&[]);
    let dir = TestDir::new();
    let history = dir.path().join("history.db");
    let trends = [
        ("premarket", "pm2_restarts"),
        ("premarket", "equity_levels"),
        ("hourly", "equity_tracking"),
        ("postmarket", "win_rate"),
        ("postmarket", "performance_trend"),
    ];
    for name in ["premarket", "hourly", "postmarket"] {
        run(&sim, name, &history, &["--yes"]);
        let out = run(&sim, name, &history, &["--yes"]);
        assert_eq!(failing(&out), BTreeSet::new(), "{name}: {}", explain(&out));
        for (_, id) in trends.iter().filter(|(book, _)| *book == name) {
            let step = out.step(id);
            assert_eq!(step["verdict"], "pass", "{name}: {id}: {}", step["message"]);
            let message = step["message"].as_str().unwrap_or("");
            assert!(!message.contains("no earlier value"), "{name}: {id} found no history: {message}");
        }
    }
}

#[test]
fn restarts_since_the_last_run_fail_the_restart_trend() {
    let dir = TestDir::new();
    let history = dir.path().join("history.db");
    let healthy = TitanSim::start(&[]);
    // Whole runs: history keeps complete runs only.
    let first = run(&healthy, "premarket", &history, &["--yes"]);
    // A first run has no earlier count: not judged, so a warning (`on_no_history` default).
    assert_eq!(first.step("pm2_restarts")["verdict"], "warn", "{}", explain(&first));
    assert_eq!(first.step("pm2_restarts")["not_judged"]["rule"], "warn", "{}", explain(&first));
    drop(healthy);
    let errored = TitanSim::start(&["pm2-errored"]);
    let second = run(&errored, "premarket", &history, &["--yes"]);
    let step = second.step("pm2_restarts");
    assert_eq!(step["verdict"], "fail", "{step}\n{}", explain(&second));
    assert!(step["message"].as_str().unwrap_or("").contains("restarts"), "{}", step["message"]);
}

const EMERGENCY_PATHS: [&str; 3] = ["/api/console/flatten-all", "/api/console/master-arm", "/api/console/cancel-all"];

fn emergency_counts(sim: &TitanSim) -> Vec<(String, u64, u64)> {
    let requests = sim.requests();
    EMERGENCY_PATHS
        .iter()
        .map(|p| {
            let received = requests["received"][p].as_u64().unwrap_or(u64::MAX);
            let authorized = requests["authorized"][p].as_u64().unwrap_or(u64::MAX);
            ((*p).to_owned(), received, authorized)
        })
        .collect()
}

#[test]
fn emergency_dry_run_sends_nothing_and_a_confirmed_run_sends_each_action_once() {
    let sim = TitanSim::start(&[]);
    let dir = TestDir::new();
    let history = dir.path().join("history.db");
    let zero: Vec<(String, u64, u64)> = EMERGENCY_PATHS.iter().map(|p| ((*p).to_owned(), 0, 0)).collect();

    let dry = run(&sim, "emergency", &history, &["--dry-run"]);
    assert_eq!(dry.code, 0, "{}", explain(&dry));
    for id in ["flatten_all", "disarm_master_arm", "cancel_all"] {
        let step = dry.step(id);
        assert_eq!(step["verdict"], "skipped", "{id}: {step}");
        assert!(step["message"].as_str().unwrap_or("").starts_with("dry run: would POST"), "{id}: {step}");
    }
    assert_eq!(emergency_counts(&sim), zero, "a dry run sent requests");

    let unconfirmed = run(&sim, "emergency", &history, &[]);
    assert_eq!(unconfirmed.code, 1, "{}", explain(&unconfirmed));
    assert_eq!(emergency_counts(&sim), zero, "an unconfirmed run sent requests");

    let confirmed = run(&sim, "emergency", &history, &["--yes"]);
    assert_eq!(confirmed.code, 0, "{}", explain(&confirmed));
    let once: Vec<(String, u64, u64)> = EMERGENCY_PATHS.iter().map(|p| ((*p).to_owned(), 1, 1)).collect();
    assert_eq!(emergency_counts(&sim), once, "each action is sent once, with the console credentials");
    assert_eq!(sim.requests()["last_body"]["/api/console/master-arm"]["enabled"], false);
    assert!(!confirmed.stdout.contains(&sim.console_auth), "the credentials leaked into the output");
}

macro_rules! scenarios {
    ($($test:ident: $scenario:literal => [$(($book:literal, [$($id:literal),* $(,)?])),* $(,)?];)*) => {$(
        #[test]
        fn $test() {
            assert_failing(&[$scenario], &[$(($book, &[$($id),*])),*]);
        }
    )*};
}

scenarios! {
    breaker_active: "breaker-active" => [
        ("premarket", ["circuit_breaker", "signoff_configuration", "signoff_no_critical", "signoff_ready"]), ("hourly", ["circuit_breaker"]), ("postmarket", ["breaker_reviewed"]),
    ];
    master_arm_off: "master-arm-off" => [("premarket", ["master_arm", "signoff_configuration", "signoff_no_critical", "signoff_ready"])];
    orphaned_position: "orphaned-position" => [
        ("premarket", ["orphaned_positions", "signoff_no_critical", "signoff_positions"]),
        ("hourly", ["position_tracking"]),
        ("postmarket", ["orphaned_orders"]),
        ("end-of-day", ["positions_reconciled", "reconciliation_status"]),
    ];
    oversized_position: "oversized-position" => [("premarket", ["position_size_limits", "signoff_no_critical", "signoff_positions"])];
    too_many_positions: "too-many-positions" => [("premarket", ["position_count", "signoff_no_critical", "signoff_positions"]), ("hourly", ["position_count"])];
    allocation_drift: "allocation-drift" => [("premarket", ["phase_allocation", "signoff_no_critical", "signoff_positions"])];
    funding_extreme: "funding-extreme" => [("premarket", ["funding_rates", "funding_rates_eth", "signoff_no_critical"])];
    btc_range_12: "btc-range-12" => [("premarket", ["btc_volatility", "signoff_no_critical"])];
    eth_range_12: "eth-range-12" => [("premarket", ["eth_volatility", "signoff_no_critical"])];
    slow_endpoint: "slow-endpoint" => [("hourly", ["dashboard_responding"])];
    pm2_errored: "pm2-errored" => [
        ("premarket", ["pm2_no_errored", "pm2_scavenger", "signoff_health", "signoff_no_critical"]),
        ("end-of-day", ["health_maintained"]),
        ("weekly-wednesday", ["health_trend"]),
        ("troubleshooting", ["pm2_processes"]),
    ];
    pm2_high_cpu: "pm2-high-cpu" => [("premarket", ["pm2_execution", "signoff_health", "signoff_no_critical"])];
    pm2_high_memory: "pm2-high-memory" => [("premarket", ["pm2_brain", "signoff_health", "signoff_no_critical"]), ("troubleshooting", ["titan_memory"])];
    log_errors: "log-errors" => [
        ("premarket", ["app_critical_errors", "repeated_errors", "signoff_logs", "signoff_no_critical"]), ("troubleshooting", ["recent_log_errors"]),
    ];
    log_warnings: "log-warnings" => [("premarket", ["signoff_logs", "signoff_no_critical", "warning_count"])];
    stale_backup: "stale-backup" => [("postmarket", ["backups_completed", "config_backups_completed"]), ("end-of-day", ["config_backup", "db_backup", "backups_signoff"])];
    bad_checksum: "bad-checksum" => [("end-of-day", ["backups_signoff", "config_backup_integrity", "db_backup_integrity"])];
    retention_exceeded: "retention-exceeded" => [("end-of-day", ["backup_retention", "backups_signoff"])];
    api_key_expired: "api-key-expired" => [("premarket", ["api_keys", "signoff_configuration", "signoff_no_critical", "signoff_ready"]), ("monthly", ["api_keys_before"])];
    risk_out_of_range: "risk-out-of-range" => [("premarket", ["risk_parameters", "signoff_configuration", "signoff_no_critical", "signoff_ready"])];
    whitelist_disabled: "whitelist-disabled" => [("premarket", ["asset_whitelist", "signoff_configuration", "signoff_no_critical", "signoff_ready"])];
    approval_low: "approval-low" => [("midday", ["approval_rates"])];
    execution_failing: "execution-failing" => [("midday", ["execution_success"])];
    high_leverage: "high-leverage" => [("hourly", ["global_leverage"])];
    high_latency: "high-latency" => [("hourly", ["signal_latency"]), ("postmarket", ["system_latency"]), ("weekly-wednesday", ["latency_trend"])];
    websocket_down: "websocket-down" => [("premarket", ["signoff_health", "signoff_no_critical", "websocket_channels"]), ("hourly", ["websocket_message_rate", "websocket_stable"]), ("troubleshooting", ["websocket_console"])];
    websocket_flapping: "websocket-flapping" => [("hourly", ["websocket_reconnects"])];
    pending_orders: "pending-orders" => [("postmarket", ["pending_orders", "stuck_orders"])];
    exchange_disconnected: "exchange-disconnected" => [
        ("premarket", ["exchanges_connected", "signoff_health", "signoff_no_critical"]), ("hourly", ["exchange_connections"]), ("monthly", ["api_keys_after", "verify_functionality"]),
    ];
    critical_alert: "critical-alert" => [
        ("hourly", ["monitoring_alerts"]), ("postmarket", ["maintenance_alerts"]), ("end-of-day", ["security_alerts", "security_signoff"]),
    ];
}

/// A key that expires in days is still valid: it warns (rotate soon), it does not fail.
#[test]
fn an_expiring_api_key_warns_without_failing() {
    assert_failing(&["api-key-expiring"], &[]);
    let sim = TitanSim::start(&["api-key-expiring"]);
    let dir = TestDir::new();
    let history = dir.path().join("history.db");
    for (book, id) in [("premarket", "api_keys"), ("monthly", "api_keys_before")] {
        let out = run(&sim, book, &history, &["--only", id]);
        let step = out.step(id);
        assert_eq!(step["verdict"], "warn", "{book}: {}", explain(&out));
    }
}
