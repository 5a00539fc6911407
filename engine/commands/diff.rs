//! `runbook diff RUN_A RUN_B` (or `runbook diff RUN --against previous`): what
//! changed between two stored runs. Exit 0 when nothing did, 1 when something
//! did (as diff(1)), 2 when a run cannot be found or has no record.

use std::fmt::Write as _;

use super::error::{CliError, Outcome, failed, invalid};
use super::exit;
use crate::cli::{DiffArgs, Format};
use crate::history::{Store, StoredRun};
use crate::record::RunRecord;
use crate::record::diff::RunDiff;
use crate::session;

/// How far back `--against previous` looks for the run before.
const LOOK_BACK_RUNS: u32 = 10_000;

pub fn diff(args: &DiffArgs) -> Outcome {
    let (before, after) = session::runtime()?.block_on(async {
        let store = session::open_to_read(args.store.history.as_deref())
            .await
            .map_err(failed)?
            .ok_or_else(|| invalid("no history to read"))?;
        let after_id = args.second.unwrap_or(args.first);
        let after = stored(&store, after_id).await?;
        let before = match (args.second, args.against_previous()) {
            (Some(_), false) => stored(&store, args.first).await?,
            (None, true) => previous(&store, &after).await?,
            _ => return Err(invalid("give two run ids, or one with `--against previous`")),
        };
        Ok::<_, CliError>((before, after))
    })?;
    let (a, b) = (record(&before)?, record(&after)?);
    let diff = RunDiff::between(&a, &b);
    let shown = match args.format {
        Format::Json => {
            let json = serde_json::json!({"before": before.id, "after": after.id, "diff": diff});
            serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
        }
        Format::Text => text(&diff, &before, &after),
    };
    print!("{shown}");
    Ok(if diff.is_empty() { exit::CLEAN } else { exit::FAILED })
}

async fn stored(store: &Store, id: i64) -> Result<StoredRun, CliError> {
    store.run(id).await.map_err(failed)?.ok_or_else(|| invalid(format!("no run {id} in the history")))
}

/// The newest finished run of the same playbook and host that started before `run`.
async fn previous(store: &Store, run: &StoredRun) -> Result<StoredRun, CliError> {
    let runs = store.runs(Some(&run.playbook), LOOK_BACK_RUNS).await.map_err(failed)?;
    runs.into_iter()
        .filter(|r| r.host == run.host && r.record.is_some())
        .find(|r| (r.started.as_str(), r.id) < (run.started.as_str(), run.id))
        .ok_or_else(|| invalid(format!("run {} has no earlier run of `{}` on {}", run.id, run.playbook, run.host)))
}

fn record(run: &StoredRun) -> Result<RunRecord, CliError> {
    run.record().ok_or_else(|| invalid(format!("run {} has no record (it never finished)", run.id)))
}

fn text(diff: &RunDiff, before: &StoredRun, after: &StoredRun) -> String {
    let mut out = format!(
        "run {} ({}) -> run {} ({}): {} -> {}\n",
        before.id,
        before.started,
        after.id,
        after.started,
        diff.verdict.0.name(),
        diff.verdict.1.name()
    );
    if diff.is_empty() {
        out.push_str("no change\n");
        return out;
    }
    for v in &diff.verdicts {
        let _ = writeln!(out, "  {} [{}]: {} -> {}  {}", v.title, v.id, v.before.name(), v.after.name(), v.message);
    }
    for v in &diff.values {
        let pct = v.change_pct.map(|p| format!(" ({p:+.1}%)")).unwrap_or_default();
        let _ = writeln!(out, "  {}.{}: {} -> {}{pct}", v.step, v.name, v.before, v.after);
    }
    for id in &diff.added {
        let _ = writeln!(out, "  + {id} (new in run {})", after.id);
    }
    for id in &diff.removed {
        let _ = writeln!(out, "  - {id} (not in run {})", after.id);
    }
    out
}
