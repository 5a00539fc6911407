//! One step, start to verdict: `when`, parameters rendered, attempts under
//! the deadline, captures, then `expect` and `warn` judged.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::confirm::{self, ActionRequest, Decision};
use super::{RunScope, judging};
use crate::expr::{EvalError, Expression, Judgement, Scope, Stop};
use crate::playbook::plan::Wait;
use crate::playbook::rate_limit::RateLimit;
use crate::probe::{Implied, ProbeContext, ProbeSpec, RenderError};
use crate::record::approval::{self, Approvals};
use crate::record::{CheckKind, CheckResult, Confirmation, NoHistoryRule, NotJudged, StepResult, Try, Verdict, Waited};
use crate::units::show_duration;
use crate::{capture, template};

const BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

fn result(scope: &RunScope, index: usize, verdict: Verdict, message: String) -> StepResult {
    let step = &scope.plan.steps[index];
    StepResult {
        id: step.id.clone(),
        section: scope.plan.sections[step.section].clone(),
        title: step.title.clone(),
        kind: step.probe.kind().to_owned(),
        verdict,
        severity: step.severity,
        message: scope.redactor.redact(&message),
        captured: BTreeMap::new(),
        duration_ms: 0,
        attempts: 0,
        confirmation: None,
        approvals: None,
        answer: None,
        insecure: false,
        checks: Vec::new(),
        error_kind: None,
        attests: step.attests.iter().map(|&a| scope.plan.steps[a].id.clone()).collect(),
        waiver: None,
        not_judged: None,
        snoozed: None,
        tries: Vec::new(),
        until: None,
    }
}

/// An `error` verdict of the kind `kind` (see [`StepResult::error_kind`]).
fn error(scope: &RunScope, index: usize, kind: &str, message: String) -> StepResult {
    StepResult { error_kind: Some(kind.to_owned()), ..result(scope, index, Verdict::Error, message) }
}

pub(super) fn skipped(scope: &RunScope, index: usize, why: String) -> StepResult {
    result(scope, index, Verdict::Skipped, why)
}

/// A `fail` the runner decides without running the step (its attested evidence failed).
pub(super) fn failed(scope: &RunScope, index: usize, why: String) -> StepResult {
    result(scope, index, Verdict::Fail, why)
}

pub(super) fn errored(scope: &RunScope, index: usize, why: String) -> StepResult {
    error(scope, index, "other", why)
}

pub(super) fn unfinished(scope: &RunScope, index: usize, reason: &str) -> StepResult {
    let out = result(scope, index, Verdict::UNFINISHED, format!("not finished: {reason}"));
    StepResult { error_kind: out.verdict.is_bad().then(|| "unfinished".to_owned()), ..out }
}

/// Runs step `index` to its verdict.
pub(super) async fn run(scope: &Arc<RunScope>, index: usize, captured: &Value) -> StepResult {
    let clock = Instant::now();
    test_panic(&scope.plan.steps[index].id);
    let mut out = attempt_all(scope, index, captured).await;
    out.duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    out
}

/// Judging stops at the step's deadline (counted from `begun`) or when the run stops;
/// a timeout too large to add to a clock reading sets no deadline.
fn stop_at(scope: &RunScope, index: usize, begun: Instant) -> Stop {
    let timeout = scope.plan.steps[index].timeout;
    Stop { deadline: begun.checked_add(timeout).map(|at| (at, timeout)), flag: Some(scope.halt.clone()) }
}

