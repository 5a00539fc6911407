//! `runbook history PLAYBOOK --stats [--window 7d]`: per step, how often it
//! held and the spread of its numeric captures over the window, which starts
//! at the UTC midnight on or before `now - window` (stats are kept per UTC day).

use super::error::{Outcome, failed};
use super::exit;
use super::history::table;
use crate::cli::{Format, HistoryArgs};
use crate::history::{StepStats, shown};
use crate::session;

/// What `--format json` prints.
#[derive(serde::Serialize)]
struct Shown<'a> {
    playbook: &'a str,
    /// RFC 3339: the window's start, a UTC midnight.
    since: String,
    steps: Vec<StepStats>,
}

pub fn stats(args: &HistoryArgs, playbook: &str) -> Outcome {
    let window_ms = i64::try_from(args.window.as_millis()).unwrap_or(i64::MAX);
    let since_ms = crate::history::window_start(crate::history::now_ms().saturating_sub(window_ms));
    let steps = session::runtime()?
        .block_on(async {
            let Some(store) = session::open_to_read(args.store.history.as_deref()).await? else {
                return Ok(Vec::new());
            };
            store.stats(playbook, since_ms).await
        })
        .map_err(failed)?;
    let since = crate::history::rfc3339(since_ms);
    match args.format {
        Format::Json => {
            let shown = Shown { playbook, since, steps };
            println!("{}", serde_json::to_string_pretty(&shown).unwrap_or_default());
        }
        Format::Text if steps.is_empty() => println!("no runs of `{playbook}` since {}", day(since_ms)),
        Format::Text => {
            println!("`{playbook}` since {} (whole UTC days; percentiles within 0.5%)", day(since_ms));
            print!("{}", stats_table(&steps));
        }
    }
    Ok(exit::CLEAN)
}

/// One row per step: `db_size  12  91.7%  1  0  size p50=2000 p95=2400 (12)`.
pub fn stats_table(steps: &[StepStats]) -> String {
    let header = ["STEP", "RUNS", "OK", "FAIL", "ERROR", "CAPTURES (≈ p50 / p95)"];
    let rows: Vec<Vec<String>> = steps
        .iter()
        .map(|s| {
            let captures: Vec<String> = s
                .captures
                .iter()
                .map(|c| format!("{} {} / {} ({})", c.name, shown(c.p50), shown(c.p95), c.count))
                .collect();
            vec![
                s.step.clone(),
                s.judged.to_string(),
                format!("{:.1}%", s.ok_pct()),
                s.fail.to_string(),
                s.error.to_string(),
                if captures.is_empty() { "-".to_owned() } else { captures.join(", ") },
            ]
        })
        .collect();
    table(&header, &rows)
}

/// A window start as the header shows it: `2026-11-25 00:00 UTC`.
pub fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().format("%Y-%m-%d %H:%M UTC").to_string()
}
