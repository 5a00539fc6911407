//! What one evaluation may spend. CEL's comprehensions (`map`, `filter`,
//! `all`, `exists`, `exists_one`) loop inside the interpreter with no hook, so
//! [`meter_loops`] puts a call to [`ROUND`] in every loop: it counts the round
//! and stops the evaluation past [`MAX_ROUNDS`], at the step's deadline, or
//! once the run is stopped. `+` (ours) charges the lists and strings it
//! builds, since one round can copy a whole captured list. An expression
//! cannot loop or grow anything otherwise, so its time and memory are bounded.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use cel::common::ast::{CallExpr, Expr, operators};
use cel::{ExecutionError, IdedExpr, Value};

use crate::units::show_duration;

/// The most loop rounds one evaluation may run, all its loops together.
pub const MAX_ROUNDS: u64 = 1_000_000;

/// The most list items and string bytes `+` may build in one evaluation.
pub const MAX_BUILT: u64 = 4_000_000;

/// The function [`meter_loops`] calls once per round; it returns its argument.
pub const ROUND: &str = "rb_round";

/// When an evaluation must stop before its budget is spent.
#[derive(Clone, Default, Debug)]
pub struct Stop {
    /// The step's deadline, and the timeout it came from (for the message).
    pub deadline: Option<(Instant, Duration)>,
    /// Raised when the run stops (a signal, the run deadline).
    pub flag: Option<Arc<AtomicBool>>,
}

/// Why an evaluation was stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Halt {
    Rounds,
    Built,
    Deadline(Duration),
    Stopped,
}

impl Halt {
    /// What to say about `source`.
    pub fn describe(self, source: &str) -> String {
        match self {
            Halt::Rounds => format!(
                "`{source}` was stopped: its loops (`map`, `filter`, `all`, `exists`, `exists_one`) ran more than {MAX_ROUNDS} rounds"
            ),
            Halt::Built => {
                format!("`{source}` was stopped: `+` built more than {MAX_BUILT} list items and string bytes")
            }
            Halt::Deadline(timeout) => format!("timed out after {} judging `{source}`", show_duration(timeout)),
            Halt::Stopped => format!("`{source}` was stopped: the run is stopping"),
        }
    }
}

/// The spending of one evaluation.
#[derive(Default)]
pub struct Meter {
    rounds: AtomicU64,
    built: AtomicU64,
    stop: Stop,
    halted: OnceLock<Halt>,
}

impl Meter {
    pub fn new(stop: &Stop) -> Self {
        Meter { stop: stop.clone(), ..Meter::default() }
    }

    /// Why the evaluation was stopped, if it was; an error CEL absorbed
    /// (`error || true` is true) still stops it.
    pub fn halted(&self) -> Option<Halt> {
        self.halted.get().copied()
    }

    /// One loop round.
    pub fn round(&self) -> Result<(), ExecutionError> {
        if self.rounds.fetch_add(1, Ordering::Relaxed) >= MAX_ROUNDS {
            return self.halt(Halt::Rounds);
        }
        self.check()
    }

    /// `+` built `value`.
    pub fn built(&self, value: &Value) -> Result<(), ExecutionError> {
        let size = match value {
            Value::List(items) => items.len(),
            Value::String(text) => text.len(),
            Value::Bytes(bytes) => bytes.len(),
            _ => return Ok(()),
        };
        let size = u64::try_from(size).unwrap_or(u64::MAX);
        if self.built.fetch_add(size, Ordering::Relaxed).saturating_add(size) > MAX_BUILT {
            return self.halt(Halt::Built);
        }
        self.check()
    }

    fn check(&self) -> Result<(), ExecutionError> {
        if let Some(halt) = self.halted() {
            return self.halt(halt);
        }
        if let Some((at, timeout)) = self.stop.deadline
            && Instant::now() >= at
        {
            return self.halt(Halt::Deadline(timeout));
        }
        if self.stop.flag.as_ref().is_some_and(|f| f.load(Ordering::Relaxed)) {
            return self.halt(Halt::Stopped);
        }
        Ok(())
    }

    fn halt(&self, why: Halt) -> Result<(), ExecutionError> {
        let why = *self.halted.get_or_init(|| why);
        Err(ExecutionError::function_error(ROUND, format!("{why:?}")))
    }
}

