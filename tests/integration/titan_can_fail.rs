//! Every automated step of the daily Titan playbooks can fail: for each one,
//! a run against the real simulator (or, for the host's own resources, a
//! fixture) under which it fails. The steps are read from the playbooks, so a
//! new step that no case fails makes `every_automated_daily_step_has_a_case_that_fails_it`
//! fail. Each case starts one simulator with a group of scenarios, runs the
//! five daily playbooks once each over a copy of a healthy baseline history
//! (so the trend checks are judged, not waved through as "no history"), and
//! asserts exactly which Titan steps fail.
//!
//! "Fails" means the verdict `fail` or `error` (could not observe: a service
//! that is down); for a step with only `warn` checks (a Titan script is
//! missing, AI Quant is not running) it means `warn`, the most it can say.
//! Host steps (CPU, memory, disks, load, swap, the host's journal and
//! packages) judge the test machine, so they are left out of the exact sets;
//! the host fixture proves each of them can fail.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::sim::TitanSim;
use crate::util::{Outcome, Runbook, TestDir};

const DAILY: &[&str] = &["premarket", "hourly", "midday", "postmarket", "end-of-day"];

/// Steps that judge the machine the tests run on, not Titan.
use crate::titan_playbooks::HOST_STEPS;

/// Automated steps no case fails, and why. Keep this short: each entry is a
/// check nobody has shown able to fail.
const NOT_SHOWN: &[(&str, &str)] = &[];

/// Steps shown failing by a test of their own below, not by a simulator case.
const SHOWN_ALONE: &[(&str, &str)] = &[
    ("premarket:host_tools", "host_detectors_warn_on_a_host_without_journal_apt_or_nginx_log"),
    ("postmarket:host_tools", "host_detectors_warn_on_a_host_without_journal_apt_or_nginx_log"),
    ("end-of-day:host_tools", "host_detectors_warn_on_a_host_without_journal_apt_or_nginx_log"),
    ("end-of-day:ssl_brain_certificate", "the_brain_certificate_check_fails_on_a_certificate_no_root_trusts"),
    ("postmarket:ai_quant_address", "an_address_without_a_host_fails_where_it_is_parsed"),
    ("end-of-day:tls_endpoint", "an_address_without_a_host_fails_where_it_is_parsed"),
    ("end-of-day:api_access_patterns", "one_client_flooding_the_access_log_fails_the_access_pattern_check"),
];

/// One run: the simulator's scenarios, the fixture, and the steps that must fail.
struct Case {
    scenarios: &'static [&'static str],
    fixture: Fixture,
    /// `playbook → Titan steps that fail` (exactly; host steps left out).
    fails: &'static [(&'static str, &'static [&'static str])],
    /// Host steps that must fail under the fixture (`playbook:step`).
    host_fails: &'static [&'static str],
}

