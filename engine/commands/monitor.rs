//! What `runbook watch` and `runbook serve` share: the schedule from the
//! command line, one scheduled run of a playbook (kept in the history like
//! `runbook run`), and stopping on a signal.
//!
//! Both are unattended, so action steps never run: they are skipped with
//! what they would do, exactly as under `runbook run --dry-run`.
//!
//! Stopping: the first SIGTERM or Ctrl-C lets the run in progress finish and
//! then stops (exit 0: a stop that was asked for is not a failure); a second
//! one cuts the run short (exit 143 or 130, as `runbook run`).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::exit;
use crate::cli::{MonitorRunArgs, ScheduleArgs};
use crate::monitor::schedule::{Schedule, Zone, parse_days, parse_window};
use crate::playbook::Plan;
use crate::units::parse_duration;
use crate::record::RunRecord;
use crate::runner::{self, RunOptions, confirm::RefuseAll};
use crate::secrets::Secrets;

/// The schedule `--every`, `--between`, `--days` and `--tz` describe.
pub(super) fn schedule(every: &str, args: &ScheduleArgs) -> Result<Schedule, String> {
    let every = parse_duration(every).map_err(|e| format!("--every: {e}"))?;
    if every.is_zero() {
        return Err("--every: the interval must be longer than zero".to_owned());
    }
    let window = args.between.as_deref().map(parse_window).transpose().map_err(|e| format!("--between: {e}"))?;
    let days = args.days.as_deref().map(parse_days).transpose().map_err(|e| format!("--days: {e}"))?;
    let zone = Zone::parse(&args.tz).map_err(|e| format!("--tz: {e}"))?;
    Ok(Schedule { every, window, days: days.unwrap_or([true; 7]), zone })
}

/// A playbook ready to run again and again.
pub(super) struct Prepared {
    pub plan: Plan,
    pub secrets: Secrets,
    /// Where results go: the playbook's `notify:` and the `--notify` file's targets.
    pub notify: Vec<crate::notify::Target>,
    /// The run before (for failures and recoveries); `None` until one is known.
    pub previous: Option<RunRecord>,
}

/// Loads, validates and reads the secrets of `file`; problems are printed.
pub(super) fn prepare(file: &std::path::Path, args: &MonitorRunArgs) -> Option<Prepared> {
    let plan = super::load_plan(file, &args.vars)?;
    let notify = match crate::playbook::notify_file::targets(&plan.notify, args.notify.as_deref()) {
        Ok(targets) => targets,
        Err(message) => {
            eprintln!("error: {message}");
            return None;
        }
    };
    match crate::secrets::resolve(&plan.secrets, &plan.base_dir) {
        Ok((secrets, warnings)) => {
            for warning in warnings {
                eprintln!("warning: {warning}");
            }
            Some(Prepared { plan, secrets, notify, previous: None })
        }
        Err(message) => {
            eprintln!("error: {message}");
            None
        }
    }
}

/// One run of `prepared`, kept in the history unless `--no-history`; stops early on a second signal.
/// Then the notifications it calls for are sent (never failing the run).
pub(super) async fn run_once(prepared: &mut Prepared, args: &MonitorRunArgs, signals: &Signals) -> RunRecord {
    if !prepared.notify.is_empty() && prepared.previous.is_none() && !args.no_history {
        prepared.previous = super::history::last_record(&args.store, &prepared.plan.name).await;
    }
    let (recorder, history) =
        if args.no_history { (None, None) } else { super::history::begin_in(&args.store, &prepared.plan).await };
    let mut second = signals.receiver();
    let stop = Box::pin(async move {
        let _ = second.wait_for(|s| s.count >= 2).await;
        "stopped by a second signal".to_owned()
    });
    let options =
        RunOptions { jobs: usize::from(args.jobs), history, stop, confirm: Arc::new(RefuseAll), dry_run: true };
    let record = runner::run(prepared.plan.clone(), prepared.secrets.clone(), options, &mut |_| {}).await;
    if let Some(recorder) = recorder {
        recorder.finish(&record).await;
    }
    if !prepared.notify.is_empty() {
        crate::notify::deliver(&prepared.notify, &record, prepared.previous.as_ref()).await;
        prepared.previous = Some(record.clone());
    }
    record
}

/// The signals received so far.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Received {
    pub count: u32,
    /// The exit code the last one implies.
    pub code: u8,
}

/// SIGTERM and Ctrl-C, counted.
pub(super) struct Signals {
    rx: watch::Receiver<Received>,
}

impl Signals {
    /// Starts listening; call inside the runtime.
    pub fn listen() -> Self {
        let (tx, rx) = watch::channel(Received::default());
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            loop {
                let terminate = async {
                    match term.as_mut() {
                        Some(t) => {
                            t.recv().await;
                        }
                        None => std::future::pending().await,
                    }
                };
                let code = tokio::select! {
                    _ = tokio::signal::ctrl_c() => exit::INTERRUPTED,
                    () = terminate => exit::TERMINATED,
                };
                tx.send_modify(|r| {
                    r.count += 1;
                    r.code = code;
                });
                if tx.borrow().count == 1 {
                    eprintln!("stopping after the run in progress (signal again to stop at once)");
                }
            }
        });
        Self { rx }
    }

    pub fn receiver(&self) -> watch::Receiver<Received> {
        self.rx.clone()
    }

    pub fn received(&self) -> Received {
        *self.rx.borrow()
    }

    /// The exit code once stopped: 0 after a clean stop, 130/143 when a run was cut short.
    pub fn exit_code(&self) -> u8 {
        let r = self.received();
        if r.count >= 2 { r.code } else { exit::CLEAN }
    }

    /// Sleeps until `at`; false when a signal came first.
    pub async fn sleep_until(&self, at: DateTime<Utc>) -> bool {
        let mut rx = self.receiver();
        if rx.borrow().count > 0 {
            return false;
        }
        let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = rx.wait_for(|r| r.count > 0) => {}
        }
        self.received().count == 0
    }
}

/// "1m 5s" for a report line.
pub(super) fn show(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 { format!("{secs:.1}s") } else { format!("{}m {}s", d.as_secs() / 60, d.as_secs() % 60) }
}