/// Puts a call to [`ROUND`] in the loop of every comprehension, where the
/// interpreter evaluates it once per round. `map` and `filter` are built in
/// place only while their step keeps its shape (`@result + [x]`, or
/// `guard ? @result + [x] : @result`, with a literal condition), so the call
/// goes around `x` or the guard there, and around the loop condition elsewhere.
pub fn meter_loops(expr: &mut IdedExpr) {
    match &mut expr.expr {
        Expr::Comprehension(c) => {
            for e in [&mut c.iter_range, &mut c.accu_init, &mut c.loop_cond, &mut c.loop_step, &mut c.result] {
                meter_loops(e);
            }
            let literal_condition = matches!(c.loop_cond.expr, Expr::Literal(_));
            let target = match &mut c.loop_step.expr {
                Expr::Call(call) if literal_condition && call.func_name == operators::CONDITIONAL => {
                    call.args.first_mut()
                }
                Expr::Call(call) if literal_condition && call.func_name == operators::ADD => {
                    match call.args.get_mut(1).map(|a| &mut a.expr) {
                        Some(Expr::List(list)) => list.elements.first_mut(),
                        _ => None,
                    }
                }
                _ => None,
            };
            wrap(target.unwrap_or(&mut c.loop_cond));
        }
        Expr::Call(call) => {
            if let Some(target) = &mut call.target {
                meter_loops(target);
            }
            call.args.iter_mut().for_each(meter_loops);
        }
        Expr::List(list) => list.elements.iter_mut().for_each(meter_loops),
        Expr::Map(map) => map.entries.iter_mut().for_each(|entry| match &mut entry.expr {
            cel::common::ast::EntryExpr::MapEntry(e) => {
                meter_loops(&mut e.key);
                meter_loops(&mut e.value);
            }
            cel::common::ast::EntryExpr::StructField(f) => meter_loops(&mut f.value),
        }),
        Expr::Select(select) => meter_loops(&mut select.operand),
        Expr::Struct(s) => s.entries.iter_mut().for_each(|entry| {
            if let cel::common::ast::EntryExpr::StructField(f) = &mut entry.expr {
                meter_loops(&mut f.value);
            }
        }),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// Whether `expr` holds a comprehension (`map`, `filter`, `all`, `exists`, `exists_one`):
/// without one, evaluation is bounded by the expression's own limits and the size of
/// what it reads, so it needs no thread of its own to stay interruptible.
pub fn has_loops(expr: &IdedExpr) -> bool {
    use cel::common::ast::EntryExpr;
    match &expr.expr {
        Expr::Comprehension(_) => true,
        Expr::Call(call) => call.target.as_deref().is_some_and(has_loops) || call.args.iter().any(has_loops),
        Expr::List(list) => list.elements.iter().any(has_loops),
        Expr::Map(map) => map.entries.iter().any(|entry| match &entry.expr {
            EntryExpr::MapEntry(e) => has_loops(&e.key) || has_loops(&e.value),
            EntryExpr::StructField(f) => has_loops(&f.value),
        }),
        Expr::Select(select) => has_loops(&select.operand),
        Expr::Struct(s) => s.entries.iter().any(|entry| match &entry.expr {
            EntryExpr::StructField(f) => has_loops(&f.value),
            EntryExpr::MapEntry(e) => has_loops(&e.key) || has_loops(&e.value),
        }),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => false,
    }
}

/// `e` becomes `rb_round(e)`.
fn wrap(e: &mut IdedExpr) {
    let inner = std::mem::replace(e, IdedExpr { id: e.id, expr: Expr::Unspecified });
    *e = IdedExpr {
        id: inner.id,
        expr: Expr::Call(CallExpr { func_name: ROUND.to_owned(), target: None, args: vec![inner] }),
    };
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    use serde_json::Value;

    use super::{Halt, Meter, Stop};
    use crate::expr::{Scope, compile};

    /// `l` is the list 0..n.
    fn with_list(n: u64) -> Scope {
        let list = Value::Array((0..n).map(Value::from).collect());
        Scope { variables: BTreeMap::from([("l".to_owned(), list)]), history: None }
    }

    /// The verdict, or the error's message.
    fn judged(source: &str, scope: &Scope, stop: &Stop) -> Result<crate::expr::Judgement, String> {
        compile(source).unwrap().judge_within(scope, stop).map_err(|e| e.to_string())
    }

    #[test]
    fn the_meter_halts_past_a_million_rounds_and_stays_halted() {
        let meter = Meter::default();
        assert!((0..super::MAX_ROUNDS).all(|_| meter.round().is_ok()));
        assert!(meter.round().is_err() && meter.built(&cel::Value::String(Arc::new("x".into()))).is_err());
        assert_eq!(meter.halted(), Some(Halt::Rounds));
    }

    #[test]
    fn a_stopped_loop_stops_the_expression_even_when_an_or_absorbs_the_error() {
        let raised = Stop { deadline: None, flag: Some(Arc::new(AtomicBool::new(true))) };
        let source = "l.map(a, a) == [] || true";
        assert_eq!(judged(source, &with_list(3), &raised), Err(Halt::Stopped.describe(source)));
    }

    #[test]
    fn every_macro_checks_the_stop_flag_each_round() {
        let raised = Stop { deadline: None, flag: Some(Arc::new(AtomicBool::new(true))) };
        for body in [
            "map(b, b)",
            "map(b, b > 0, b)",
            "filter(b, b > 0)",
            "all(b, b >= 0)",
            "exists(b, b < 0)",
            "exists_one(b, b == 0)",
        ] {
            let source = format!("[l.{body}] != []");
            assert_eq!(judged(&source, &with_list(3), &raised), Err(Halt::Stopped.describe(&source)));
            assert!(judged(&source, &with_list(3), &Stop::default()).is_ok(), "{source}");
        }
        assert!(judged("l.map(a, a * 2).filter(x, x > 4).size() == 97", &with_list(100), &Stop::default()).is_ok());
    }

    #[test]
    fn plus_stops_once_it_has_built_four_million_items() {
        let error = judged("l.map(a, l + l).size() > 0", &with_list(10_000), &Stop::default()).unwrap_err();
        assert!(error.ends_with("`+` built more than 4000000 list items and string bytes"), "{error}");
    }

    #[test]
    fn a_deadline_or_a_raised_flag_stops_a_loop() {
        let heavy = "l.map(a, l.map(b, l.map(c, c))).size() > 0";
        let deadline = Stop { deadline: Some((Instant::now(), Duration::from_secs(1))), flag: None };
        assert_eq!(
            judged(heavy, &with_list(200), &deadline),
            Err(Halt::Deadline(Duration::from_secs(1)).describe(heavy))
        );
        let flag = Stop { deadline: None, flag: Some(Arc::new(AtomicBool::new(true))) };
        assert_eq!(judged(heavy, &with_list(200), &flag), Err(Halt::Stopped.describe(heavy)));
    }
}