#[derive(Clone, Copy, PartialEq)]
enum Fixture {
    /// The playbooks as they are, the baseline history.
    None,
    /// Host thresholds no machine meets, a fake journal full of errors and
    /// failed logins and a fake apt with a security update on PATH, and the
    /// baseline history aged by a day with a much smaller database and much
    /// more free disk than now.
    Host,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_playbook(name: &str) -> Value {
    let path = repo().join(format!("playbooks/{name}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn all_steps(book: &Value) -> Vec<Value> {
    book["sections"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["steps"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// `playbook:id` of every automated (not `manual`) step of the daily playbooks.
fn automated_steps() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for name in DAILY {
        for step in all_steps(&read_playbook(name)).iter().filter(|s| s.get("manual").is_none()) {
            out.insert(format!("{name}:{}", step["id"].as_str().expect("step id")));
        }
    }
    out
}

/// Ids of the steps of `book` that only warn (no `expect`): their failure is a warning.
fn warn_only(book: &str) -> BTreeSet<String> {
    all_steps(&read_playbook(book))
        .iter()
        .filter(|s| s.get("manual").is_none() && s.get("expect").is_none() && s.get("warn").is_some())
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect()
}

/// The ids of the steps that failed in `out` (see the module comment).
fn failed(book: &str, out: &Outcome) -> BTreeSet<String> {
    let warn_only = warn_only(book);
    out.json()["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| {
            let id = s["id"].as_str().unwrap_or("");
            matches!(s["verdict"].as_str(), Some("fail" | "error"))
                || (warn_only.contains(id) && s["verdict"] == "warn")
        })
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect()
}

fn explain(out: &Outcome) -> String {
    let lines: Vec<String> = out.json()["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["verdict"] != "pass")
        .map(|s| format!("  {} {}: {}", s["verdict"], s["id"], s["message"]))
        .collect();
    format!("exit {}\n{}\nstderr: {}", out.code, lines.join("\n"), out.stderr)
}

/// `runbook run <playbook> --yes` against `sim` with `history`, the committed answers and `env`.
fn run(sim: &TitanSim, playbook: &Path, name: &str, history: &Path, env: &[(&str, String)]) -> Outcome {
    let mut args: Vec<String> = vec!["run".into(), playbook.display().to_string(), "--format".into(), "json".into()];
    args.extend(sim.var_args());
    args.extend(["--history".into(), history.display().to_string(), "--yes".into()]);
    let answers = repo().join(format!("tests/titan/answers/{name}.yaml"));
    if answers.exists() {
        args.extend(["--answers".into(), answers.display().to_string()]);
    }
    let mut runbook = Runbook::new(&repo()).with_history().args(&args).env("TITAN_CONSOLE_AUTH", &sim.console_auth);
    for (key, value) in env {
        runbook = runbook.env(key, value);
    }
    runbook.run()
}

/// A history store with one healthy run of each daily playbook, made once per test process.
fn baseline_history() -> &'static Path {
    static BASELINE: OnceLock<PathBuf> = OnceLock::new();
    BASELINE.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("titan-baseline-").tempdir().expect("temp dir").keep();
        let history = dir.join("history.db");
        let sim = TitanSim::start(&[]);
        for name in DAILY {
            let out = run(&sim, &repo().join(format!("playbooks/{name}.yaml")), name, &history, &[]);
            assert!(out.code == 0 || out.code == 1, "baseline {name}: {}", explain(&out));
        }
        history
    })
}

/// A private copy of the baseline history (with its write-ahead log) in `dir`.
fn copy_history(dir: &Path) -> PathBuf {
    let base = baseline_history();
    let copy = dir.join("history.db");
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", base.display()));
        if from.exists() {
            std::fs::copy(&from, format!("{}{suffix}", copy.display())).expect("copy history");
        }
    }
    copy
}

/// Shifts every stored value a day back and plants a much smaller database and a
/// much emptier disk in it, so the day-over-day trends judge a jump.
fn age_history(db: &Path) {
    use sqlx::Connection;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let mut conn =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.expect("open history");
        for sql in [
            "UPDATE run_values SET at = at - 86400000",
            "UPDATE runs SET started_at = started_at - 86400000",
            "UPDATE run_values SET value = '1000' WHERE step_id = 'database_growth' AND name = 'size'",
            "UPDATE run_values SET value = '100' WHERE step_id = 'disk_trend' AND name = 'min_free'",
        ] {
            sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        conn.close().await.expect("close history");
    });
}

/// Host thresholds no machine meets: `(playbook, as written, in the fixture)`.
const IMPOSSIBLE_LIMITS: &[(&str, &str, &str)] = &[
    ("premarket", "'cpu_pct < 70'", "'cpu_pct < -1'"),
    ("premarket", "'mem_used_pct < 80'", "'mem_used_pct < -1'"),
    ("premarket", "'disks.all(d, d.free_pct > 20)'", "'disks.all(d, d.free_pct > 101)'"),
    ("premarket", "'load5 < cpus'", "'load5 < -1'"),
    ("premarket", "'swap_used_pct < 10'", "'swap_used_pct < -1'"),
    ("hourly", "'mem_used_pct < 80'", "'mem_used_pct < -1'"),
];

const FAKE_JOURNALCTL: &str = "#!/bin/sh\n# test fixture: a journal full of errors and failed SSH logins\n\
case \"$*\" in\n  *ssh*) i=0; while [ $i -lt 600 ]; do echo 'sshd[7]: Failed password for invalid user admin'; i=$((i+1)); done ;;\n\
  *) echo 'kernel: EXT4-fs error (device sda1): fixture'; echo 'systemd[1]: titan.service: Failed' ;;\nesac\n";
const FAKE_APT: &str = "#!/bin/sh\n# test fixture: one security update pending\necho 'Listing...'\n\
echo 'openssl/stable-security 3.0.15 amd64 [upgradable from: 3.0.14]'\n";

