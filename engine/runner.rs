//! Runs a plan: every ready step at once up to `jobs`, in the order `needs`
//! and step references impose, each attempt under its deadline, retries with
//! a short backoff. A probe that errors gives its step an `error` verdict;
//! nothing a step does aborts the run.

mod board;
pub mod confirm;
mod judging;
mod pending_history;
mod step;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde_json::Value;

use crate::expr::{History, Stop};
use crate::playbook::Plan;
use crate::probe::context::RunShared;
use board::Board;
pub use pending_history::PendingHistory;

use crate::record::{Counts, RunRecord, RunStatus, StepResult, Verdict};
use crate::secrets::{Redactor, Secrets};

/// How long closing the run's connections may hold up the end of a run.
const CLOSE_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Resolves with the reason when the run must stop (a signal, the run deadline).
pub type Stopper = Pin<Box<dyn Future<Output = String> + Send>>;

/// Earlier runs of this playbook, for `prev` and friends.
pub trait HistorySource: Send + Sync {
    /// The history of one step.
    fn for_step(&self, step_id: &str) -> Option<Arc<dyn History>>;

    /// How often action step `step_id` ran within its `max_runs` period, on this host; `None`
    /// when it was not counted (the limit then cannot be checked, and the action does not run).
    fn action_runs(&self, _step_id: &str) -> Option<ActionRuns> {
        None
    }
}

/// The runs of one action step within its `max_runs` period, from the history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionRuns {
    pub count: u64,
    /// When it last ran (ms since the epoch), if ever within the period.
    pub last_ms: Option<i64>,
}

/// How to run.
pub struct RunOptions {
    /// Steps in flight at once.
    pub jobs: usize,
    pub history: Option<PendingHistory>,
    /// Resolves when the run must stop (a signal, the run deadline).
    pub stop: Stopper,
    /// Asked before every action step (see [`confirm`]).
    pub confirm: Arc<dyn confirm::Confirm>,
    /// Skip every action step, showing what it would do; other steps run.
    pub dry_run: bool,
    /// Where each step's last observation goes, secrets masked (`run --show-observed`).
    pub observations: Option<Observations>,
}

/// Each step's last observation by step id, secrets masked: what an author
/// needs to write captures and expressions without guessing the shape.
pub type Observations = Arc<std::sync::Mutex<std::collections::BTreeMap<String, Value>>>;

/// What the runner reports as it goes.
pub enum Event<'a> {
    Started { index: usize },
    Finished { index: usize, result: &'a StepResult },
}

/// Everything a step task reads, shared.
pub(crate) struct RunScope {
    pub plan: Plan,
    pub secrets: Secrets,
    pub redactor: Redactor,
    pub shared: Arc<RunShared>,
    pub history: Option<PendingHistory>,
    pub confirm: Arc<dyn confirm::Confirm>,
    pub dry_run: bool,
    /// Raised when the run stops, so expressions being judged stop too.
    pub halt: Arc<AtomicBool>,
    pub observations: Option<Observations>,
}

/// Runs every step of `plan` and returns the record, secrets already masked by
/// `redactor` (the session's, built once from `secrets`).
pub async fn run(
    plan: Plan,
    secrets: Secrets,
    redactor: Redactor,
    options: RunOptions,
    on_event: &mut dyn FnMut(Event),
) -> RunRecord {
    let started_at = chrono::Utc::now();
    let clock = Instant::now();
    let scope = Arc::new(RunScope {
        plan,
        secrets,
        redactor,
        shared: Arc::new(RunShared::default()),
        history: options.history,
        confirm: options.confirm,
        dry_run: options.dry_run,
        halt: Arc::new(AtomicBool::new(false)),
        observations: options.observations,
    });
    let mut stop = options.stop;
    let mut board = Board::new(Arc::clone(&scope), options.jobs);
    let mut interrupted = run_steps(&scope, &mut board, &mut stop, on_event).await;
    scope.shared.close(CLOSE_LIMIT).await;
    let summary = figures(&scope, board.captured(), &mut stop, &mut interrupted).await;
    let status = if interrupted.is_some() { RunStatus::Interrupted } else { RunStatus::Complete };
    let steps = board.into_results(&interrupted.unwrap_or_default());
    let finished_at = chrono::Utc::now();
    let mut record = RunRecord {
        playbook: scope.plan.name.clone(),
        file: scope.plan.file.clone(),
        description: scope.plan.description.clone(),
        host: crate::host_name::this_machine(),
        started: started_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        finished: finished_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        duration_ms: u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
        status,
        vars: scope.plan.vars.clone(),
        sections: scope.plan.sections.clone(),
        counts: Counts::of(&steps),
        verdict: RunRecord::overall(&steps),
        steps,
        summary,
        signoff: crate::record::SignOff { required: scope.plan.signoff_required, ..Default::default() },
        labels: std::collections::BTreeMap::new(),
        group: None,
        follow_up_of: None,
        shard: None,
        chain: None,
        run_id: None,
    };
    crate::record::signoff::assess(&mut record);
    record.redact(&scope.redactor);
    record
}

/// Runs steps as they become ready until all are done or `stop` resolves; returns the stop's reason.
async fn run_steps(
    scope: &RunScope,
    board: &mut Board,
    stop: &mut Stopper,
    on_event: &mut dyn FnMut(Event),
) -> Option<String> {
    loop {
        // A stop that came while steps were finishing starts nothing more.
        if let Some(reason) = futures_util::FutureExt::now_or_never(&mut *stop) {
            scope.halt.store(true, Ordering::Relaxed);
            board.running.abort_all();
            return Some(reason);
        }
        board.start_ready(on_event);
        if board.running.is_empty() {
            return None;
        }
        tokio::select! {
            joined = board.running.join_next_with_id() => {
                if let Some(joined) = joined {
                    board.finished(joined, on_event);
                }
            }
            reason = &mut *stop => {
                scope.halt.store(true, Ordering::Relaxed);
                board.running.abort_all();
                return Some(reason);
            }
        }
    }
}

/// The playbook's `summary:` figures. They are judged apart too, and a stop while they are
/// computed stops them and the run.
async fn figures(
    scope: &RunScope,
    captured: Value,
    stop: &mut Stopper,
    interrupted: &mut Option<String>,
) -> Vec<crate::record::SummaryValue> {
    let vars = Value::Object(scope.plan.vars.clone().into_iter().collect());
    let (entries, halt) = (scope.plan.summary.clone(), Stop { deadline: None, flag: Some(scope.halt.clone()) });
    let figures = judging::apart(move || crate::record::summary::evaluate_within(&entries, &vars, &captured, &halt));
    tokio::pin!(figures);
    let figures = match interrupted {
        Some(_) => figures.await,
        None => tokio::select! {
            figures = &mut figures => figures,
            reason = &mut *stop => {
                scope.halt.store(true, Ordering::Relaxed);
                *interrupted = Some(reason);
                figures.await
            }
        },
    };
    figures.unwrap_or_default()
}

impl Verdict {
    /// The verdict given to a step a stopped run never finished.
    pub const UNFINISHED: Verdict = Verdict::Error;
}