async fn attempt_all(scope: &Arc<RunScope>, index: usize, captured: &Value) -> StepResult {
    let step = &scope.plan.steps[index];
    let vars = Value::Object(scope.plan.vars.clone().into_iter().collect());
    let base = base_scope(&vars, captured);
    if let Some(window) = &step.active
        && let Err(why) = window.due(chrono::Utc::now())
    {
        return result(scope, index, Verdict::NotDue, why);
    }
    if let Some(when) = &step.when {
        let base = with_history(scope, index, base.clone()).await;
        let (expression, stop) = (when.clone(), stop_at(scope, index, Instant::now()));
        match judging::apart_if(expression.loops, move || expression.judge_within(&base, &stop)).await {
            Ok(Ok(Judgement::True)) => {}
            Ok(Ok(_)) => return result(scope, index, Verdict::Skipped, format!("`when: {}` is false", when.source)),
            Ok(Err(e)) => return error(scope, index, e.kind(), e.to_string()),
            Err(e) => return error(scope, index, "internal", e.to_string()),
        }
    }
    if let Some(instruction) = step.probe.manual_instruction() {
        return result(scope, index, Verdict::Pending, instruction.to_owned());
    }
    let secrets =
        Value::Object(scope.secrets.values.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect());
    let template_scope = serde_json::json!({ "vars": vars, "secrets": secrets, "steps": captured });
    let probe = match step.probe.render(&mut |text, context| template::fill(text, &template_scope, context)) {
        Ok(probe) => probe,
        Err(RenderError::Template(e)) => {
            return error(scope, index, "template", format!("cannot fill in the parameters: {e}"));
        }
        Err(RenderError::Shape(e)) => {
            return error(scope, index, "template", format!("cannot fill in the parameters: {e}"));
        }
    };
    let (mut confirmation, mut approvals) = (None, None);
    let attempts = if step.action {
        match confirm_action(scope, index, &probe).await {
            Ok((record, approved)) => (confirmation, approvals) = (Some(record), approved),
            Err(refused) => return *refused,
        }
        // Attempted once: a retry could repeat what the action changed.
        1
    } else {
        step.retries.saturating_add(1)
    };
    let out = attempts_of(scope, index, &probe, &base, attempts).await;
    StepResult { confirmation, approvals, insecure: probe.skips_tls_verification(), ..out }
}

/// Asks whether action step `index` may run `probe`: its confirmation record (and, with
/// `approvals`, the approvals that counted), or the step's result when it may not (a dry run, a
/// refusal, too few approvals, its `max_runs` reached).
async fn confirm_action(
    scope: &RunScope,
    index: usize,
    probe: &ProbeSpec,
) -> Result<(Confirmation, Option<Approvals>), Box<StepResult>> {
    let step = &scope.plan.steps[index];
    let request = ActionRequest {
        step_id: step.id.clone(),
        title: step.title.clone(),
        kind: probe.kind().to_owned(),
        request: scope.redactor.redact(&probe.describe()),
        approvals: step.approvals,
    };
    if scope.dry_run {
        let mut guards = Vec::new();
        if step.approvals > 0 {
            guards.push(format!("needs {} approvals", step.approvals));
        }
        if let Some(limit) = &step.max_runs {
            guards.push(format!("max_runs: {limit}"));
        }
        let guards = if guards.is_empty() { String::new() } else { format!(" ({})", guards.join("; ")) };
        let message = format!("dry run: would {}{guards}", request.request);
        return Err(Box::new(result(scope, index, Verdict::Skipped, message)));
    }
    // Checked before anyone is asked: approvers are not bothered for an action that cannot run.
    if let Some(limit) = &step.max_runs
        && let Err(why) = within_rate(scope, &step.id, limit).await
    {
        return Err(not_run(scope, index, String::new(), why, None));
    }
    if step.approvals == 0 {
        let decision = scope.confirm.confirm(request).await;
        let record = confirm::record(&decision);
        if let Decision::Refused { reason, .. } = decision {
            return Err(Box::new(StepResult {
                confirmation: Some(record),
                ..result(scope, index, Verdict::Skipped, reason)
            }));
        }
        return Ok((record, None));
    }
    // `--yes` or a `y` on the terminal do not stand in for approvers.
    let action = request.request.clone();
    let offered = scope.confirm.approve(request).await;
    let state = Approvals { needed: step.approvals, given: approval::counting(offered, &action) };
    let names = state.given.iter().map(|a| a.approver.clone()).collect::<Vec<_>>().join(", ");
    if !state.met() {
        return Err(not_run(scope, index, names, state.shortfall(), Some(state)));
    }
    let how = format!("{} approvals", state.given.len());
    Ok((confirm::record(&Decision::Confirmed { by: names, how }), Some(state)))
}