/// The playbook files and extra environment for `fixture`, written into `dir`.
fn prepare(
    fixture: Fixture,
    dir: &TestDir,
    history: &Path,
) -> (BTreeMap<&'static str, PathBuf>, Vec<(&'static str, String)>) {
    let mut books = BTreeMap::new();
    for name in DAILY {
        books.insert(*name, repo().join(format!("playbooks/{name}.yaml")));
    }
    if fixture == Fixture::None {
        return (books, Vec::new());
    }
    for name in DAILY {
        let mut text = std::fs::read_to_string(&books[name]).expect("read playbook");
        for (_, from, to) in IMPOSSIBLE_LIMITS.iter().filter(|(book, _, _)| book == name) {
            assert_eq!(text.matches(from).count(), 1, "{name}.yaml must hold {from} once");
            text = text.replace(from, to);
        }
        books.insert(*name, dir.write(&format!("{name}.yaml"), &text));
    }
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    for (tool, script) in [("journalctl", FAKE_JOURNALCTL), ("apt", FAKE_APT)] {
        let path = dir.write(&format!("bin/{tool}"), script);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    age_history(history);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    (books, vec![("PATH", path)])
}

fn check(case: &Case) {
    let sim = TitanSim::start(case.scenarios);
    let dir = TestDir::new();
    let history = copy_history(dir.path());
    let (books, env) = prepare(case.fixture, &dir, &history);
    let mut got = Vec::new();
    let mut details = Vec::new();
    let mut host_failed = BTreeSet::new();
    for name in DAILY {
        let out = run(&sim, &books[name], name, &history, &env);
        assert!(out.code == 0 || out.code == 1, "{name} under {:?}: {}", case.scenarios, explain(&out));
        let all = failed(name, &out);
        host_failed.extend(all.iter().filter(|id| HOST_STEPS.contains(&id.as_str())).map(|id| format!("{name}:{id}")));
        let titan: BTreeSet<String> = all.into_iter().filter(|id| !HOST_STEPS.contains(&id.as_str())).collect();
        if !titan.is_empty() {
            got.push(((*name).to_owned(), titan));
        }
        details.push(format!("{name}: {}", explain(&out)));
    }
    let want: Vec<(String, BTreeSet<String>)> = case
        .fails
        .iter()
        .map(|(book, ids)| ((*book).to_owned(), ids.iter().map(|s| (*s).to_owned()).collect()))
        .collect();
    assert_eq!(got, want, "scenarios {:?}:\n{}", case.scenarios, details.join("\n"));
    for step in case.host_fails {
        assert!(host_failed.contains(*step), "{step} did not fail under the host fixture:\n{}", details.join("\n"));
    }
}

macro_rules! cases {
    ($($test:ident: $case:expr;)*) => {
        const CASES: &[Case] = &[$($case),*];
        $(
            #[test]
            fn $test() {
                check(&$case);
            }
        )*
    };
}

cases! {
    existing_position_and_config_faults: Case {
        scenarios: &["breaker-active", "master-arm-off", "oversized-position", "allocation-drift"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["circuit_breaker", "master_arm", "phase_allocation", "position_size_limits", "signoff_configuration", "signoff_no_critical", "signoff_positions", "signoff_ready"]),
            ("hourly", &["circuit_breaker"]),
            ("postmarket", &["breaker_reviewed"]),
        ],
        host_fails: &[],
    };
    existing_position_count_and_market_faults: Case {
        scenarios: &["too-many-positions", "funding-extreme", "btc-range-12", "eth-range-12"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["btc_volatility", "eth_volatility", "funding_rates", "funding_rates_eth", "position_count", "signoff_no_critical", "signoff_positions"]),
            ("hourly", &["position_count"]),
        ],
        host_fails: &[],
    };
    existing_pm2_faults_and_a_slow_dashboard: Case {
        scenarios: &["slow-endpoint", "pm2-errored", "pm2-high-cpu", "pm2-high-memory"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["pm2_brain", "pm2_execution", "pm2_no_errored", "pm2_restarts", "pm2_scavenger", "signoff_health", "signoff_no_critical"]),
            ("hourly", &["dashboard_responding"]),
            ("end-of-day", &["health_maintained"]),
        ],
        host_fails: &[],
    };
    existing_log_and_backup_faults: Case {
        scenarios: &["log-errors", "log-warnings", "stale-backup"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["app_critical_errors", "repeated_errors", "signoff_logs", "signoff_no_critical", "warning_count"]),
            ("postmarket", &["backups_completed", "config_backups_completed"]),
            ("end-of-day", &["backups_signoff", "config_backup", "db_backup"]),
        ],
        host_fails: &[],
    };
    existing_integrity_and_configuration_faults: Case {
        scenarios: &["bad-checksum", "retention-exceeded", "api-key-expired", "risk-out-of-range", "whitelist-disabled"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["api_keys", "asset_whitelist", "risk_parameters", "signoff_configuration", "signoff_no_critical", "signoff_ready"]),
            ("end-of-day", &["backup_retention", "backups_signoff", "config_backup_integrity", "db_backup_integrity"]),
        ],
        host_fails: &[],
    };
    existing_trading_faults: Case {
        scenarios: &["approval-low", "execution-failing", "high-leverage", "high-latency", "orphaned-position"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["orphaned_positions", "signoff_no_critical", "signoff_positions"]),
            ("hourly", &["global_leverage", "position_tracking", "signal_latency"]),
            ("midday", &["approval_rates", "execution_success"]),
            ("postmarket", &["orphaned_orders", "performance_trend", "system_latency"]),
            ("end-of-day", &["positions_reconciled", "reconciliation_status"]),
        ],
        host_fails: &[],
    };
    existing_connection_and_order_faults: Case {
        scenarios: &["websocket-down", "websocket-flapping", "pending-orders", "exchange-disconnected", "critical-alert"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["exchanges_connected", "signoff_health", "signoff_no_critical", "websocket_channels"]),
            ("hourly", &["exchange_connections", "monitoring_alerts", "websocket_message_rate", "websocket_reconnects", "websocket_stable"]),
            ("postmarket", &["maintenance_alerts", "pending_orders", "stuck_orders"]),
            ("end-of-day", &["security_alerts", "security_signoff"]),
        ],
        host_fails: &[],
    };
    degraded_services_disconnected_database_stale_reconciliation: Case {
        scenarios: &["services-degraded", "database-disconnected", "reconciliation-stale"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["console_health", "database_connected", "execution_health", "orphaned_positions", "scavenger_health", "signoff_health", "signoff_no_critical", "signoff_positions"]),
            ("hourly", &["console_responding", "database_connections", "execution_responding", "position_tracking", "scavenger_responding"]),
            ("end-of-day", &["positions_reconciled", "reconciliation_status", "summary_execution_uptime", "summary_scavenger_uptime"]),
        ],
        host_fails: &[],
    };
    brain_down: Case {
        scenarios: &["brain-down"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["brain_health", "circuit_breaker", "equity_levels", "phase_allocation", "signoff_configuration", "signoff_health", "signoff_no_critical", "signoff_positions", "signoff_ready"]),
            ("hourly", &["brain_responding", "circuit_breaker", "dashboard_responding", "equity_tracking", "global_leverage"]),
            ("midday", &["approval_rates", "pnl_tracking", "recent_decisions"]),
            ("postmarket", &["breaker_reviewed", "daily_pnl", "daily_return", "max_drawdown", "sharpe_ratio", "win_rate"]),
            ("end-of-day", &["performance_metrics", "summary_brain_uptime", "summary_dashboard"]),
        ],
        host_fails: &[],
    };
    execution_down: Case {
        scenarios: &["execution-down"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["api_keys", "asset_whitelist", "console_health", "database_connected", "exchanges_connected", "execution_health", "master_arm", "orphaned_positions", "phase_allocation", "position_count", "position_size_limits", "risk_parameters", "signoff_configuration", "signoff_health", "signoff_no_critical", "signoff_positions", "signoff_ready", "websocket_channels"]),
            ("hourly", &["console_responding", "database_connections", "exchange_connections", "execution_responding", "monitoring_alerts", "position_count", "position_limits", "position_tracking", "signal_latency", "websocket_message_rate", "websocket_reconnects", "websocket_stable"]),
            ("midday", &["execution_success"]),
            ("postmarket", &["maintenance_alerts", "orphaned_orders", "pending_orders", "performance_trend", "positions_tracked", "stuck_orders", "system_latency"]),
            ("end-of-day", &["force_reconcile", "positions_reconciled", "reconciliation_status", "security_alerts", "security_signoff", "summary_execution_uptime", "summary_signals", "summary_trades"]),
        ],
        host_fails: &[],
    };
    postgres_redis_and_ai_quant_unreachable: Case {
        scenarios: &["postgres-down", "redis-down", "ai-quant-down"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["active_connections", "database_growth", "postgres_connect", "redis_memory", "redis_ping", "signoff_health", "signoff_no_critical"]),
            ("hourly", &["database_writes"]),
            ("postmarket", &["ai_quant_running"]),
        ],
        host_fails: &[],
    };
    nav_jump_and_stale_market_data_and_decisions: Case {
        scenarios: &["nav-jump", "market-data-stale", "decisions-stale"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["btc_volatility", "equity_levels", "eth_volatility", "funding_rates", "funding_rates_eth", "signoff_no_critical", "signoff_positions"]),
            ("hourly", &["equity_tracking"]),
            ("midday", &["recent_decisions"]),
        ],
        host_fails: &[],
    };
    big_loss_miscounted_positions_degraded_performance: Case {
        scenarios: &["big-loss", "positions-miscounted", "performance-degraded"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["position_count", "signoff_no_critical", "signoff_positions"]),
            ("postmarket", &["daily_return", "max_drawdown", "positions_tracked", "sharpe_ratio", "win_rate"]),
            ("end-of-day", &["performance_metrics"]),
        ],
        host_fails: &[],
    };
    stale_logs_missing_scripts_mismatched_pnl: Case {
        scenarios: &["logs-stale", "scripts-missing", "pnl-mismatch"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["app_critical_errors", "app_logs", "database_corruption", "health_check_script", "repeated_errors", "send_status_script", "signoff_logs", "signoff_no_critical", "verify_positions_script", "warning_count"]),
            ("hourly", &["performance_monitor_script"]),
            ("midday", &["pnl_tracking"]),
            ("postmarket", &["backup_status_script", "daily_pnl", "daily_report_script", "performance_summary_script"]),
            ("end-of-day", &["backup_cleanup_script", "backup_integrity_script_present", "backup_status_script", "capacity_metrics_script", "daily_summary_script", "performance_metrics", "reconciliation_report_script", "ssl_status_script"]),
        ],
        host_fails: &[],
    };
    missing_logs_failing_scripts_refused_reconcile: Case {
        scenarios: &["logs-missing", "scripts-failing", "reconcile-refused"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["app_critical_errors", "app_logs", "database_corruption", "health_check", "repeated_errors", "send_status", "signoff_logs", "signoff_no_critical", "verify_positions", "warning_count"]),
            ("hourly", &["performance_monitor"]),
            ("postmarket", &["backup_status", "daily_report", "performance_summary"]),
            ("end-of-day", &["backup_cleanup_dry_run", "backup_integrity_script", "backup_status", "capacity_metrics", "daily_summary_email", "force_reconcile", "reconciliation_report", "security_signoff", "ssl_certificates"]),
        ],
        host_fails: &[],
    };
    unwritable_ops_log_unrotated_log_corruption_ai_quant_degraded: Case {
        scenarios: &["ops-log-unwritable", "log-unrotated", "db-corruption-logged", "ai-quant-degraded"],
        fixture: Fixture::None,
        fails: &[
            ("premarket", &["database_corruption", "document_completion", "signoff_documented", "signoff_logs", "signoff_no_critical"]),
            ("postmarket", &["ai_quant_proposals", "log_rotation"]),
            ("end-of-day", &["document_eod", "documentation_updated", "sessions_completed"]),
        ],
        host_fails: &[],
    };
    host_limits_journal_packages_and_day_old_history: Case {
        scenarios: &[],
        fixture: Fixture::Host,
        fails: &[
            ("premarket", &["database_growth", "signoff_no_critical"]),
            ("end-of-day", &["security_signoff"]),
        ],
        host_fails: &[
            "premarket:cpu_usage", "premarket:memory_usage", "premarket:disk_space", "premarket:load_average",
            "premarket:swap_usage", "premarket:journal_errors", "hourly:host_memory", "postmarket:system_updates",
            "postmarket:disk_trend", "end-of-day:auth_attempts",
        ],
    };
}

