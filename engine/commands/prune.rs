//! `runbook history prune`: removes old runs as the flags say, and says what went.

use super::error::{Outcome, failed};
use super::exit;
use super::history::playbook_name;
use crate::cli::{Format, PruneArgs};
use crate::history::describe_pruned;
use crate::playbook::Retention;
use crate::session;

/// `runbook history prune [PLAYBOOK] --keep-runs N --keep-for DUR [--dry-run]`.
pub fn prune(args: &PruneArgs) -> Outcome {
    let playbook = args.playbook.as_deref().map(playbook_name).transpose()?;
    let rule = Retention { keep_runs: args.keep_runs, keep_for: args.keep_for };
    let pruned = session::runtime()?
        .block_on(async {
            let Some(store) = session::open_to_read(args.store.history.as_deref()).await? else {
                return Ok(Vec::new());
            };
            store.prune(playbook.as_deref(), &rule, args.dry_run).await
        })
        .map_err(failed)?;
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&pruned).unwrap_or_default()),
        Format::Text if pruned.is_empty() => println!("no runs in the history yet"),
        Format::Text => pruned.iter().for_each(|p| println!("{}", describe_pruned(p))),
    }
    if pruned.iter().any(|p| p.runs > 0) {
        eprintln!("note: `runbook history --stats` still counts the removed runs (its per-day totals are kept)");
    }
    Ok(exit::CLEAN)
}
