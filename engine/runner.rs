//! Runs a plan: every ready step at once up to `jobs`, in the order `needs`
//! and step references impose, each attempt under its deadline, retries with
//! a short backoff. A probe that errors gives its step an `error` verdict;
//! nothing a step does aborts the run.

pub mod confirm;
mod judging;
mod step;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde_json::Value;
use tokio::task::JoinSet;

use crate::expr::{History, Stop};
use crate::playbook::Plan;
use crate::probe::context::RunShared;
use crate::record::{Counts, RunRecord, RunStatus, StepResult, Verdict};
use crate::secrets::{Redactor, Secrets};

/// How long closing the run's connections may hold up the end of a run.
const CLOSE_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Earlier runs of this playbook, for `prev` and friends.
pub trait HistorySource: Send + Sync {
    /// The history of one step.
    fn for_step(&self, step_id: &str) -> Option<Arc<dyn History>>;
}

/// How to run.
pub struct RunOptions {
    /// Steps in flight at once.
    pub jobs: usize,
    pub history: Option<Arc<dyn HistorySource>>,
    /// Resolves when the run must stop (a signal, the run deadline).
    pub stop: Pin<Box<dyn Future<Output = String> + Send>>,
    /// Asked before every action step (see [`confirm`]).
    pub confirm: Arc<dyn confirm::Confirm>,
    /// Skip every action step, showing what it would do; other steps run.
    pub dry_run: bool,
}

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
    pub history: Option<Arc<dyn HistorySource>>,
    pub confirm: Arc<dyn confirm::Confirm>,
    pub dry_run: bool,
    /// Raised when the run stops, so expressions being judged stop too.
    pub halt: Arc<AtomicBool>,
}

