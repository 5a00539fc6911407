//! Where every step of a run stands: which have started, which finished with
//! what, what they captured, and the tasks in flight. The runner's loop asks
//! it to start what is ready and hands it each finished task.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;
use tokio::task::{Id, JoinError, JoinSet};

use super::{Event, RunScope, step};
use crate::record::{StepResult, Verdict};

pub(super) struct Board {
    scope: Arc<RunScope>,
    jobs: usize,
    results: Vec<Option<StepResult>>,
    started: Vec<bool>,
    /// When each spawned step began, so one cut off by a stop still shows how long it ran.
    began: Vec<Option<Instant>>,
    captured: BTreeMap<String, Value>,
    snapshot: Arc<Value>,
    snapshot_stale: bool,
    no_captures: Arc<Value>,
    pub running: JoinSet<StepResult>,
    /// Which step each task runs, so a task that panics still ends its own step.
    task_step: HashMap<Id, usize>,
}

impl Board {
    pub fn new(scope: Arc<RunScope>, jobs: usize) -> Self {
        let count = scope.plan.steps.len();
        let empty = Arc::new(Value::Object(serde_json::Map::new()));
        Self {
            scope,
            jobs: jobs.max(1),
            results: vec![None; count],
            started: vec![false; count],
            began: vec![None; count],
            captured: BTreeMap::new(),
            snapshot: Arc::clone(&empty),
            snapshot_stale: false,
            no_captures: empty,
            running: JoinSet::new(),
            task_step: HashMap::new(),
        }
    }

    /// Starts (or settles at once) every step whose turn has come, until nothing more can.
    pub fn start_ready(&mut self, on_event: &mut dyn FnMut(Event)) {
        let mut progressed = true;
        while progressed {
            progressed = false;
            for i in 0..self.results.len() {
                if self.started[i] || self.running.len() >= self.jobs || !self.inputs_done(i) {
                    continue;
                }
                self.started[i] = true;
                progressed = true;
                match self.settled_without_running(i) {
                    Some(result) => self.settle(i, result, on_event),
                    None => self.spawn(i, on_event),
                }
            }
        }
    }

    /// Whether every step `i` needs, attests or reads from has finished.
    fn inputs_done(&self, i: usize) -> bool {
        let step = &self.scope.plan.steps[i];
        step.needs.iter().chain(&step.attests).chain(&step.after).all(|&d| self.results[d].is_some())
    }

    /// The result of a step that cannot run: attested evidence failed, a needed step did not
    /// pass, or one it reads captured nothing.
    fn settled_without_running(&self, i: usize) -> Option<StepResult> {
        let steps = &self.scope.plan.steps;
        // Checked before `needs`: an item vouching for failed evidence is a failure, never a skip.
        let verdicts =
            steps[i].attests.iter().filter_map(|&d| Some((steps[d].id.as_str(), self.results[d].as_ref()?.verdict)));
        if let Some(why) = crate::record::attest::blocked(verdicts) {
            return Some(step::failed(&self.scope, i, why));
        }
        let blocker = steps[i].needs.iter().find(|&&d| !self.results[d].as_ref().is_some_and(|r| r.verdict.is_ok()));
        if let Some(&blocker) = blocker {
            let why = self.results[blocker].as_ref().map_or("", |r| r.verdict.name());
            let reason = format!("needs `{}`, which did not pass ({why})", steps[blocker].id);
            return Some(step::skipped(&self.scope, i, reason));
        }
        self.missing_captures(i)
    }

    /// A step that reads `steps.<id>.*` of a step that captured nothing (it
    /// errored, was skipped or waits for a person) cannot be judged: say why
    /// here rather than as a template or expression error about a missing key.
    fn missing_captures(&self, index: usize) -> Option<StepResult> {
        let steps = &self.scope.plan.steps;
        let (source, verdict) = steps[index].after.iter().find_map(|&d| {
            let done = self.results[d].as_ref()?;
            done.captured.is_empty().then_some((&steps[d].id, done.verdict))
        })?;
        Some(if verdict == Verdict::Skipped {
            step::skipped(&self.scope, index, format!("reads `steps.{source}`, but step `{source}` was skipped"))
        } else {
            let why =
                format!("reads `steps.{source}`, but step `{source}` ended in {} and captured nothing", verdict.name());
            step::errored(&self.scope, index, why)
        })
    }

    fn spawn(&mut self, i: usize, on_event: &mut dyn FnMut(Event)) {
        // Only steps that read `steps.*` get the captures; copying them for
        // every step made a long run's cost grow with the square of its steps.
        let reads_steps = !self.scope.plan.steps[i].after.is_empty();
        if self.snapshot_stale && reads_steps {
            self.snapshot = Arc::new(Value::Object(self.captured.clone().into_iter().collect()));
            self.snapshot_stale = false;
        }
        on_event(Event::Started { index: i });
        self.began[i] = Some(Instant::now());
        let snapshot = Arc::clone(if reads_steps { &self.snapshot } else { &self.no_captures });
        let scope = Arc::clone(&self.scope);
        let task = self.running.spawn(async move { step::run(&scope, i, &snapshot).await });
        self.task_step.insert(task.id(), i);
    }

    /// Takes in a task that ended: its result, or an error for a task that panicked.
    pub fn finished(&mut self, joined: Result<(Id, StepResult), JoinError>, on_event: &mut dyn FnMut(Event)) {
        let (i, result) = match joined {
            Ok((task, result)) => (self.task_step[&task], result),
            Err(e) => {
                let i = self.task_step[&e.id()];
                // Like the panic hook: the payload could quote a secret, so it is not shown.
                let why =
                    if e.is_panic() { "internal error: the probe panicked (a bug in runbook)" } else { "cancelled" };
                (i, step::errored(&self.scope, i, why.to_owned()))
            }
        };
        if !result.captured.is_empty() {
            let value = serde_json::to_value(&result.captured).unwrap_or(Value::Null);
            self.captured.insert(self.scope.plan.steps[i].id.clone(), value);
            self.snapshot_stale = true;
        }
        self.settle(i, result, on_event);
    }

    fn settle(&mut self, i: usize, result: StepResult, on_event: &mut dyn FnMut(Event)) {
        // Before anyone sees it: the verdict shown, counted and attested is the waived one.
        let today = chrono::Local::now().date_naive();
        let result = crate::record::waiver::judge(result, &self.scope.plan.waivers, today);
        on_event(Event::Finished { index: i, result: &result });
        self.results[i] = Some(result);
    }

    /// Every step's captures by step id, for the summary figures.
    pub fn captured(&self) -> Value {
        Value::Object(self.captured.clone().into_iter().collect())
    }

    /// Every step's result; one a stop left unfinished is an error saying `reason`.
    pub fn into_results(self, reason: &str) -> Vec<StepResult> {
        let steps = &self.scope.plan.steps;
        let began = &self.began;
        let scope = &self.scope;
        self.results
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.unwrap_or_else(|| {
                    let ran = began[i].map_or(0, |t| u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX));
                    // A probe cut off mid-flight was talking without verification all the same.
                    let insecure = began[i].is_some() && steps[i].probe.skips_tls_verification();
                    StepResult { duration_ms: ran, insecure, ..step::unfinished(scope, i, reason) }
                })
            })
            .collect()
    }
}
