//! The backup folder: `db-<YYYY-MM-DD>.dump` and `config-<YYYY-MM-DD>.tar.gz`
//! for today and the six days before (local dates), each with a `.sha256`
//! beside it in `sha256sum` format (so `sha256sum -c` works from the folder),
//! modification times matching their day. The dump is a placeholder, not a
//! restorable pg_dump archive; the config archive is a real tar.gz (made with
//! the system's `tar`). `stale-backup` shifts everything three days back,
//! `bad-checksum` breaks the newest dump's and config archive's checksums, `retention-exceeded` leaves
//! a 45-day-old set behind.

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use chrono::{DateTime, Duration, Local};
use sha2::{Digest, Sha256};

use crate::scenario::{Scenario, Scenarios};

/// Days of backups kept (today included).
pub const KEPT_DAYS: i64 = 7;

pub fn write(state_dir: &Path, dir: &Path, scenarios: &Scenarios, now: DateTime<Local>) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    let config_dir = state_dir.join("config");
    std::fs::create_dir_all(&config_dir).map_err(|e| e.to_string())?;
    std::fs::write(config_dir.join("titan.json"), "{\"phase_allocation\": {\"phase1\": 0.6, \"phase2\": 0.4}}\n")
        .map_err(|e| e.to_string())?;

    let first = if scenarios.has(Scenario::StaleBackup) { 3 } else { 0 };
    let mut days: Vec<i64> = (first..first + KEPT_DAYS).collect();
    if scenarios.has(Scenario::RetentionExceeded) {
        days.push(45);
    }
    // Backups ran half an hour ago (or at midnight, if the day is younger than that).
    let since_midnight = now - now.with_time(chrono::NaiveTime::MIN).single().unwrap_or(now);
    let taken = now - since_midnight.min(Duration::minutes(30));
    for age in days {
        let at = taken - Duration::days(age);
        let date = at.format("%Y-%m-%d").to_string();
        let dump = format!("db-{date}.dump");
        let dump_text = format!("PGDMP titan-sim placeholder dump of titan_brain taken {date}\n").repeat(512);
        std::fs::write(dir.join(&dump), dump_text).map_err(|e| e.to_string())?;
        let config = format!("config-{date}.tar.gz");
        let made = Command::new("tar")
            .arg("-czf")
            .arg(dir.join(&config))
            .arg("-C")
            .arg(state_dir)
            .arg("config")
            .status()
            .map_err(|e| format!("cannot run `tar`: {e}"))?;
        if !made.success() {
            return Err(format!("`tar` could not write `{config}`"));
        }
        let broken = age == first && scenarios.has(Scenario::BadChecksum);
        for file in [&dump, &config] {
            let path = dir.join(file);
            let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
            let hashed: &[u8] = if broken { b"not the backup" } else { &bytes };
            let sum = dir.join(format!("{file}.sha256"));
            std::fs::write(&sum, format!("{}  {file}\n", hex(&Sha256::digest(hashed)))).map_err(|e| e.to_string())?;
            let mtime = SystemTime::from(at);
            for touched in [&path, &sum] {
                let handle = std::fs::File::options().write(true).open(touched).map_err(|e| e.to_string())?;
                handle.set_modified(mtime).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
