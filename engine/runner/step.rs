//! One step, start to verdict: `when`, parameters rendered, attempts under
//! the deadline, captures, then `expect` and `warn` judged.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::confirm::{self, ActionRequest, Decision};
use super::{RunScope, judging};
use crate::expr::{Expression, Judgement, Scope, Stop};
use crate::probe::{ProbeContext, RenderError};
use crate::record::{StepResult, Verdict};
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
        answer: None,
        insecure: false,
    }
}

pub(super) fn skipped(scope: &RunScope, index: usize, why: String) -> StepResult {
    result(scope, index, Verdict::Skipped, why)
}

pub(super) fn errored(scope: &RunScope, index: usize, why: String) -> StepResult {
    result(scope, index, Verdict::Error, why)
}

pub(super) fn unfinished(scope: &RunScope, index: usize, reason: &str) -> StepResult {
    result(scope, index, Verdict::UNFINISHED, format!("not finished: {reason}"))
}

/// Runs step `index` to its verdict.
pub(super) async fn run(scope: &Arc<RunScope>, index: usize, captured: &Value) -> StepResult {
    let clock = Instant::now();
    test_panic(&scope.plan.steps[index].id);
    let mut out = attempt_all(scope, index, captured).await;
    out.duration_ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
    out
}

async fn attempt_all(scope: &Arc<RunScope>, index: usize, captured: &Value) -> StepResult {
    let step = &scope.plan.steps[index];
    let vars = Value::Object(scope.plan.vars.clone().into_iter().collect());
    let base = base_scope(scope, index, &vars, captured);
    // Judging stops at the step's deadline (counted from the attempt's start) or when the run stops;
    // a timeout too large to add to a clock reading sets no deadline.
    let stop = |begun: Instant| Stop {
        deadline: begun.checked_add(step.timeout).map(|at| (at, step.timeout)),
        flag: Some(scope.halt.clone()),
    };
    if let Some(when) = &step.when {
        let (expression, base, stop) = (when.clone(), base.clone(), stop(Instant::now()));
        match judging::apart_if(expression.loops, move || expression.judge_within(&base, &stop)).await {
            Ok(Ok(Judgement::True)) => {}
            Ok(Ok(_)) => return result(scope, index, Verdict::Skipped, format!("`when: {}` is false", when.source)),
            Ok(Err(e)) | Err(e) => return result(scope, index, Verdict::Error, e),
        }
    }
    if let Some(instruction) = step.probe.manual_instruction() {
        return result(scope, index, Verdict::Pending, instruction.to_owned());
    }
    let secrets =
        Value::Object(scope.secrets.values.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect());
    let template_scope = serde_json::json!({ "vars": vars, "secrets": secrets, "steps": captured });
    let probe = match step.probe.render(&mut |text, context| template::render(text, &template_scope, context)) {
        Ok(probe) => probe,
        Err(RenderError::Template(e) | RenderError::Shape(e)) => {
            return result(scope, index, Verdict::Error, format!("cannot fill in the parameters: {e}"));
        }
    };
    let ctx =
        ProbeContext { timeout: step.timeout, base_dir: scope.plan.base_dir.clone(), shared: scope.shared.clone() };
    let mut confirmation = None;
    let attempts = if step.action {
        let request = ActionRequest {
            step_id: step.id.clone(),
            title: step.title.clone(),
            kind: probe.kind().to_owned(),
            request: scope.redactor.redact(&probe.describe()),
        };
        if scope.dry_run {
            return result(scope, index, Verdict::Skipped, format!("dry run: would {}", request.request));
        }
        let decision = scope.confirm.confirm(request).await;
        let record = confirm::record(&decision);
        if let Decision::Refused { reason, .. } = decision {
            return StepResult { confirmation: Some(record), ..result(scope, index, Verdict::Skipped, reason) };
        }
        confirmation = Some(record);
        // Attempted once: a retry could repeat what the action changed.
        1
    } else {
        step.retries.saturating_add(1)
    };
    let mut last = None;
    for attempt in 1..=attempts {
        if attempt > 1 {
            tokio::time::sleep((BACKOFF * (attempt - 1)).min(MAX_BACKOFF)).await;
        }
        let begun = Instant::now();
        let observed = match tokio::time::timeout(step.timeout, probe.observe(&ctx)).await {
            Ok(Ok(observation)) => {
                let (run, base, stop) = (Arc::clone(scope), base.clone(), stop(begun));
                let loops = step.expect.iter().chain(&step.warn).any(|e| e.loops);
                judging::apart_if(loops, move || judge(&run, index, observation, base, &stop))
                    .await
                    .unwrap_or_else(|e| result(scope, index, Verdict::Error, e))
            }
            Ok(Err(e)) => result(scope, index, Verdict::Error, e.0),
            Err(_) => result(scope, index, Verdict::Error, format!("timed out after {}", show_duration(step.timeout))),
        };
        let done = !observed.verdict.is_bad();
        last = Some(StepResult { attempts: attempt, ..observed });
        if done {
            break;
        }
    }
    let out = last.unwrap_or_else(|| result(scope, index, Verdict::Error, "no attempt was made".to_owned()));
    StepResult { confirmation, insecure: probe.skips_tls_verification(), ..out }
}