#[test]
fn every_automated_daily_step_has_a_case_that_fails_it() {
    let mut shown: BTreeSet<String> = NOT_SHOWN.iter().chain(SHOWN_ALONE).map(|(step, _)| (*step).to_owned()).collect();
    for case in CASES {
        for (book, ids) in case.fails {
            shown.extend(ids.iter().map(|id| format!("{book}:{id}")));
        }
        shown.extend(case.host_fails.iter().map(|s| (*s).to_owned()));
    }
    let missing: Vec<String> = automated_steps().difference(&shown).cloned().collect();
    assert!(missing.is_empty(), "automated steps no case shows failing: {missing:?}");
    let stale: Vec<&str> = NOT_SHOWN.iter().map(|(s, _)| *s).filter(|s| !automated_steps().contains(*s)).collect();
    assert!(stale.is_empty(), "NOT_SHOWN names steps that no longer exist: {stale:?}");
}

/// `runbook run playbooks/<name>.yaml --only <ids>... --format json` with `vars` and `env`.
fn run_only(name: &str, ids: &[&str], vars: &[String], env: &[(&str, String)]) -> Outcome {
    let mut args: Vec<String> = vec!["run".into(), format!("playbooks/{name}.yaml"), "--format".into(), "json".into()];
    for id in ids {
        args.extend(["--only".into(), (*id).to_owned()]);
    }
    for var in vars {
        args.extend(["--var".into(), var.clone()]);
    }
    let mut runbook = Runbook::new(&repo()).args(&args).env("TITAN_CONSOLE_AUTH", "ops:fixture");
    for (key, value) in env {
        runbook = runbook.env(key, value);
    }
    runbook.run()
}