/// An action that did not run for `why`: `skipped`, and in the record as not confirmed (so the
/// run is not clean).
fn not_run(scope: &RunScope, index: usize, by: String, why: String, approvals: Option<Approvals>) -> Box<StepResult> {
    let confirmation = confirm::record(&Decision::Refused { by, reason: why.clone() });
    Box::new(StepResult { confirmation: Some(confirmation), approvals, ..result(scope, index, Verdict::Skipped, why) })
}

/// Whether action `step_id` may run again under `limit`, or why not: it ran `limit.count` times
/// within the period, or there is no history to count in.
async fn within_rate(scope: &RunScope, step_id: &str, limit: &RateLimit) -> Result<(), String> {
    let history = match &scope.history {
        Some(pending) => pending.get().await,
        None => None,
    };
    let counted = history.and_then(|h| h.action_runs(step_id));
    let Some(runs) = counted else {
        return Err(format!(
            "rate-limited ({limit}): no run history to count earlier runs in (history off or unreadable), so the \
             action does not run"
        ));
    };
    if runs.count < u64::from(limit.count) {
        return Ok(());
    }
    let last = runs
        .last_ms
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(|| "unknown".to_owned(), |at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    Err(format!("rate-limited ({limit}; last ran at {last})"))
}

/// What one observation of a step came to.
enum Outcome {
    /// Observed and judged (or judging failed): the step's result for it.
    Observed(StepResult),
    /// Observed, but the step's `until` condition did not hold: what it read.
    NotYet(String),
    /// The probe could not observe (its error, a timeout): the only outcome `retries` repeats.
    Unobserved(StepResult),
}

/// Observes once under the step's timeout and judges; `gate` judges `until` first.
async fn observe_once(scope: &Arc<RunScope>, index: usize, probe: &ProbeSpec, base: &Scope, gate: bool) -> Outcome {
    let step = &scope.plan.steps[index];
    let ctx =
        ProbeContext { timeout: step.timeout, base_dir: scope.plan.base_dir.clone(), shared: scope.shared.clone() };
    let begun = Instant::now();
    match tokio::time::timeout(step.timeout, probe.observe(&ctx)).await {
        Ok(Ok(observation)) => {
            let base = with_history(scope, index, base.clone()).await;
            let (run, stop) = (Arc::clone(scope), stop_at(scope, index, begun));
            let until = step.until.as_ref().filter(|_| gate).map(|u| &u.condition);
            let loops = step.expect.iter().chain(&step.warn).chain(until).any(|e| e.loops);
            judging::apart_if(loops, move || judge(&run, index, observation, base, &stop, gate))
                .await
                .unwrap_or_else(|e| Outcome::Observed(error(scope, index, "internal", e.to_string())))
        }
        Ok(Err(e)) => Outcome::Unobserved(error(scope, index, e.kind(), e.to_string())),
        Err(_) => Outcome::Unobserved(error(
            scope,
            index,
            "timeout",
            format!("timed out after {}", show_duration(step.timeout)),
        )),
    }
}

/// What an attempt that ended as `out`, begun at `begun`, leaves in the record.
fn try_of(out: &StepResult, begun: Instant) -> Try {
    Try {
        verdict: out.verdict,
        message: out.message.clone(),
        error_kind: out.error_kind.clone(),
        duration_ms: u64::try_from(begun.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// `out` as the last of `attempts`, with the tries that led to it (kept only when there were several).
fn last_of(out: StepResult, attempts: u32, mut tries: Vec<Try>) -> StepResult {
    if tries.len() < 2 {
        tries.clear();
    }
    StepResult { attempts, tries, ..out }
}

/// Up to `attempts` attempts of `probe`: another only when the probe could not observe. A
/// failed expectation is final; waiting for a condition is `until`'s.
async fn attempts_of(
    scope: &Arc<RunScope>,
    index: usize,
    probe: &ProbeSpec,
    base: &Scope,
    attempts: u32,
) -> StepResult {
    if let Some(wait) = &scope.plan.steps[index].until {
        return wait_until(scope, index, probe, base, wait).await;
    }
    let mut tries = Vec::new();
    for attempt in 1..=attempts {
        if attempt > 1 {
            tokio::time::sleep((BACKOFF * (attempt - 1)).min(MAX_BACKOFF)).await;
        }
        let begun = Instant::now();
        let (out, again) = match observe_once(scope, index, probe, base, false).await {
            Outcome::Observed(out) => (out, false),
            Outcome::Unobserved(out) => (out, true),
            Outcome::NotYet(_) => (error(scope, index, "internal", "`until` judged without a wait".to_owned()), false),
        };
        tries.push(try_of(&out, begun));
        if !again || attempt == attempts {
            return last_of(out, attempt, tries);
        }
    }
    error(scope, index, "other", "no attempt was made".to_owned())
}

/// Observes every `wait.every` until the `until` condition holds, then the step is judged on
/// that observation; if it has not held by `wait.within`, the step fails (it errors only when
/// no poll could observe at all). While waiting, a probe error is one more poll.
async fn wait_until(scope: &Arc<RunScope>, index: usize, probe: &ProbeSpec, base: &Scope, wait: &Wait) -> StepResult {
    let started = Instant::now();
    let mut tries = Vec::new();
    let mut polls: u32 = 0;
    let mut seen_not_yet = false;
    loop {
        polls = polls.saturating_add(1);
        let begun = Instant::now();
        let (out, held) = match observe_once(scope, index, probe, base, true).await {
            Outcome::Observed(out) => (out, true),
            Outcome::NotYet(seen) => {
                seen_not_yet = true;
                (result(scope, index, Verdict::Fail, seen), false)
            }
            Outcome::Unobserved(out) => (out, false),
        };
        if tries.len() < Try::KEPT {
            tries.push(try_of(&out, begun));
        }
        if held || started.elapsed().saturating_add(wait.every) > wait.within {
            let waited = Waited {
                condition: wait.condition.source.clone(),
                held,
                polls,
                waited_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            };
            let out = if held { out } else { not_held(out, wait, polls, seen_not_yet) };
            return StepResult { until: Some(waited), ..last_of(out, polls, tries) };
        }
        tokio::time::sleep(wait.every).await;
    }
}

/// The last poll's result, `out`, turned into the step's: the condition did not hold in time.
/// Once any poll observed the condition false, that is a `fail` even if the last poll errored:
/// what was waited for was seen not to happen.
fn not_held(out: StepResult, wait: &Wait, polls: u32, seen_not_yet: bool) -> StepResult {
    let last = if out.message.is_empty() { String::new() } else { format!("; last poll: {}", out.message) };
    let message =
        format!("`{}` did not hold within {} ({polls} polls){last}", wait.condition.source, show_duration(wait.within));
    if seen_not_yet && out.verdict == Verdict::Error {
        return StepResult { message, verdict: Verdict::Fail, error_kind: None, ..out };
    }
    StepResult { message, ..out }
}

/// The expression scope before the observation: `vars` and `steps`; the history joins it
/// when something is judged ([`with_history`]).
fn base_scope(vars: &Value, captured: &Value) -> Scope {
    let mut variables = BTreeMap::new();
    variables.insert("vars".to_owned(), vars.clone());
    variables.insert("steps".to_owned(), captured.clone());
    Scope { variables, history: None }
}

/// `base` with step `index`'s history, waiting for it if it is still loading.
async fn with_history(scope: &RunScope, index: usize, mut base: Scope) -> Scope {
    if let Some(pending) = &scope.history {
        base.history = pending.get().await.and_then(|h| h.for_step(&scope.plan.steps[index].id));
    }
    base
}

/// Judges `observation`: captures, then (with `gate`) the `until` condition, then `expect` and `warn`.
fn judge(
    scope: &RunScope,
    index: usize,
    observation: Value,
    mut expr_scope: Scope,
    stop: &Stop,
    gate: bool,
) -> Outcome {
    let step = &scope.plan.steps[index];
    let implied = step.probe.implied(&observation);
    if let Some(sink) = &scope.observations {
        let mut shown = observation.clone();
        scope.redactor.redact_json(&mut shown);
        sink.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(step.id.clone(), shown);
    }
    let mut captured = BTreeMap::new();
    for (name, path) in &step.captures {
        match capture::capture(&observation, path) {
            Ok(value) => {
                captured.insert(name.clone(), value);
            }
            Err(e) => return Outcome::Observed(error(scope, index, "capture", e.to_string())),
        }
    }
    if let Value::Object(fields) = observation {
        for (k, v) in fields {
            expr_scope.variables.entry(k).or_insert(v);
        }
    }
    for (k, v) in &captured {
        expr_scope.variables.insert(k.clone(), v.clone());
    }
    // What a failed check shows is read from a masked copy (see `Expression::observed_in`).
    let masked = std::cell::OnceCell::new();
    let shown = || {
        masked.get_or_init(|| {
            let mut copy = expr_scope.clone();
            copy.variables.values_mut().for_each(|v| scope.redactor.redact_json(v));
            copy
        })
    };
    if let Some(wait) = step.until.as_ref().filter(|_| gate) {
        // A condition with no history yet has not held.
        match wait.condition.judge_within(&expr_scope, stop) {
            Ok(Judgement::True) => {}
            Ok(_) => return Outcome::NotYet(not_yet(&wait.condition, shown())),
            Err(e) => return Outcome::Observed(error(scope, index, e.kind(), e.to_string())),
        }
    }
    let mut found = Findings::default();
    match implied {
        Some(Implied::Fail(why)) => found.failed.push(why),
        Some(Implied::Warn(why)) => found.warned.push(why),
        None => {}
    }
    check_all(&step.expect, CheckKind::Expect, &expr_scope, stop, &shown, &mut found);
    // A step already stopped (its deadline, the run) is not judged further.
    if found.error.is_none() {
        check_all(&step.warn, CheckKind::Warn, &expr_scope, stop, &shown, &mut found);
    }
    let mut out = found.verdict(scope, index);
    let mut captured_value = Value::Object(Map::from_iter(captured));
    scope.redactor.redact_json(&mut captured_value);
    if let Value::Object(fields) = captured_value {
        out.captured = fields.into_iter().collect();
    }
    Outcome::Observed(out)
}

/// What a poll whose `until` condition was false read, e.g. `state = "starting"`.
fn not_yet(condition: &Expression, shown: &Scope) -> String {
    let seen = condition.observed_in(shown);
    if seen.is_empty() {
        format!("`{}` is false", condition.source)
    } else {
        format!("{seen} → `{}` is false", condition.source)
    }
}

/// What judging a step's expressions found.
#[derive(Default)]
struct Findings {
    /// The messages of `expect` expressions that did not hold.
    failed: Vec<String>,
    /// The messages of `warn` expressions that did not hold.
    warned: Vec<String>,
    /// The expressions with no earlier value yet: not judged.
    not_judged: Vec<String>,
    /// Every expression judged, as data.
    checks: Vec<CheckResult>,
    /// The expression that could not be judged; judging stopped there.
    error: Option<EvalError>,
}

impl Findings {
    /// The step's result: its verdict, the message (misses, then what was not judged) and the
    /// checks. A check not judged for want of history gives the step's `on_no_history` verdict
    /// unless a judged check gave a worse one: it is never a plain pass by default.
    fn verdict(self, scope: &RunScope, index: usize) -> StepResult {
        let (verdict, message, error_kind) = match &self.error {
            Some(e) => (Verdict::Error, e.to_string(), Some(e.kind().to_owned())),
            None if !self.failed.is_empty() => (Verdict::Fail, self.failed.join("; "), None),
            None if !self.warned.is_empty() => (Verdict::Warn, self.warned.join("; "), None),
            None => (Verdict::Pass, String::new(), None),
        };
        // A step that errored was not judged to the end; its error says why.
        let not_judged = (self.error.is_none() && !self.not_judged.is_empty())
            .then(|| NotJudged { checks: self.not_judged, rule: scope.plan.steps[index].on_no_history });
        let Some(nj) = not_judged else {
            return StepResult { checks: self.checks, error_kind, ..result(scope, index, verdict, message) };
        };
        let verdict = match (nj.rule, verdict) {
            (NoHistoryRule::Fail, Verdict::Pass | Verdict::Warn) => Verdict::Fail,
            (NoHistoryRule::Warn, Verdict::Pass) => Verdict::Warn,
            (_, verdict) => verdict,
        };
        let listed = nj.checks.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
        let rule = nj.rule.name();
        let note =
            format!("not judged: no earlier value for {listed} (on_no_history: {rule}); judged from the next run");
        let message = if message.is_empty() { note } else { format!("{message}; {note}") };
        StepResult { checks: self.checks, error_kind, not_judged: Some(nj), ..result(scope, index, verdict, message) }
    }
}

/// Judges each expression of `list` (of kind `kind`) into `found`, stopping at the first
/// that cannot be judged. What a miss shows, as text and as data, is read from `shown()`,
/// the scope with secrets masked.
fn check_all<'a>(
    list: &[Expression],
    kind: CheckKind,
    scope: &Scope,
    stop: &Stop,
    shown: &dyn Fn() -> &'a Scope,
    found: &mut Findings,
) {
    let word = match kind {
        CheckKind::Expect => "expected",
        CheckKind::Warn => "wanted",
    };
    for expression in list {
        let judgement = match expression.judge_within(scope, stop) {
            Ok(judgement) => judgement,
            Err(e) => {
                found.error = Some(e);
                return;
            }
        };
        let mut check = CheckResult {
            expression: expression.source.clone(),
            kind,
            held: true,
            observed: BTreeMap::new(),
            no_history: false,
        };
        match judgement {
            Judgement::True => {}
            Judgement::False { observed } => {
                let miss = if observed.is_empty() {
                    format!("{word} {}", expression.source)
                } else {
                    format!("{} → {word} {}", expression.observed_in(shown()), expression.source)
                };
                match kind {
                    CheckKind::Expect => found.failed.push(miss),
                    CheckKind::Warn => found.warned.push(miss),
                }
                check.held = false;
                check.observed = expression.observed_values(shown()).into_iter().collect();
            }
            Judgement::NoHistory => {
                found.not_judged.push(expression.source.clone());
                check.no_history = true;
            }
        }
        found.checks.push(check);
    }
}

/// Debug builds only: `RUNBOOK_TEST_PANIC=<step id>` makes that step panic
/// with the message in `RUNBOOK_TEST_PANIC_MESSAGE`, so tests can show a
/// panic ends only its step and its message is never printed.
fn test_panic(id: &str) {
    if cfg!(debug_assertions) && std::env::var("RUNBOOK_TEST_PANIC").is_ok_and(|target| target == id) {
        panic!("{}", std::env::var("RUNBOOK_TEST_PANIC_MESSAGE").unwrap_or_default());
    }
}
