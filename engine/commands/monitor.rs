//! What `runbook watch` and `runbook serve` share: the schedule from the
//! command line and a session per playbook.
//!
//! Both are unattended, so action steps never run: they are skipped with
//! what they would do, exactly as under `runbook run --dry-run`.
//!
//! Stopping: the first SIGTERM or Ctrl-C lets the run in progress finish and
//! then stops (exit 0: a stop that was asked for is not a failure); a second
//! one cuts the run short (exit 143 or 130, as `runbook run`).

use std::sync::Arc;
use std::time::Duration;

use super::error::{CliError, invalid};
use super::{load_plan, warn};
use crate::cli::{MonitorRunArgs, ScheduleArgs};
use crate::monitor::schedule::{Schedule, Zone, parse_days, parse_window};
use crate::record::RunRecord;
use crate::runner::confirm::RefuseAll;
use crate::session::{AtSecond, Session, Signals};
use crate::units::parse_duration;

/// The schedule `--every`, `--between`, `--days` and `--tz` describe.
pub(super) fn schedule(every: &str, args: &ScheduleArgs) -> Result<Schedule, CliError> {
    let every = parse_duration(every).map_err(|e| invalid(format!("--every: {e}")))?;
    if every.is_zero() {
        return Err(invalid("--every: the interval must be longer than zero"));
    }
    let window =
        args.between.as_deref().map(parse_window).transpose().map_err(|e| invalid(format!("--between: {e}")))?;
    let days = args.days.as_deref().map(parse_days).transpose().map_err(|e| invalid(format!("--days: {e}")))?;
    let zone = Zone::parse(&args.tz).map_err(|e| invalid(format!("--tz: {e}")))?;
    Ok(Schedule { every, window, days: days.unwrap_or([true; 7]), zone })
}

/// Loads, validates and reads the secrets of `file`; problems are printed.
pub(super) fn prepare(file: &std::path::Path, args: &MonitorRunArgs) -> Result<Session, CliError> {
    let mut plan = load_plan(file, &args.vars)?;
    super::config::add_waivers(&mut plan, args.waivers.as_deref())?;
    let config = super::config::monitor_session(args)?;
    if let Some(shard) = config.identity.shard {
        plan.keep_shard(shard);
    }
    let (session, warnings) = Session::prepare(plan, config, warn)?;
    warnings.iter().for_each(|w| warn(w));
    Ok(session)
}

/// Starts counting signals: the first asks for a stop after the run in progress.
pub(super) fn signals() -> Signals {
    Signals::listen(AtSecond::Count, || {
        eprintln!("stopping after the run in progress (signal again to stop at once)");
    })
}

/// One run of `session`; a second signal cuts it short.
pub(super) async fn run_once(session: &mut Session, signals: &Signals) -> RunRecord {
    let stop = Box::pin(signals.after(2));
    session.run(stop, Arc::new(RefuseAll), &mut |_| {}, &mut |_| {}).await
}

/// "1m 5s" for a report line.
pub(super) fn show(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 { format!("{secs:.1}s") } else { format!("{}m {}s", d.as_secs() / 60, d.as_secs() % 60) }
}
