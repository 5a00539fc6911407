//! Run history on the command line: keeping each run (`runbook run`) and
//! `runbook history`. A run never fails because its history cannot be kept:
//! the problem is a warning and the run goes on without history.

use std::fmt::Write as _;
use std::sync::Arc;

use super::exit;
use crate::cli::{Format, HistoryArgs, RunArgs, StoreArgs};
use crate::history::{Location, Store, StoredRun};
use crate::playbook::Plan;
use crate::record::{Counts, RunRecord};
use crate::runner::HistorySource;

/// A run being kept in the history.
pub(super) struct Recorder {
    store: Store,
    run_id: i64,
}

/// Opens the history for a run of `plan`, loads the earlier values its steps
/// read, and records that the run started. A dry run reads the history, so it
/// judges as the real run would, but is not kept: it skipped its actions, and a
/// rehearsal must not become the `prev()` the real run compares against.
pub(super) async fn begin(args: &RunArgs, plan: &Plan) -> (Option<Recorder>, Option<Arc<dyn HistorySource>>) {
    if args.no_history {
        return (None, None);
    }
    if args.dry_run {
        return match open_to_read(&args.store).await {
            Ok(Some(store)) => (None, earlier_runs(&store, plan).await),
            Ok(None) => (None, None),
            Err(message) => {
                eprintln!("warning: history is off for this run: {message}");
                (None, None)
            }
        };
    }
    begin_in(&args.store, plan).await
}

/// The newest finished run of `playbook` in the history (`None`: none, or no history):
/// the run before, for notifications of failures and recoveries.
pub(super) async fn last_record(args: &StoreArgs, playbook: &str) -> Option<crate::record::RunRecord> {
    let store = open_to_read(args).await.ok()??;
    let runs = store.runs(Some(playbook), 5).await.ok()?;
    runs.iter().find_map(crate::history::StoredRun::record)
}

/// [`begin`] for any command that keeps its runs in the store `args` names.
pub(super) async fn begin_in(args: &StoreArgs, plan: &Plan) -> (Option<Recorder>, Option<Arc<dyn HistorySource>>) {
    let store = match open(args).await {
        Ok(store) => store,
        Err(message) => {
            eprintln!("warning: history is off for this run: {message}");
            return (None, None);
        }
    };
    let source = earlier_runs(&store, plan).await;
    let host = crate::runner::hostname();
    let now = crate::history::now_ms();
    let start = crate::history::RunStart { playbook: &plan.name, file: &plan.file, host: &host, started_ms: now };
    match store.begin_run(&start).await {
        Ok(run_id) => (Some(Recorder { store, run_id }), source),
        Err(e) => {
            eprintln!("warning: this run will not be kept in the history: {e}");
            (None, source)
        }
    }
}

/// The earlier values the steps of `plan` read (`prev` and friends).
async fn earlier_runs(store: &Store, plan: &Plan) -> Option<Arc<dyn HistorySource>> {
    let readers = plan
        .steps
        .iter()
        .filter(|s| s.expect.iter().chain(&s.warn).chain(&s.when).any(|e| e.uses_history))
        .map(|s| s.id.as_str());
    match store.playbook_history(&plan.name, readers, crate::history::now_ms()).await {
        Ok(loaded) => Some(Arc::new(loaded)),
        Err(e) => {
            eprintln!("warning: cannot read earlier runs: {e}");
            None
        }
    }
}

impl Recorder {
    /// Completes the run in the history.
    pub(super) async fn finish(self, record: &RunRecord) {
        if let Err(e) = self.store.finish_run(self.run_id, record).await {
            eprintln!("warning: run {} could not be completed in the history: {e}", self.run_id);
        }
    }
}

/// Opens the store `args` name (or the default), with a message that names it on failure.
pub(super) async fn open(args: &StoreArgs) -> Result<Store, String> {
    let location = Location::resolve(args.history.as_deref())?;
    Store::open(&location).await.map_err(|e| e.to_string())
}

/// Opens the store to read it; `None` when it is a SQLite file that does not exist yet
/// (looking must not create it).
pub(super) async fn open_to_read(args: &StoreArgs) -> Result<Option<Store>, String> {
    let location = Location::resolve(args.history.as_deref())?;
    if let Location::Sqlite(path) = &location
        && !path.exists()
    {
        return Ok(None);
    }
    Store::open(&location).await.map(Some).map_err(|e| e.to_string())
}

/// A runtime for the history commands.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// `runbook history [PLAYBOOK] [--step ID]`.
pub fn history(args: &HistoryArgs) -> u8 {
    let playbook = match args.playbook.as_deref().map(playbook_name).transpose() {
        Ok(name) => name,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::INVALID;
        }
    };
    let listed = runtime().and_then(|rt| {
        rt.block_on(async {
            let Some(store) = open_to_read(&args.store).await? else { return Ok(Vec::new()) };
            store.runs(playbook.as_deref(), args.limit).await.map_err(|e| e.to_string())
        })
    });
    let runs = match listed {
        Ok(runs) => runs,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::FAILED;
        }
    };
    let shown = match (&args.step, args.format) {
        (None, Format::Json) => serde_json::to_string_pretty(&runs).unwrap_or_default() + "\n",
        (None, Format::Text) => runs_table(&runs),
        (Some(step), Format::Json) => serde_json::to_string_pretty(&step_rows(&runs, step)).unwrap_or_default() + "\n",
        (Some(step), Format::Text) => step_table(&step_rows(&runs, step), step),
    };
    print!("{shown}");
    exit::CLEAN
}

/// A playbook's name: the argument itself, or the `name` of the playbook file it names.
fn playbook_name(given: &str) -> Result<String, String> {
    let path = std::path::Path::new(given);
    if !path.is_file() {
        return Ok(given.to_owned());
    }
    crate::playbook::load(path)
        .map(|loaded| loaded.playbook.name)
        .map_err(|e| e.render())
}

fn runs_table(runs: &[StoredRun]) -> String {
    if runs.is_empty() {
        return "no runs in the history yet\n".to_owned();
    }
    let header = ["RUN", "STARTED (UTC)", "PLAYBOOK", "HOST", "OPERATOR", "STATUS", "VERDICT", "STEPS"];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|run| {
            vec![
                run.id.to_string(),
                when(&run.started),
                run.playbook.clone(),
                run.host.clone(),
                run.operator.clone().unwrap_or_else(|| "-".to_owned()),
                run.status.name().to_owned(),
                run.verdict.clone().unwrap_or_else(|| "-".to_owned()),
                run.counts.as_ref().map_or_else(|| "-".to_owned(), counts),
            ]
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
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
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