/// Runs every step of `plan` and returns the record, secrets already masked.
pub async fn run(plan: Plan, secrets: Secrets, options: RunOptions, on_event: &mut dyn FnMut(Event)) -> RunRecord {
    let started_at = chrono::Utc::now();
    let clock = Instant::now();
    let redactor = Redactor::new(&secrets);
    let scope = Arc::new(RunScope {
        plan,
        secrets,
        redactor,
        shared: Arc::new(RunShared::default()),
        history: options.history,
        confirm: options.confirm,
        dry_run: options.dry_run,
        halt: Arc::new(AtomicBool::new(false)),
    });
    let steps = &scope.plan.steps;
    let count = steps.len();
    let mut results: Vec<Option<StepResult>> = vec![None; count];
    let mut started = vec![false; count];
    // When each spawned step began, so one cut off by a stop still shows how long it ran.
    let mut began: Vec<Option<Instant>> = vec![None; count];
    let mut captured: BTreeMap<String, Value> = BTreeMap::new();
    let mut captured_snapshot = Arc::new(Value::Object(serde_json::Map::new()));
    let mut captured_dirty = false;
    let no_captures = Arc::new(Value::Object(serde_json::Map::new()));
    let mut running = JoinSet::new();
    // Which step each task runs, so a task that panics still ends its own step.
    let mut task_step = std::collections::HashMap::new();
    let mut stop = options.stop;
    let mut interrupted = None;
    let jobs = options.jobs.max(1);

    loop {
        // A stop that came while steps were finishing starts nothing more.
        if let Some(reason) = futures_util::FutureExt::now_or_never(&mut stop) {
            scope.halt.store(true, Ordering::Relaxed);
            running.abort_all();
            interrupted = Some(reason);
            break;
        }
        let mut progressed = true;
        while progressed {
            progressed = false;
            for i in 0..count {
                if started[i] || running.len() >= jobs {
                    continue;
                }
                let step = &steps[i];
                if !step.needs.iter().chain(&step.after).all(|&d| results[d].is_some()) {
                    continue;
                }
                started[i] = true;
                progressed = true;
                if let Some(&blocker) =
                    step.needs.iter().find(|&&d| !results[d].as_ref().is_some_and(|r| r.verdict.is_ok()))
                {
                    let why = results[blocker].as_ref().map_or("", |r| r.verdict.name());
                    let result =
                        step::skipped(&scope, i, format!("needs `{}`, which did not pass ({why})", steps[blocker].id));
                    on_event(Event::Finished { index: i, result: &result });
                    results[i] = Some(result);
                    continue;
                }
                if let Some(result) = missing_captures(&scope, i, &results) {
                    on_event(Event::Finished { index: i, result: &result });
                    results[i] = Some(result);
                    continue;
                }
                // Only steps that read `steps.*` get the captures; copying them for
                // every step made a long run's cost grow with the square of its steps.
                let reads_steps = !step.after.is_empty();
                if captured_dirty && reads_steps {
                    captured_snapshot = Arc::new(Value::Object(captured.clone().into_iter().collect()));
                    captured_dirty = false;
                }
                on_event(Event::Started { index: i });
                began[i] = Some(Instant::now());
                let snapshot = if reads_steps { Arc::clone(&captured_snapshot) } else { Arc::clone(&no_captures) };
                let scope = Arc::clone(&scope);
                let task = running.spawn(async move { step::run(&scope, i, &snapshot).await });
                task_step.insert(task.id(), i);
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            joined = running.join_next_with_id() => {
                let Some(joined) = joined else { continue };
                let (i, result) = match joined {
                    Ok((task, result)) => (task_step[&task], result),
                    Err(e) => {
                        let i = task_step[&e.id()];
                        // Like the panic hook: the payload could quote a secret, so it is not shown.
                        let why = if e.is_panic() { "internal error: the probe panicked (a bug in runbook)" } else { "cancelled" };
                        (i, step::errored(&scope, i, why.to_owned()))
                    }
                };
                if !result.captured.is_empty() {
                    captured.insert(steps[i].id.clone(), serde_json::to_value(&result.captured).unwrap_or(Value::Null));
                    captured_dirty = true;
                }
                on_event(Event::Finished { index: i, result: &result });
                results[i] = Some(result);
            }
            reason = &mut stop => {
                scope.halt.store(true, Ordering::Relaxed);
                running.abort_all();
                interrupted = Some(reason);
                break;
            }
        }
    }

    scope.shared.close(CLOSE_LIMIT).await;
    // The figures are judged apart too, and a stop while they are computed stops them and the run.
    let figures = {
        let vars = Value::Object(scope.plan.vars.clone().into_iter().collect());
        let (entries, stop) = (scope.plan.summary.clone(), Stop { deadline: None, flag: Some(scope.halt.clone()) });
        let captured = Value::Object(captured.into_iter().collect());
        judging::apart(move || crate::record::summary::evaluate_within(&entries, &vars, &captured, &stop))
    };
    tokio::pin!(figures);
    let figures = match interrupted {
        Some(_) => figures.await,
        None => tokio::select! {
            figures = &mut figures => figures,
            reason = &mut stop => {
                scope.halt.store(true, Ordering::Relaxed);
                interrupted = Some(reason);
                figures.await
            }
        },
    };
    let summary = figures.unwrap_or_default();
    let status = if interrupted.is_some() { RunStatus::Interrupted } else { RunStatus::Complete };
    let reason = interrupted.unwrap_or_default();
    let steps: Vec<StepResult> = results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.unwrap_or_else(|| {
                let ran = began[i].map_or(0, |t| u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX));
                // A probe cut off mid-flight was talking without verification all the same.
                let insecure = began[i].is_some() && steps[i].probe.skips_tls_verification();
                StepResult { duration_ms: ran, insecure, ..step::unfinished(&scope, i, &reason) }
            })
        })
        .collect();
    let finished_at = chrono::Utc::now();
    let mut record = RunRecord {
        playbook: scope.plan.name.clone(),
        file: scope.plan.file.clone(),
        description: scope.plan.description.clone(),
        host: hostname(),
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
        signoff: crate::record::SignOff::default(),
    };
    crate::record::signoff::assess(&mut record);
    record.redact(&scope.redactor);
    record
}

/// A step that reads `steps.<id>.*` of a step that captured nothing (it
/// errored, was skipped or waits for a person) cannot be judged: say why
/// here rather than as a template or expression error about a missing key.
fn missing_captures(scope: &RunScope, index: usize, results: &[Option<StepResult>]) -> Option<StepResult> {
    let steps = &scope.plan.steps;
    let (source, verdict) = steps[index].after.iter().find_map(|&d| {
        let done = results[d].as_ref()?;
        done.captured.is_empty().then_some((&steps[d].id, done.verdict))
    })?;
    Some(if verdict == Verdict::Skipped {
        step::skipped(scope, index, format!("reads `steps.{source}`, but step `{source}` was skipped"))
    } else {
        step::errored(
            scope,
            index,
            format!("reads `steps.{source}`, but step `{source}` ended in {} and captured nothing", verdict.name()),
        )
    })
}

/// This machine's name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

impl Verdict {
    /// The verdict given to a step a stopped run never finished.
    pub const UNFINISHED: Verdict = Verdict::Error;
}