/// The expression scope before the observation: `vars`, `steps` and history.
fn base_scope(scope: &RunScope, index: usize, vars: &Value, captured: &Value) -> Scope {
    let step = &scope.plan.steps[index];
    let mut variables = BTreeMap::new();
    variables.insert("vars".to_owned(), vars.clone());
    variables.insert("steps".to_owned(), captured.clone());
    Scope { variables, history: scope.history.as_ref().and_then(|h| h.for_step(&step.id)) }
}

fn judge(scope: &RunScope, index: usize, observation: Value, mut expr_scope: Scope, stop: &Stop) -> StepResult {
    let step = &scope.plan.steps[index];
    let mut captured = BTreeMap::new();
    for (name, path) in &step.captures {
        match capture::capture(&observation, path) {
            Ok(value) => {
                captured.insert(name.clone(), value);
            }
            Err(e) => return result(scope, index, Verdict::Error, e.to_string()),
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
    let (failed, notes_fail) = check_all(&step.expect, &expr_scope, stop, &shown, "expected");
    let (warned, notes_warn) = match failed {
        // A step already stopped (its deadline, the run) is not judged further.
        Err(_) => (Ok(Vec::new()), Vec::new()),
        Ok(_) => check_all(&step.warn, &expr_scope, stop, &shown, "wanted"),
    };
    let (verdict, message) = match (failed, warned) {
        (Err(e), _) | (Ok(_), Err(e)) => (Verdict::Error, e),
        (Ok(f), _) if !f.is_empty() => (Verdict::Fail, f.join("; ")),
        (Ok(_), Ok(w)) if !w.is_empty() => (Verdict::Warn, w.join("; ")),
        _ => (Verdict::Pass, String::new()),
    };
    let notes: Vec<String> = notes_fail.into_iter().chain(notes_warn).collect();
    let message = match (message.is_empty(), notes.is_empty()) {
        (_, true) => message,
        (true, false) => notes.join("; "),
        (false, false) => format!("{message}; {}", notes.join("; ")),
    };
    let mut out = result(scope, index, verdict, message);
    let mut captured_value = Value::Object(Map::from_iter(captured));
    scope.redactor.redact_json(&mut captured_value);
    if let Value::Object(fields) = captured_value {
        out.captured = fields.into_iter().collect();
    }
    out
}

/// The messages of expressions that did not hold, and notes for those with no history yet.
fn check_all<'a>(
    list: &[Expression],
    scope: &Scope,
    stop: &Stop,
    shown: &dyn Fn() -> &'a Scope,
    word: &str,
) -> (Result<Vec<String>, String>, Vec<String>) {
    let mut misses = Vec::new();
    let mut notes = Vec::new();
    for expression in list {
        match expression.judge_within(scope, stop) {
            Ok(Judgement::True) => {}
            Ok(Judgement::False { observed }) if observed.is_empty() => {
                misses.push(format!("{word} {}", expression.source))
            }
            Ok(Judgement::False { .. }) => {
                misses.push(format!("{} → {word} {}", expression.observed_in(shown()), expression.source))
            }
            Ok(Judgement::NoHistory) => {
                notes.push(format!("no earlier value for `{}` yet; judged from the next run", expression.source))
            }
            Err(e) => return (Err(e), notes),
        }
    }
    (Ok(misses), notes)
}

/// Debug builds only: `RUNBOOK_TEST_PANIC=<step id>` makes that step panic
/// with the message in `RUNBOOK_TEST_PANIC_MESSAGE`, so tests can show a
/// panic ends only its step and its message is never printed.
fn test_panic(id: &str) {
    if cfg!(debug_assertions) && std::env::var("RUNBOOK_TEST_PANIC").is_ok_and(|target| target == id) {
        panic!("{}", std::env::var("RUNBOOK_TEST_PANIC_MESSAGE").unwrap_or_default());
    }
}
