//! Keeping a run in the history. A run never fails because its history
//! cannot be kept: the problem is a warning and the run goes on without it.

use std::sync::Arc;

use super::HistoryMode;
use crate::expr::HistoryRead;
use crate::history::{HistoryError, Location, Store};
use crate::playbook::{Plan, Retention};
use crate::record::snooze::Snooze;
use crate::record::{ChainLink, RunRecord};
use crate::runner::{HistorySource, PendingHistory};

/// A run being kept in the history.
pub(super) struct Recorder {
    store: Store,
    run_id: i64,
}

impl Recorder {
    /// The run's id in the history.
    pub(super) fn run_id(&self) -> i64 {
        self.run_id
    }

    /// Completes the run in the history, pruning as the playbook's `history:` says; returns
    /// its link in the history chain (`None` when it could not be kept).
    pub(super) async fn finish(
        self,
        record: &RunRecord,
        retention: &Retention,
        signer: Option<&super::RecordSigner>,
        warn: fn(&str),
    ) -> Option<ChainLink> {
        let sign = signer.map(|s| &*s.0);
        match self.store.finish_run(self.run_id, record, retention, sign).await {
            Ok(finished) => {
                if let Some(pruned) = finished.pruned.filter(|p| p.runs > 0) {
                    eprintln!("{}", crate::history::describe_pruned(&pruned));
                }
                Some(finished.link)
            }
            Err(e) => {
                warn(&format!("run {} could not be completed in the history: {e}", self.run_id));
                None
            }
        }
    }
}

/// What opening the history gave a run: where it is kept, the earlier values its steps
/// read, and the snoozes in force for its playbook (applied once the run is done). The
/// last two load while the first steps probe.
pub(super) struct Begun {
    pub recorder: Option<Recorder>,
    pub source: Option<PendingHistory>,
    pub snoozes: Option<tokio::task::JoinHandle<Vec<Snooze>>>,
}

impl Begun {
    pub(super) fn none() -> Self {
        Self { recorder: None, source: None, snoozes: None }
    }

    /// The snoozes in force; none when they could not be read, so every failure then counts.
    pub(super) async fn snoozes(snoozes: Option<tokio::task::JoinHandle<Vec<Snooze>>>) -> Vec<Snooze> {
        match snoozes {
            Some(loading) => loading.await.unwrap_or_default(),
            None => Vec::new(),
        }
    }
}

/// Opens the history for a run of `plan` as `mode` says, (to keep it) records that the
/// run started, so a run killed half-way is visible, and starts loading the earlier values
/// its steps read and the snoozes in force. The marker goes first: SQLite has one
/// connection, and the run starts as soon as the marker is in.
pub(super) async fn begin(store: Option<&str>, plan: &Plan, mode: HistoryMode, host: &str, warn: fn(&str)) -> Begun {
    let opened = match mode {
        HistoryMode::Off => return Begun::none(),
        HistoryMode::Read => open_to_read(store).await,
        HistoryMode::Keep => open(store).await.map(Some),
    };
    let store = match opened {
        Ok(Some(store)) => store,
        Ok(None) => return Begun::none(),
        Err(message) => {
            warn(&format!("history is off for this run: {message}"));
            return Begun::none();
        }
    };
    let recorder = match mode {
        HistoryMode::Keep => mark_started(&store, plan, host, warn).await,
        _ => None,
    };
    if recorder.is_some() {
        store.checkpoint_in_background();
    }
    let source = Some(PendingHistory::loading(earlier_runs(store.clone(), Wanted::of(plan, host), warn)));
    let name = plan.name.clone();
    let loader = store.clone();
    let snoozes = Some(tokio::spawn(async move { snoozes_of(&loader, &name, warn).await }));
    Begun { recorder, source, snoozes }
}

/// Records that a run of `plan` started; `None` (and a warning) when it cannot be kept.
async fn mark_started(store: &Store, plan: &Plan, host: &str, warn: fn(&str)) -> Option<Recorder> {
    let (lookback_runs, lookback_ms) = crate::history::RunStart::look_back(plan.look_back());
    let start = crate::history::RunStart {
        playbook: &plan.name,
        file: &plan.file,
        host,
        started_ms: crate::history::now_ms(),
        lookback_runs,
        lookback_ms,
    };
    match store.begin_run(&start).await {
        Ok(run_id) => Some(Recorder { store: store.clone(), run_id }),
        Err(e) => {
            warn(&format!("this run will not be kept in the history: {e}"));
            None
        }
    }
}

