//! `runbook history verify`: checks the kept runs' chains and names every break by run id.

use std::fmt::Write as _;

use super::error::{Outcome, failed, invalid};
use super::exit;
use super::history::playbook_name;
use crate::cli::{Format, VerifyArgs};
use crate::history::{ChainReport, Verified};
use crate::session;

/// `runbook history verify [PLAYBOOK] [--host H]`: exit 0 intact, 1 broken.
pub fn verify(args: &VerifyArgs) -> Outcome {
    let playbook = args.playbook.as_deref().map(playbook_name).transpose()?;
    let verified = session::runtime()?
        .block_on(async {
            let Some(store) = session::open_to_read(args.store.history.as_deref()).await? else {
                return Ok(None);
            };
            store.verify_chains(playbook.as_deref(), args.host.as_deref()).await.map(Some)
        })
        .map_err(failed)?;
    // Nothing to check is not "intact": a mistyped name or store must not read as a clean audit.
    let Some(verified) = verified.filter(|v| !v.chains.is_empty() || v.before_chain > 0 || v.unfinished > 0) else {
        return Err(invalid("no runs to verify: check the history location, playbook and --host"));
    };
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&verified).unwrap_or_default()),
        Format::Text => print!("{}", text(&verified)),
    }
    Ok(if verified.intact { exit::CLEAN } else { exit::FAILED })
}

fn text(verified: &Verified) -> String {
    let mut out = String::new();
    for chain in &verified.chains {
        let _ = writeln!(out, "{}", chain_line(chain));
        for broken in &chain.breaks {
            let _ = writeln!(out, "  BROKEN {}", broken.describe());
        }
    }
    if verified.before_chain > 0 {
        let _ = writeln!(out, "{} run(s) stored before the chain began (not checked)", verified.before_chain);
    }
    if verified.unfinished > 0 {
        let _ = writeln!(out, "{} unfinished run(s) (still running or killed; never chained)", verified.unfinished);
    }
    let breaks: usize = verified.chains.iter().map(|c| c.breaks.len()).sum();
    if verified.intact {
        out.push_str("history intact\n");
    } else {
        let _ = writeln!(out, "history BROKEN: {breaks} problem(s)");
    }
    out
}

/// `` `nightly` on db1: 12 runs, head #12 (run 40) 3f2a…; starts after 5 pruned runs (anchor #5 ab12…) ``
fn chain_line(chain: &ChainReport) -> String {
    let mut line = format!("`{}` on {}: {} run(s)", chain.playbook, chain.host, chain.runs);
    if let Some(head) = &chain.head {
        let _ = write!(line, ", head #{} (run {}) {}", head.seq, head.run, head.hash);
    }
    if let Some(anchor) = &chain.anchor {
        let _ = write!(line, "; starts after {} pruned run(s) (anchor #{} {})", anchor.pruned, anchor.seq, anchor.hash);
    }
    if chain.before_anchor > 0 {
        let _ = write!(line, "; {} older run(s) kept beside the anchor, each checked alone", chain.before_anchor);
    }
    line
}
