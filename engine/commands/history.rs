//! `runbook history`: the runs kept, or one step across them.

use std::fmt::Write as _;

use super::error::{CliError, Outcome, failed, invalid};
use super::exit;
use crate::cli::{Format, HistoryAction, HistoryArgs};
use crate::history::StoredRun;
use crate::record::Counts;
use crate::session;

/// `runbook history [PLAYBOOK] [--step ID | --stats]`, `runbook history prune` or `verify`.
pub fn history(args: &HistoryArgs) -> Outcome {
    match &args.action {
        Some(HistoryAction::Prune(prune)) => return super::prune::prune(prune),
        Some(HistoryAction::Verify(verify)) => return super::history_verify::verify(verify),
        None => {}
    }
    let playbook = args.playbook.as_deref().map(playbook_name).transpose()?;
    if let (true, Some(playbook)) = (args.stats, &playbook) {
        return super::history_stats::stats(args, playbook);
    }
    let (runs, known) = session::runtime()?
        .block_on(async {
            let Some(store) = session::open_to_read(args.store.history.as_deref()).await? else {
                return Ok((Vec::new(), Vec::new()));
            };
            let runs = store.with_signoffs(store.runs(playbook.as_deref(), args.limit).await?).await?;
            // Only when a named playbook has no runs: the names the history does know.
            let known = match &playbook {
                Some(_) if runs.is_empty() => known_playbooks(&store).await?,
                _ => Vec::new(),
            };
            Ok::<_, crate::history::HistoryError>((runs, known))
        })
        .map_err(failed)?;
    if let (Some(name), true) = (&playbook, runs.is_empty()) {
        // A playbook file is known whether or not it ran; a bare name may be a typo.
        let given_file = args.playbook.as_deref().is_some_and(|p| std::path::Path::new(p).is_file());
        if !given_file {
            return Err(unknown_playbook(name, &known));
        }
        if args.format == Format::Text {
            println!("no runs of `{name}` in the history yet");
            return Ok(exit::CLEAN);
        }
    }
    let shown = match (&args.step, args.format) {
        (None, Format::Json) => serde_json::to_string_pretty(&runs).unwrap_or_default() + "\n",
        (None, Format::Text) => runs_table(&runs),
        (Some(step), Format::Json) => serde_json::to_string_pretty(&step_rows(&runs, step)).unwrap_or_default() + "\n",
        (Some(step), Format::Text) => step_table(&step_rows(&runs, step), step),
    };
    print!("{shown}");
    Ok(exit::CLEAN)
}

/// How many of the newest runs are searched for the names of the playbooks
/// the history knows: enough for any history a person reads in a terminal,
/// bounded so a huge store is not read whole for a hint.
const NAMES_FROM_RUNS: u32 = 2000;

/// The playbook names in the newest runs, each once, in first-seen order.
async fn known_playbooks(store: &crate::history::Store) -> Result<Vec<String>, crate::history::HistoryError> {
    let mut names: Vec<String> = Vec::new();
    for run in store.runs(None, NAMES_FROM_RUNS).await? {
        if !names.contains(&run.playbook) {
            names.push(run.playbook);
        }
    }
    Ok(names)
}

/// `history NAME` found nothing: the history has no playbook by that name.
fn unknown_playbook(name: &str, known: &[String]) -> CliError {
    if known.is_empty() {
        return invalid(format!("no runs of `{name}`: the history has no runs yet"));
    }
    let hint = crate::suggest::did_you_mean(name, known.iter().map(String::as_str))
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    let listed: Vec<String> = known.iter().take(10).map(|k| format!("`{k}`")).collect();
    let more = if known.len() > 10 { ", …" } else { "" };
    invalid(format!(
        "no runs of `{name}`: no playbook by that name in the history{hint} (it has {}{more})",
        listed.join(", ")
    ))
}

/// A playbook's name: the argument itself, or the `name` of the playbook file it names.
pub(super) fn playbook_name(given: &str) -> Result<String, CliError> {
    let path = std::path::Path::new(given);
    if !path.is_file() {
        return Ok(given.to_owned());
    }
    crate::playbook::load(path).map(|loaded| loaded.playbook.name).map_err(|e| invalid(e.render()))
}

