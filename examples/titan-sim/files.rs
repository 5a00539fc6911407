//! The log folder and the scripts folder under the state dir.
//!
//! Logs (`<state>/logs`): `brain.log`, `execution.log`, `scavenger.log` with
//! INFO lines and one WARN each over the last six hours, and `daily-ops.log`
//! with the previous days' sign-off lines. Healthy lines never contain
//! "error", "critical", "warning" or "fail" in any case, so a case-insensitive
//! grep finds only what a scenario planted; `logs-missing`, `logs-stale`,
//! `log-unrotated` and `ops-log-unwritable` take the logs themselves away.
//! Scripts (`<state>/scripts`): a stub for every script the runbook calls; each
//! records its call in `<state>/scripts/calls.log` and reports success (or, under
//! `scripts-failing`, failure; `scripts-missing` writes none).

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use crate::pm2::sh_quote;
use crate::scenario::{Scenario, Scenarios};

/// Every script the runbook calls as `./scripts/<name>`.
pub const RUNBOOK_SCRIPTS: &[&str] = &[
    "health-check.sh",
    "verify-positions.sh",
    "send-daily-status.sh",
    "performance-monitor.sh",
    "generate-daily-report.sh",
    "performance-summary.sh",
    "check-backup-status.sh",
    "daily-reconciliation.sh",
    "verify-backup-integrity.sh",
    "cleanup-old-backups.sh",
    "check-ssl-status.sh",
    "generate-daily-summary.sh",
    "update-capacity-metrics.sh",
    "weekly-performance-review.sh",
    "check-maintenance-schedule.sh",
    "capacity-planning-review.sh",
    "performance-trend-analysis.sh",
    "health-trend-analysis.sh",
    "config-drift-check.sh",
    "generate-weekly-report.sh",
    "review-ai-recommendations.sh",
    "plan-weekend-maintenance.sh",
    "monthly-performance-review.sh",
    "update-capacity-plan.sh",
    "monthly-security-audit.sh",
    "update-documentation.sh",
    "rotate-api-keys.sh",
];

const INFO: &[&str] = &[
    "heartbeat ok",
    "signal processed in 31ms",
    "position snapshot stored",
    "funding rates refreshed",
    "websocket ping ok",
    "risk check passed",
];

pub fn write_executable(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

/// How far a `log-unrotated` file has grown: past the 100 MB the runbook's rotation allows.
const UNROTATED_BYTES: u64 = 101 * 1024 * 1024;

/// Writes the log folder for `scenarios` as of `now`.
pub fn write_logs(dir: &Path, scenarios: &Scenarios, now: DateTime<Utc>) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    // `logs-stale`: the services stopped logging two days ago.
    let written = if scenarios.has(Scenario::LogsStale) { now - Duration::days(2) } else { now };
    for (process, file) in crate::pm2::PROCESSES {
        if scenarios.has(Scenario::LogsMissing) {
            continue;
        }
        let lines = app_log_lines(process, file, scenarios, written);
        let sparse = scenarios.has(Scenario::LogUnrotated) && *file == "execution.log";
        write_app_log(&dir.join(file), &lines, sparse, written)?;
    }
    write_ops_log(dir, scenarios, now)
}

/// One service's log lines, oldest first, ending at `now`.
fn app_log_lines(process: &str, file: &str, scenarios: &Scenarios, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, String)> {
    let mut lines: Vec<(DateTime<Utc>, String)> = (0..36i64)
        .map(|i| {
            let at = now - Duration::minutes(10 * (36 - i));
            (at, format!("INFO [{process}] {}", INFO[i as usize % INFO.len()]))
        })
        .collect();
    lines.push((now - Duration::minutes(185), format!("WARN [{process}] exchange ping slow: 840ms")));
    if scenarios.has(Scenario::LogWarnings) && file == "execution.log" {
        for i in 0..240 {
            lines.push((now - Duration::seconds(60 * 60 - 15 * i), format!("WARN [{process}] order book stale by 3s")));
        }
    }
    if scenarios.has(Scenario::LogErrors) {
        match file {
            "execution.log" => {
                for i in 0..5 {
                    let message = format!("ERROR [{process}] order submit rejected by bybit: retCode 10006");
                    lines.push((now - Duration::minutes(40 - 5 * i), message));
                }
            }
            "brain.log" => {
                lines.push((now - Duration::minutes(22), format!("CRITICAL [{process}] equity feed stale for 120s")));
            }
            _ => {}
        }
    }
    if scenarios.has(Scenario::DbCorruptionLogged) && file == "brain.log" {
        let message = format!(
            "ERROR [{process}] database: invalid page in block 4242 of relation base/16384/16402 (data corrupted)"
        );
        lines.push((now - Duration::minutes(15), message));
    }
    lines.sort_by_key(|(at, _)| *at);
    lines
}

/// Writes `lines` (after a 101 MiB hole when `sparse`) and dates the file `written`.
fn write_app_log(
    path: &Path,
    lines: &[(DateTime<Utc>, String)],
    sparse: bool,
    written: DateTime<Utc>,
) -> std::io::Result<()> {
    let mut out = std::fs::File::create(path)?;
    if sparse {
        use std::io::{Seek, SeekFrom};
        out.seek(SeekFrom::Start(UNROTATED_BYTES))?;
    }
    for (at, line) in lines {
        writeln!(out, "{} {line}", at.format("%Y-%m-%dT%H:%M:%S%.3fZ"))?;
    }
    out.set_modified(written.into())
}

/// `daily-ops.log` with the last three days' sign-off lines; under
/// `ops-log-unwritable` a directory stands where the file should be.
fn write_ops_log(dir: &Path, scenarios: &Scenarios, now: DateTime<Utc>) -> std::io::Result<()> {
    let path = dir.join("daily-ops.log");
    if scenarios.has(Scenario::OpsLogUnwritable) {
        return std::fs::create_dir_all(path);
    }
    let mut ops = std::fs::File::create(path)?;
    for days in (1..=3).rev() {
        let day = (now - Duration::days(days)).with_timezone(&chrono::Local);
        writeln!(ops, "{}: Pre-market check completed successfully", day.format("%a %b %e %H:%M:%S %Y"))?;
        writeln!(ops, "{}: End-of-day procedures completed", day.format("%a %b %e %H:%M:%S %Y"))?;
    }
    Ok(())
}

/// Writes a stub for every script the runbook calls: none under
/// `scripts-missing`, stubs that report failure (exit 1) under `scripts-failing`.
pub fn write_scripts(dir: &Path, scenarios: &Scenarios) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if scenarios.has(Scenario::ScriptsMissing) {
        return Ok(());
    }
    let calls = sh_quote(&dir.join("calls.log").to_string_lossy());
    let (result, exit) = if scenarios.has(Scenario::ScriptsFailing) { ("FAILED", 1) } else { ("ok", 0) };
    for name in RUNBOOK_SCRIPTS {
        let script = format!(
            "#!/bin/sh\n# titan-sim stub of Titan's {name}: records the call, reports {result}.\n\
             echo \"$(date -u +%Y-%m-%dT%H:%M:%SZ) {name} $*\" >> {calls}\necho \"{name}: {result} (titan-sim stub)\"\nexit {exit}\n"
        );
        write_executable(&dir.join(name), &script)?;
    }
    Ok(())
}