/// The `host_tools` steps warn (their strongest verdict) on a host whose journal is
/// empty, that has no nginx access log and no apt: here a PATH with a silent
/// `journalctl`, and for apt a PATH holding nothing but `sh`.
#[test]
fn host_detectors_warn_on_a_host_without_journal_apt_or_nginx_log() {
    let dir = TestDir::new();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let journalctl = dir.write("bin/journalctl", "#!/bin/sh\n# test fixture: an empty journal\nexit 0\n");
    std::fs::set_permissions(&journalctl, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let quiet = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let only_sh = dir.path().join("only-sh");
    std::fs::create_dir_all(&only_sh).expect("only-sh dir");
    std::os::unix::fs::symlink("/bin/sh", only_sh.join("sh")).expect("link sh");
    for (book, path) in
        [("premarket", quiet.clone()), ("end-of-day", quiet), ("postmarket", only_sh.display().to_string())]
    {
        let out = run_only(book, &["host_tools"], &[], &[("PATH", path)]);
        let step = out.step("host_tools");
        assert_eq!(step["verdict"], "warn", "{book}: {}", explain(&out));
    }
}

/// With an https `brain_url`, the certificate step fails on a certificate no
/// system root trusts (a test CA's, served on 127.0.0.1).
#[test]
fn the_brain_certificate_check_fails_on_a_certificate_no_root_trusts() {
    let dir = TestDir::new();
    crate::tls::make_ca(dir.path());
    crate::tls::make_leaf(dir.path(), "brain", "localhost", 30);
    let server = crate::tls::TlsServer::https(&dir.path().join("brain.pem"), &dir.path().join("brain.key"));
    let brain_url = format!("brain_url=https://127.0.0.1:{}", server.port);
    let out = run_only("end-of-day", &["tls_endpoint", "ssl_brain_certificate"], &[brain_url], &[]);
    let step = out.step("ssl_brain_certificate");
    assert_eq!(step["verdict"], "fail", "{}", explain(&out));
}

/// A service URL with no host in it fails the step that reads the address out of it,
/// not only the probe that would use it.
#[test]
fn an_address_without_a_host_fails_where_it_is_parsed() {
    let out = run_only("postmarket", &["ai_quant_address"], &["ai_quant_url=http://:3004".to_owned()], &[]);
    assert_eq!(out.step("ai_quant_address")["verdict"], "fail", "{}", explain(&out));
    let out = run_only("end-of-day", &["tls_endpoint"], &["brain_url=http://:3100".to_owned()], &[]);
    assert_eq!(out.step("tls_endpoint")["verdict"], "fail", "{}", explain(&out));
}

/// One client making 150,000 requests today, in an access log of today's date, fails
/// "API access patterns normal" (a ceiling judged even without history).
#[test]
fn one_client_flooding_the_access_log_fails_the_access_pattern_check() {
    let dir = TestDir::new();
    let today = chrono::Local::now().format("%d/%b/%Y").to_string();
    let line = format!("203.0.113.9 - - [{today}:09:00:00 +0000] \"GET /api HTTP/1.1\" 200 1 \"-\" \"-\"\n");
    let log = dir.write("access.log", &line.repeat(150_000));
    let out = run_only("end-of-day", &["api_access_patterns"], &[], &[("NGINX_ACCESS_LOG", log.display().to_string())]);
    assert_eq!(out.step("host_tools")["captured"]["nginx_log"], true, "{}", explain(&out));
    assert_eq!(out.step("api_access_patterns")["verdict"], "fail", "{}", explain(&out));
}
