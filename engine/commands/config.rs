//! Command-line arguments turned, once, into checked settings: a duration is
//! a `Duration`, the history choice a [`HistoryMode`]. What lies below the
//! command layer gets these, never clap's types.

use std::path::PathBuf;
use std::time::Duration;

use super::error::{CliError, invalid};
use crate::cli::{MonitorRunArgs, RunArgs, RunFormat};
use crate::record::Shard;
use crate::session::{self, HistoryMode};
use crate::units::parse_duration;

/// `runbook run`, checked.
pub struct RunConfig {
    pub file: PathBuf,
    pub vars: Vec<(String, String)>,
    /// `--only` ids and `--section` names; both empty: every step.
    pub only: Vec<String>,
    pub sections: Vec<String>,
    pub session: session::Config,
    pub deadline: Option<Duration>,
    pub format: RunFormat,
    pub out: Option<PathBuf>,
    /// Who confirms actions and signs, as given (`--operator`, `RUNBOOK_OPERATOR`).
    pub operator: Option<String>,
    /// `--yes`: actions run without asking.
    pub yes: bool,
    pub dry_run: bool,
}

impl RunConfig {
    pub fn new(args: &RunArgs) -> Result<Self, CliError> {
        let deadline = args
            .deadline
            .as_deref()
            .map(parse_duration)
            .transpose()
            .map_err(|e| invalid(format!("--deadline: {e}")))?;
        let history = match (args.no_history, args.dry_run) {
            (true, _) => HistoryMode::Off,
            (false, true) => HistoryMode::Read,
            (false, false) => HistoryMode::Keep,
        };
        let session = session::Config {
            store: args.store.history.clone(),
            history,
            notify_file: args.notify.clone(),
            jobs: usize::from(args.jobs),
            skip_actions: args.dry_run,
            tell: !args.dry_run,
            identity: identity(&args.identity)?,
            signer: None,
            observations: args.show_observed.then(Default::default),
        };
        Ok(Self {
            file: args.file.clone(),
            vars: args.vars.clone(),
            only: args.only.clone(),
            sections: args.sections.clone(),
            session,
            deadline,
            format: args.format,
            out: args.out.clone(),
            operator: args.operator.clone(),
            yes: args.yes,
            dry_run: args.dry_run,
        })
    }
}

/// `--host`, `--label`, `--group` and `--shard`, checked.
fn identity(args: &crate::cli::IdentityArgs) -> Result<crate::record::Identity, CliError> {
    let shard = args.shard.as_deref().map(Shard::parse).transpose().map_err(|e| invalid(format!("--shard: {e}")))?;
    let host = args.host.as_deref().map(str::trim).filter(|h| !h.is_empty()).map(str::to_owned);
    let group = args.group.as_deref().map(str::trim).filter(|g| !g.is_empty()).map(str::to_owned);
    Ok(crate::record::Identity { host, labels: args.labels.iter().cloned().collect(), group, shard })
}

/// `watch` and `serve`: unattended, so action steps are only shown, but runs are kept and told.
pub fn monitor_session(args: &MonitorRunArgs) -> Result<session::Config, CliError> {
    Ok(session::Config {
        store: args.store.history.clone(),
        history: if args.no_history { HistoryMode::Off } else { HistoryMode::Keep },
        notify_file: args.notify.clone(),
        jobs: usize::from(args.jobs),
        skip_actions: true,
        tell: true,
        identity: identity(&args.identity)?,
        signer: None,
        observations: None,
    })
}

/// Adds the waivers of `--waivers FILE`, checked against the plan, to the playbook's own.
pub fn add_waivers(plan: &mut crate::playbook::Plan, file: Option<&std::path::Path>) -> Result<(), CliError> {
    if let Some(path) = file {
        let more = crate::playbook::waivers_file::load(path, plan).map_err(invalid)?;
        plan.waivers.extend(more);
    }
    Ok(())
}