/// The snoozes in force for `playbook`; none (and a warning) when they cannot be read, so
/// every failure then counts: a store that cannot be read never hides one.
async fn snoozes_of(store: &Store, playbook: &str, warn: fn(&str)) -> Vec<Snooze> {
    match store.snoozes_in_force(Some(playbook), crate::history::now_ms()).await {
        Ok(listed) => listed.into_iter().map(|l| l.snooze).collect(),
        Err(e) => {
            warn(&format!("cannot read snoozes, so none applies to this run: {e}"));
            Vec::new()
        }
    }
}

/// The newest finished run of `playbook` in the history (`None`: none, or no history):
/// the run before, for notifications of failures and recoveries.
pub async fn last_record(store: Option<&str>, playbook: &str) -> Option<RunRecord> {
    let store = open_to_read(store).await.ok()??;
    let runs = store.runs(Some(playbook), 5).await.ok()?;
    runs.iter().find_map(crate::history::StoredRun::record)
}

/// What loading the earlier runs needs of a plan, taken out before the run so that the
/// load, spawned, does not need a copy of the whole plan.
struct Wanted {
    playbook: String,
    host: String,
    /// Per step that reads history: what it reads.
    reads: Vec<(String, Vec<HistoryRead>)>,
    /// Per action step with `max_runs`: the period its runs are counted over.
    periods: Vec<(String, std::time::Duration)>,
}

impl Wanted {
    fn of(plan: &Plan, host: &str) -> Self {
        let reads = plan.steps.iter().map(|s| (s.id.clone(), s.history_reads())).filter(|(_, r)| !r.is_empty());
        let periods = plan.steps.iter().filter_map(|s| s.max_runs.as_ref().map(|limit| (s.id.clone(), limit.per)));
        Self { playbook: plan.name.clone(), host: host.to_owned(), reads: reads.collect(), periods: periods.collect() }
    }
}

/// The earlier values the steps read (`prev` and friends), and only those, and how often each
/// action with `max_runs` ran on the host within its period. An action whose runs could not
/// be counted is left out: it will not run.
async fn earlier_runs(store: Store, wanted: Wanted, warn: fn(&str)) -> Option<Arc<dyn HistorySource>> {
    let readers: Vec<(&str, Vec<HistoryRead>)> =
        wanted.reads.iter().map(|(id, reads)| (id.as_str(), reads.clone())).collect();
    let now = crate::history::now_ms();
    let mut loaded = match store.playbook_history(&wanted.playbook, readers, now).await {
        Ok(loaded) => loaded,
        Err(e) => {
            warn(&format!("cannot read earlier runs: {e}"));
            return None;
        }
    };
    for (step_id, per) in &wanted.periods {
        let at = crate::history::ActionAt { playbook: &wanted.playbook, host: &wanted.host, step_id };
        let since = now.saturating_sub(i64::try_from(per.as_millis()).unwrap_or(i64::MAX));
        match store.action_runs(&at, since).await {
            Ok(runs) => loaded.count_action_runs(step_id, runs),
            Err(e) => warn(&format!("cannot count the earlier runs of action `{step_id}`: {e}")),
        }
    }
    Some(Arc::new(loaded))
}

/// Opens the store `store` names (or the default), with a message that names it on failure.
pub async fn open(store: Option<&str>) -> Result<Store, HistoryError> {
    Store::open(&Location::resolve(store)?).await
}

/// Opens the store to read it; `None` when it is a SQLite file that does not exist yet
/// (looking must not create it).
pub async fn open_to_read(store: Option<&str>) -> Result<Option<Store>, HistoryError> {
    let location = Location::resolve(store)?;
    if let Location::Sqlite(path) = &location
        && !path.exists()
    {
        return Ok(None);
    }
    Store::open(&location).await.map(Some)
}