fn runs_table(runs: &[StoredRun]) -> String {
    if runs.is_empty() {
        return "no runs in the history yet\n".to_owned();
    }
    let mut header = vec!["RUN", "STARTED (UTC)", "PLAYBOOK", "HOST", "OPERATOR", "STATUS", "VERDICT", "STEPS"];
    // Only when some run needs (or has) more than one sign-off, so other histories read as before.
    let four_eyes = runs.iter().any(|r| r.signoff.is_some());
    if four_eyes {
        header.push("SIGN-OFF");
    }
    // Only when a listed run is a follow-up (`run --rerun-failed`): the run it followed up.
    let follow_ups = runs.iter().any(|run| run.follow_up_of.is_some());
    if follow_ups {
        header.push("FOLLOW-UP OF");
    }
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|run| {
            let follows = run.follow_up_of.map_or_else(|| "-".to_owned(), |id| format!("run {id}"));
            let mut row = vec![
                run.id.to_string(),
                when(&run.started),
                run.playbook.clone(),
                run.host.clone(),
                run.operator.clone().unwrap_or_else(|| "-".to_owned()),
                run.status.name().to_owned(),
                run.verdict.clone().unwrap_or_else(|| "-".to_owned()),
                run.counts.as_ref().map_or_else(|| "-".to_owned(), counts),
            ];
            if four_eyes {
                let by = if run.countersigned_by.is_empty() {
                    String::new()
                } else {
                    format!(", countersigned by {}", run.countersigned_by.join(", "))
                };
                row.push(format!("{}{by}", run.signoff.as_deref().unwrap_or("-")));
            }
            if follow_ups {
                row.push(follows);
            }
            row
        })
        .collect();
    table(&header, &rows)
}

/// One step of one run, for `--step`.
#[derive(serde::Serialize)]
struct StepRow {
    run: i64,
    playbook: String,
    started: String,
    verdict: String,
    captured: std::collections::BTreeMap<String, serde_json::Value>,
    message: String,
}

fn step_rows(runs: &[StoredRun], step_id: &str) -> Vec<StepRow> {
    runs.iter()
        .filter_map(|run| {
            let record = run.record()?;
            let step = record.steps.into_iter().find(|s| s.id == step_id)?;
            Some(StepRow {
                run: run.id,
                playbook: run.playbook.clone(),
                started: run.started.clone(),
                verdict: step.verdict.name().to_owned(),
                captured: step.captured,
                message: step.message,
            })
        })
        .collect()
}

fn step_table(rows: &[StepRow], step_id: &str) -> String {
    if rows.is_empty() {
        return format!("no stored run has a step `{step_id}`\n");
    }
    let header = ["RUN", "STARTED (UTC)", "PLAYBOOK", "VERDICT", "CAPTURED"];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let captured: Vec<String> = row.captured.iter().map(|(k, v)| format!("{k}={v}")).collect();
            vec![
                row.run.to_string(),
                when(&row.started),
                row.playbook.clone(),
                row.verdict.clone(),
                if captured.is_empty() { "-".to_owned() } else { captured.join(", ") },
            ]
        })
        .collect();
    table(&header, &cells)
}

/// `2026-11-25T21:40:01.123Z` → `2026-11-25 21:40:01`.
fn when(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " ")
}

/// `3 pass, 1 fail`: the verdicts that occurred.
fn counts(c: &Counts) -> String {
    let all = [
        (c.pass, "pass"),
        (c.warn, "warn"),
        (c.fail, "fail"),
        (c.error, "error"),
        (c.skipped, "skipped"),
        (c.pending, "pending"),
    ];
    let shown: Vec<String> = all.iter().filter(|(n, _)| *n > 0).map(|(n, name)| format!("{n} {name}")).collect();
    if shown.is_empty() { "-".to_owned() } else { shown.join(", ") }
}

/// Left-aligned columns two spaces apart; the last column is not padded.
pub(super) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let last = row.len().saturating_sub(1);
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i == last {
                let _ = write!(out, "{cell}");
            } else {
                let _ = write!(out, "{cell:w$}  ");
            }
        }
        out.push('\n');
    }
    out
}
