//! `runbook fleet PLAYBOOK`: the fleet view from a shared history; exit 0 when
//! the fleet passes, 1 when it fails (a missing host, a step failing on more
//! hosts than allowed, a record not verified), 2 for a usage problem.

use std::path::Path;

use super::error::{CliError, Outcome, failed, invalid};
use super::{exit, load_plan};
use crate::cli::{FleetArgs, FleetFormat};
use crate::fleet::{self, FleetVerdict, Request, TrustedKeys};
use crate::session;
use crate::units::parse_duration;

/// The most expected hosts a file may list: a fleet, not an address book.
const MAX_HOSTS_BYTES: u64 = 1024 * 1024;

pub fn fleet(args: &FleetArgs) -> Outcome {
    let within = parse_duration(&args.within).map_err(|e| invalid(format!("--within: {e}")))?;
    let (playbook, steps, rules) = if Path::new(&args.playbook).is_file() {
        let plan = load_plan(Path::new(&args.playbook), &[])?;
        let steps =
            plan.steps.iter().map(|s| (s.id.clone(), s.title.clone(), plan.sections[s.section].clone())).collect();
        (plan.name, Some(steps), plan.fleet)
    } else {
        (args.playbook.clone(), None, Default::default())
    };
    let expected = args.expect_hosts.as_deref().map(expected_hosts).transpose()?;
    let trusted = args
        .trusted_keys
        .as_deref()
        .map(TrustedKeys::read)
        .transpose()
        .map_err(|e| invalid(format!("--trusted-keys: {e}")))?;
    let request = Request { playbook, steps, rules, expected, within, within_text: args.within.clone(), trusted };
    let view = session::runtime()?
        .block_on(async {
            let store = session::open_to_read(args.store.history.as_deref()).await?;
            match store {
                Some(store) => fleet::gather(&store, &request).await.map(Some),
                None => Ok(None),
            }
        })
        .map_err(failed)?
        .ok_or_else(|| {
            failed("no history to read: runs keep theirs with `--history` (a SQLite file or postgres:// URL)")
        })?;
    let shown = match args.format {
        FleetFormat::Text => fleet::text(&view),
        FleetFormat::Json => serde_json::to_string_pretty(&view).unwrap_or_default() + "\n",
        FleetFormat::Html => fleet::html(&view),
        FleetFormat::Junit => fleet::junit(&view).map_err(failed)?,
    };
    match &args.out {
        Some(path) => crate::atomic_file::write(path, &shown)
            .map_err(|e| failed(format!("cannot write `{}`: {e}", path.display())))?,
        None => print!("{shown}"),
    }
    Ok(if view.verdict == FleetVerdict::Pass { exit::CLEAN } else { exit::FAILED })
}

/// The hosts an `--expect-hosts` file lists: one per line; blank lines and `#` comments skipped.
fn expected_hosts(path: &Path) -> Result<Vec<String>, CliError> {
    let text = crate::input::read_to_string(path, MAX_HOSTS_BYTES)
        .map_err(|e| invalid(format!("--expect-hosts `{}`: {e}", path.display())))?;
    let hosts: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if hosts.is_empty() {
        return Err(invalid(format!("--expect-hosts `{}` lists no host", path.display())));
    }
    Ok(hosts)
}
