//! One run of a playbook from a validated plan to a kept and told record:
//! history opened (earlier values for `prev()`, the "started" marker) →
//! runner → sign-off → record kept → notifications. `run`, `watch` and
//! `serve` only adapt a [`Session`]: they print, prompt and pick the exit
//! code; nothing here reads the command line or writes to the terminal.

mod keep;
pub mod signals;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use keep::{last_record, open, open_to_read};
pub use signals::{AtSecond, Received, Signals};

use crate::notify::Target;
use crate::playbook::Plan;
use crate::record::{Identity, RunRecord};
use crate::runner::{self, Event, RunOptions, confirm::Confirm};
use crate::secrets::{self, Redactor, Secrets};

pub use crate::runner::Stopper as Stop;

/// What a session does with the history store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryMode {
    /// Neither read nor written (`--no-history`).
    Off,
    /// Earlier values are read so trends judge as in a real run, but the run is
    /// not kept: a rehearsal (`--dry-run`) must not become the next run's `prev()`.
    Read,
    /// Read, and the run kept.
    Keep,
}

/// How a session runs, decided once from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// The history store (`--history`, `RUNBOOK_HISTORY`); `None` is the default location.
    pub store: Option<String>,
    pub history: HistoryMode,
    /// A `--notify` file, whose targets join the playbook's own.
    pub notify_file: Option<std::path::PathBuf>,
    /// Steps in flight at once.
    pub jobs: usize,
    /// Action steps are shown with what they would do, not run.
    pub skip_actions: bool,
    /// Whether the notification targets hear of the run (a rehearsal tells nobody).
    pub tell: bool,
    /// The host, labels, group and shard the run is kept under.
    pub identity: Identity,
    /// Signs the record as the history keeps it (`--sign`), so the fleet view can check who wrote it.
    pub signer: Option<RecordSigner>,
    /// Where each step's observation is kept for showing (`run --show-observed`).
    pub observations: Option<runner::Observations>,
}

/// Signs a record's stored text; returns the signature file's text (minisign format).
#[derive(Clone)]
pub struct RecordSigner(pub Arc<crate::history::SignRecord>);

impl std::fmt::Debug for RecordSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordSigner")
    }
}

/// Why a session could not start.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Notify(#[from] crate::playbook::error::NotifyFileError),
    #[error(transparent)]
    Secrets(#[from] secrets::SecretError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// A playbook ready to run, once or on a schedule.
pub struct Session {
    pub plan: Plan,
    pub secrets: Secrets,
    pub redactor: Redactor,
    /// Where results go: the playbook's `notify:` and the `--notify` file's targets.
    pub notify: Vec<Target>,
    config: Config,
    /// The run before, for failures and recoveries; `None` until one is known.
    previous: Option<RunRecord>,
    /// Where warnings go (the history is off, …): a run never fails for them.
    warn: fn(&str),
}

impl Session {
    /// Checks the notification targets and reads the secrets; also returns
    /// warnings about the secrets (a file others can read).
    pub fn prepare(plan: Plan, config: Config, warn: fn(&str)) -> Result<(Self, Vec<String>), SessionError> {
        let targets = crate::playbook::notify_file::targets(&plan.notify, config.notify_file.as_deref())?;
        let notify = if config.tell { targets } else { Vec::new() };
        let (secrets, warnings) = secrets::resolve(&plan.secrets, &plan.base_dir)?;
        let redactor = Redactor::new(&secrets);
        Ok((Self { plan, secrets, redactor, notify, config, previous: None, warn }, warnings))
    }

    /// One run until `stop`; `sign_off` adds manual answers and the signer before the record is
    /// kept and told. Opening the history may wait on a busy store: `stop` ends that wait too.
    pub async fn run(
        &mut self,
        mut stop: Stop,
        confirm: Arc<dyn Confirm>,
        on_event: &mut dyn FnMut(Event<'_>),
        sign_off: &mut dyn FnMut(&mut RunRecord),
    ) -> RunRecord {
        let mode = self.config.history;
        let want_previous = !self.notify.is_empty() && self.previous.is_none() && mode != HistoryMode::Off;
        let host = self.config.identity.host();
        // Reading the last record (for recovery notices) and opening the store may both
        // wait on a busy store: `stop` ends either wait.
        let prepare = async {
            let previous = async {
                if want_previous { last_record(self.config.store.as_deref(), &self.plan.name).await } else { None }
            };
            tokio::join!(keep::begin(self.config.store.as_deref(), &self.plan, mode, &host, self.warn), previous)
        };
        let prepared = tokio::select! {
            prepared = prepare => Some(prepared),
            reason = &mut stop => {
                stop = Box::pin(std::future::ready(reason));
                None
            }
        };
        let keep::Begun { recorder, source: history, snoozes } = match prepared {
            Some((begun, previous)) => {
                if previous.is_some() {
                    self.previous = previous;
                }
                begun
            }
            None => keep::Begun::none(),
        };
        let options = RunOptions {
            jobs: self.config.jobs,
            history,
            stop,
            confirm,
            dry_run: self.config.skip_actions,
            observations: self.config.observations.clone(),
        };
        let mut record =
            runner::run(self.plan.clone(), self.secrets.clone(), self.redactor.clone(), options, on_event).await;
        self.config.identity.stamp(&mut record);
        // Before the sign-off, so the report names the run a countersign is for.
        record.run_id = recorder.as_ref().map(keep::Recorder::run_id);
        let snoozes = keep::Begun::snoozes(snoozes).await;
        if !snoozes.is_empty() {
            crate::record::snooze::apply(&mut record, &snoozes, chrono::Utc::now());
        }
        sign_off(&mut record);
        if let Some(recorder) = recorder {
            record.chain = recorder.finish(&record, &self.plan.retention, self.config.signer.as_ref(), self.warn).await;
        }
        if !self.notify.is_empty() {
            crate::notify::deliver(&self.notify, &record, self.previous.as_ref()).await;
            self.previous = Some(record.clone());
        }
        record
    }
}

/// The runtime every command runs on. One thread: probes wait on the network
/// in parallel all the same, and a request never hops between threads.
/// Blocking work goes to `spawn_blocking`.
pub fn runtime() -> Result<tokio::runtime::Runtime, SessionError> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// Resolves with `first`'s reason, or when `deadline` (if any) has passed.
pub fn stop_at(first: impl Future<Output = String> + Send + 'static, deadline: Option<Duration>) -> Stop {
    Box::pin(async move {
        let deadline = async {
            match deadline {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            reason = first => reason,
            () = deadline => "the run deadline passed".to_owned(),
        }
    })
}
