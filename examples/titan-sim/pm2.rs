//! The fake `pm2`: a small sh script at `<state>/bin/pm2` with the process
//! list baked in for the active scenarios. `pm2 jlist` prints the contract's
//! JSON, `pm2 status` a table, `pm2 logs [name] [--lines N]` the tail of the
//! log files (and exits, unlike the real one); anything else is a no-op.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::scenario::{Scenario, Scenarios};

const MIB: u64 = 1024 * 1024;

/// `(name, log file)` of the Titan processes pm2 runs.
pub const PROCESSES: &[(&str, &str)] =
    &[("titan-brain", "brain.log"), ("titan-execution", "execution.log"), ("titan-scavenger", "scavenger.log")];

/// The `pm2 jlist` document.
pub fn jlist(scenarios: &Scenarios, started_ms: i64) -> Value {
    let entry = |name: &str, status: &str, restarts: u32, cpu: f64, memory: u64| {
        json!({
            "name": name,
            "pm2_env": {"status": status, "restart_time": restarts, "pm_uptime": started_ms},
            "monit": {"cpu": cpu, "memory": memory},
        })
    };
    let brain_memory = if scenarios.has(Scenario::Pm2HighMemory) { 350 * MIB } else { 120 * MIB };
    let execution_cpu = if scenarios.has(Scenario::Pm2HighCpu) { 85.0 } else { 18.0 };
    let (scavenger_status, scavenger_restarts) =
        if scenarios.has(Scenario::Pm2Errored) { ("errored", 7) } else { ("online", 0) };
    json!([
        entry("titan-brain", "online", 0, 12.5, brain_memory),
        entry("titan-execution", "online", 0, execution_cpu, 180 * MIB),
        entry("titan-scavenger", scavenger_status, scavenger_restarts, 7.5, 95 * MIB),
    ])
}

/// Writes the script and returns its path.
pub fn write(state_dir: &Path, log_dir: &Path, scenarios: &Scenarios, started_ms: i64) -> std::io::Result<PathBuf> {
    let list = jlist(scenarios, started_ms);
    let table: String = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{:<18} {:<8} restarts={:<3} cpu={}% mem={}MB\n",
                p["name"].as_str().unwrap_or_default(),
                p["pm2_env"]["status"].as_str().unwrap_or_default(),
                p["pm2_env"]["restart_time"],
                p["monit"]["cpu"],
                p["monit"]["memory"].as_u64().unwrap_or_default() / MIB,
            )
        })
        .collect();
    let names: String =
        PROCESSES.iter().map(|(name, log)| format!("      {name}) files=\"$files {log}\" ;;\n")).collect();
    let all_logs: Vec<&str> = PROCESSES.iter().map(|(_, log)| *log).collect();
    let script = format!(
        r#"#!/bin/sh
# titan-sim's fake pm2 (scenarios: {scenarios}).
case "$1" in
  jlist) printf '%s\n' {jlist} ;;
  status|ls|list) printf '%s' {table} ;;
  logs)
    shift; lines=15; files=''
    while [ $# -gt 0 ]; do
      case "$1" in
      --lines) [ $# -gt 1 ] && {{ lines="$2"; shift; }} ;;
{names}      esac
      shift
    done
    [ -n "$files" ] || files='{all_logs}'
    cd {log_dir} && for f in $files; do tail -n "$lines" "$f"; done ;;
  *) echo "[PM2] titan-sim: \`pm2 $*\` does nothing here" ;;
esac
"#,
        scenarios = scenarios.names().join(", "),
        jlist = sh_quote(&list.to_string()),
        table = sh_quote(&table),
        all_logs = all_logs.join(" "),
        log_dir = sh_quote(&log_dir.to_string_lossy()),
    );
    let bin = state_dir.join("bin");
    std::fs::create_dir_all(&bin)?;
    let path = bin.join("pm2");
    crate::files::write_executable(&path, &script)?;
    Ok(path)
}

/// `text` as one single-quoted sh word.
pub fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
