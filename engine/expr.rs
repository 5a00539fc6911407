//! Threshold expressions in CEL, the Common Expression Language.
//!
//! A step's expressions see the observation's top-level keys, its captured
//! names, `vars.<name>` and `steps.<id>.<name>`. JSON integers become CEL
//! `int`, other numbers `double`; comparisons and arithmetic that mix the two
//! just work (CEL itself refuses `1.5 - 1`, so arithmetic is routed through
//! our own functions). Helpers for ops: `bytes("200MB")`, `num("0.0001")`,
//! `abs(x)`, `pct(part, total)`, `delta_pct(old, new)`, `max(list)`, `min(list)`,
//! `now()` (a timestamp, for `timestamp(expires_at) - now()`), `age(ts)` and
//! `fresh(ts, "10m")` (how old a timestamp is), `one(xs)` and `first(xs)` (a
//! value out of a list capture), and the history
//! look-ups `prev`, `avg`, `max_of`, `min_of` (see [`History`]).

mod budget;
mod calls;
mod convert;
mod freshness;
mod functions;
pub mod limits;
mod plain;
mod reads;
mod single;
mod syntax;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use cel::common::ast::{CallExpr, EntryExpr, Expr};
use cel::{Context, Env, IdedExpr};
use serde_json::Value;

pub use budget::{Halt, MAX_BUILT, MAX_ROUNDS, Stop};
pub use convert::{from_cel, to_cel};
pub use reads::{HistoryRead, LookBack};

/// Function names that read run history.
pub const HISTORY_FUNCTIONS: &[&str] = &["prev", "avg", "max_of", "min_of"];

/// Names every expression may use besides the observation's.
pub const SCOPE_NAMES: &[&str] = &["vars", "steps"];

/// A compiled expression.
#[derive(Debug, Clone)]
pub struct Expression {
    pub source: String,
    ast: IdedExpr,
    /// The top-level variables it reads.
    pub variables: Vec<String>,
    /// Whether it calls a history function.
    pub uses_history: bool,
    /// What those calls read, so the history loads only that.
    pub reads: Vec<HistoryRead>,
    /// The member paths it reads (`body.riskMetrics.globalLeverage`), shown on failure.
    paths: Vec<String>,
    /// The history look-ups it makes (`prev("size")`), shown on failure too.
    lookups: Vec<String>,
    /// Whether it loops (a comprehension), so its cost depends on the data it reads.
    pub loops: bool,
}

/// A syntax error, with its place inside the expression.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    /// 1-based, on the error's line of the expression.
    pub column: u32,
    /// The byte offset of the offending token in the expression.
    pub offset: usize,
    pub message: String,
}

/// Why an expression gave no value or no verdict. Its `Display` is the message a step
/// or a summary shows; the variant and its fields are the same facts as data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// Stopped before it finished: its loop or `+` budget, the step's deadline, the run stopping.
    #[error("{}", .halt.describe(.expression))]
    Halted { expression: String, halt: Halt },
    /// A check that gave something other than true or false.
    #[error("`{expression}` gave {value}, not true or false")]
    NotBoolean { expression: String, value: Value },
    /// A check CEL could not evaluate: a missing name, a type mismatch, a helper's error.
    #[error("`{expression}` could not be evaluated: {message}")]
    Failed { expression: String, message: String },
    /// A value [`Expression::evaluate`] could not compute; its message does not repeat the
    /// expression, which callers name themselves.
    #[error("{message}")]
    Unevaluable { expression: String, message: String },
}

impl EvalError {
    /// What sort of failure, as a step's `error_kind` says it: `timeout` (the step's
    /// deadline), `stopped` (the run is stopping) or `expression`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Halted { halt: Halt::Deadline(_), .. } => "timeout",
            Self::Halted { halt: Halt::Stopped, .. } => "stopped",
            _ => "expression",
        }
    }

    /// The expression's source text.
    pub fn expression(&self) -> &str {
        match self {
            Self::Halted { expression, .. }
            | Self::NotBoolean { expression, .. }
            | Self::Failed { expression, .. }
            | Self::Unevaluable { expression, .. } => expression,
        }
    }
}

/// Earlier runs' captured values of the step being judged.
pub trait History: Send + Sync {
    /// The newest values of `name`, newest first, at most `limit`.
    fn recent(&self, name: &str, limit: usize) -> Vec<Value>;
    /// The newest value of `name` at least `age` old.
    fn at_least(&self, name: &str, age: std::time::Duration) -> Option<Value>;
}

/// The values an expression is evaluated against.
#[derive(Default, Clone)]
pub struct Scope {
    pub variables: BTreeMap<String, Value>,
    pub history: Option<Arc<dyn History>>,
}

/// The result of judging one expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    True,
    /// False, with the observed values it read: `cpu_pct = 73.2`.
    False {
        observed: String,
    },
    /// A history function had no earlier value, so there is nothing to judge yet.
    NoHistory,
}

fn env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    Arc::clone(ENV.get_or_init(|| Arc::new(Env::stdlib())))
}

/// Compiles `source`.
pub fn compile(source: &str) -> Result<Expression, SyntaxError> {
    limits::check_source(source)?;
    let mut ast = parse(source)?;
    limits::check_depth(source, &ast)?;
    calls::check(source, &ast)?;
    let references = ast.references();
    let uses_history = HISTORY_FUNCTIONS.iter().any(|f| references.has_function(f));
    let reads = reads::history_reads(&ast);
    let mut variables = Vec::new();
    free_variables(&ast, &mut Vec::new(), &mut variables);
    route_arithmetic(&mut ast);
    let mut paths = Vec::new();
    collect_paths(&ast, &mut paths);
    paths.dedup();
    let mut lookups = Vec::new();
    collect_lookups(&ast, &mut lookups);
    let loops = budget::has_loops(&ast);
    budget::meter_loops(&mut ast);
    Ok(Expression { source: source.to_owned(), ast, variables, uses_history, reads, paths, lookups, loops })
}

/// CEL's hand-written Pratt parser is several times faster than its ANTLR
/// one; the ANTLR parser runs only when the source does not parse, because its
/// messages are the ones `syntax` knows how to say plainly.
fn parse(source: &str) -> Result<IdedExpr, SyntaxError> {
    match cel::parser::PrattParser::new().parse(source) {
        Ok(ast) => Ok(ast),
        Err(_) => match env().compile(source) {
            Ok(program) => Ok(program.expression().clone()),
            Err(errors) => Err(syntax::describe(source, &errors)),
        },
    }
}

impl Expression {
    /// The member paths it reads, e.g. `vars.limit`, `steps.db.size`, `body.status`.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// Evaluates to a value, within the budget alone.
    pub fn evaluate(&self, scope: &Scope) -> Result<Value, EvalError> {
        self.evaluate_within(scope, &Stop::default())
    }

    /// Evaluates to a value, stopping early as `stop` says.
    pub fn evaluate_within(&self, scope: &Scope, stop: &Stop) -> Result<Value, EvalError> {
        let missing = Arc::new(AtomicBool::new(false));
        let meter = Arc::new(budget::Meter::new(stop));
        let context = context(scope, &self.variables, &missing, &meter);
        let value = cel::Value::resolve(&self.ast, &context);
        if let Some(halt) = meter.halted() {
            return Err(self.halted(halt));
        }
        let value = value.map_err(|e| EvalError::Unevaluable {
            expression: self.source.clone(),
            message: plain::describe(&e, &self.observed_pairs(&context)),
        })?;
        Ok(from_cel(&value))
    }

    fn halted(&self, halt: Halt) -> EvalError {
        EvalError::Halted { expression: self.source.clone(), halt }
    }

    /// Judges the expression as a check, within the budget alone.
    pub fn judge(&self, scope: &Scope) -> Result<Judgement, EvalError> {
        self.judge_within(scope, &Stop::default())
    }

    /// Judges the expression as a check: it must be a boolean. It stops
    /// early as `stop` says.
    pub fn judge_within(&self, scope: &Scope, stop: &Stop) -> Result<Judgement, EvalError> {
        let missing = Arc::new(AtomicBool::new(false));
        let meter = Arc::new(budget::Meter::new(stop));
        let context = context(scope, &self.variables, &missing, &meter);
        let result = cel::Value::resolve(&self.ast, &context);
        if let Some(halt) = meter.halted() {
            return Err(self.halted(halt));
        }
        let no_history = missing.load(Ordering::Relaxed);
        match result {
            Ok(cel::Value::Bool(true)) => Ok(Judgement::True),
            _ if no_history => Ok(Judgement::NoHistory),
            Ok(cel::Value::Bool(false)) => Ok(Judgement::False { observed: self.observed(&context) }),
            Ok(other) => Err(EvalError::NotBoolean { expression: self.source.clone(), value: from_cel(&other) }),
            Err(error) => Err(EvalError::Failed {
                expression: self.source.clone(),
                message: plain::describe(&error, &self.observed_pairs(&context)),
            }),
        }
    }

    /// `name = value` for each path the expression reads, from `scope`. The
    /// runner passes a copy with secrets masked: a long value is cut short
    /// here, and a cut through a secret would leave a part no mask matches.
    pub fn observed_in(&self, scope: &Scope) -> String {
        let meter = Arc::new(budget::Meter::new(&Stop::default()));
        self.observed(&context(scope, &self.variables, &Arc::new(AtomicBool::new(false)), &meter))
    }

    /// The value of each path the expression reads (`prev("size")`, `body.status`), from
    /// `scope`, in full: the data behind [`Expression::observed_in`]'s text. Paths that
    /// resolve to nothing (a loop variable, a missing field) are left out.
    pub fn observed_values(&self, scope: &Scope) -> Vec<(String, Value)> {
        let meter = Arc::new(budget::Meter::new(&Stop::default()));
        self.observed_pairs(&context(scope, &self.variables, &Arc::new(AtomicBool::new(false)), &meter))
    }

    /// `name = value` for each path the expression reads, as observed.
    fn observed(&self, context: &Context) -> String {
        let shown: Vec<String> = self
            .observed_pairs(context)
            .into_iter()
            .map(|(path, value)| format!("{path} = {}", shorten(&value.to_string(), 120)))
            .collect();
        shown.join(", ")
    }

    fn observed_pairs(&self, context: &Context) -> Vec<(String, Value)> {
        self.lookups
            .iter()
            .chain(&self.paths)
            .filter_map(|path| {
                let ast = compile_path(path)?;
                let value = cel::Value::resolve(&ast, context).ok()?;
                Some((path.clone(), from_cel(&value)))
            })
            .collect()
    }
}

fn compile_path(path: &str) -> Option<IdedExpr> {
    parse(path).ok()
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

/// A context holding only the variables the expression reads: converting a
/// whole observation and every step's captures for each expression made a
/// run's judging cost grow with the square of its steps.
fn context<'a>(
    scope: &'a Scope,
    reads: &[String],
    missing: &Arc<AtomicBool>,
    meter: &Arc<budget::Meter>,
) -> Context<'a, 'a> {
    let mut context = Context::with_env(env());
    for name in reads {
        if let Some(value) = scope.variables.get(name) {
            context.add_variable_from_value(name.clone(), to_cel(value));
        }
    }
    functions::register(&mut context, scope.history.clone(), Arc::clone(missing), Arc::clone(meter));
    context
}

/// CEL refuses arithmetic on mixed `int` and `double`; route the four
/// operators through functions that promote to `double` when mixed.
fn route_arithmetic(expr: &mut IdedExpr) {
    match &mut expr.expr {
        Expr::Call(call) => {
            if let Some(name) = functions::arithmetic_for(&call.func_name) {
                call.func_name = name.to_owned();
            }
            route_call(call);
        }
        Expr::Comprehension(c) => {
            for e in [&mut c.iter_range, &mut c.accu_init, &mut c.loop_cond, &mut c.result] {
                route_arithmetic(e);
            }
            route_loop_step(&mut c.loop_step, &c.accu_var);
        }
        Expr::List(list) => list.elements.iter_mut().for_each(route_arithmetic),
        Expr::Map(map) => map.entries.iter_mut().for_each(|entry| match &mut entry.expr {
            EntryExpr::MapEntry(e) => {
                route_arithmetic(&mut e.key);
                route_arithmetic(&mut e.value);
            }
            EntryExpr::StructField(f) => route_arithmetic(&mut f.value),
        }),
        Expr::Select(select) => route_arithmetic(&mut select.operand),
        Expr::Struct(s) => s.entries.iter_mut().for_each(|entry| {
            if let EntryExpr::StructField(f) = &mut entry.expr {
                route_arithmetic(&mut f.value);
            }
        }),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// The macros' own `@result + [x]` (and `+ 1`) stay CEL's: the interpreter
/// builds `map` and `filter` in place only for that shape, and copies the
/// whole list on every round otherwise.
fn route_loop_step(step: &mut IdedExpr, accu: &str) {
    let Expr::Call(call) = &mut step.expr else { return route_arithmetic(step) };
    let adds_to_accu = call.func_name == cel::common::ast::operators::ADD
        && matches!(call.args.first().map(|a| &a.expr), Some(Expr::Ident(name)) if name == accu);
    if adds_to_accu {
        route_call(call);
    } else if call.func_name == cel::common::ast::operators::CONDITIONAL && call.args.len() == 3 {
        route_arithmetic(&mut call.args[0]);
        route_loop_step(&mut call.args[1], accu);
        route_loop_step(&mut call.args[2], accu);
    } else {
        route_arithmetic(step);
    }
}

fn route_call(call: &mut CallExpr) {
    if let Some(target) = &mut call.target {
        route_arithmetic(target);
    }
    call.args.iter_mut().for_each(route_arithmetic);
}

/// The longest `a.b.c` chains rooted at a variable, for showing observed values.
fn collect_paths(expr: &IdedExpr, out: &mut Vec<String>) {
    if let Some(path) = dotted(&expr.expr) {
        if !path.starts_with('@') && !out.contains(&path) {
            out.push(path);
        }
        return;
    }
    match &expr.expr {
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                collect_paths(target, out);
            }
            // Comprehension variables are not observed values; the macro's range is.
            call.args.iter().for_each(|a| collect_paths(a, out));
        }
        // The macro's range, and what its body reads (`steps.x.limit` inside `all(...)`), so the
        // runner orders the step after `x`; paths rooted at the loop variable resolve to nothing
        // when shown and are left out there.
        Expr::Comprehension(c) => {
            for e in [&c.iter_range, &c.loop_cond, &c.loop_step, &c.result] {
                collect_paths(e, out);
            }
        }
        Expr::List(list) => list.elements.iter().for_each(|e| collect_paths(e, out)),
        Expr::Select(select) => collect_paths(&select.operand, out),
        _ => {}
    }
}

/// The history look-ups with literal arguments (`prev("size")`), as source
/// text: on failure their values are shown beside the observed ones.
fn collect_lookups(expr: &IdedExpr, out: &mut Vec<String>) {
    match &expr.expr {
        Expr::Call(call) => match history_call(call) {
            Some(lookup) if !out.contains(&lookup) => out.push(lookup),
            Some(_) => {}
            None => {
                if let Some(target) = &call.target {
                    collect_lookups(target, out);
                }
                call.args.iter().for_each(|a| collect_lookups(a, out));
            }
        },
        Expr::List(list) => list.elements.iter().for_each(|e| collect_lookups(e, out)),
        Expr::Select(select) => collect_lookups(&select.operand, out),
        _ => {}
    }
}

/// `prev("size", "24h")`: a history look-up with literal arguments, as source text.
fn history_call(call: &CallExpr) -> Option<String> {
    if call.target.is_some() || !HISTORY_FUNCTIONS.contains(&call.func_name.as_str()) {
        return None;
    }
    // The shared environment: a `Context::default()` builds CEL's standard library
    // anew, and did so for every look-up of every expression (a quarter of a run's CPU
    // on a 500-step playbook with trend checks).
    let literal = Context::with_env(env());
    let args: Option<Vec<String>> = call
        .args
        .iter()
        .map(|arg| match &arg.expr {
            Expr::Literal(_) => cel::Value::resolve(arg, &literal).ok().map(|v| from_cel(&v).to_string()),
            _ => None,
        })
        .collect();
    Some(format!("{}({})", call.func_name, args?.join(", ")))
}

/// Variables read and not bound by a macro (`d` in `disks.all(d, d.free_pct > 20)`).
fn free_variables(expr: &IdedExpr, bound: &mut Vec<String>, out: &mut Vec<String>) {
    match &expr.expr {
        Expr::Ident(name) => {
            if !bound.contains(name) && !name.starts_with('@') && !out.contains(name) {
                out.push(name.clone());
            }
        }
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                free_variables(target, bound, out);
            }
            call.args.iter().for_each(|a| free_variables(a, bound, out));
        }
        Expr::Comprehension(c) => {
            free_variables(&c.iter_range, bound, out);
            free_variables(&c.accu_init, bound, out);
            let before = bound.len();
            bound.push(c.iter_var.clone());
            bound.extend(c.iter_var2.clone());
            bound.push(c.accu_var.clone());
            for e in [&c.loop_cond, &c.loop_step, &c.result] {
                free_variables(e, bound, out);
            }
            bound.truncate(before);
        }
        Expr::List(list) => list.elements.iter().for_each(|e| free_variables(e, bound, out)),
        Expr::Map(map) => map.entries.iter().for_each(|entry| match &entry.expr {
            EntryExpr::MapEntry(e) => {
                free_variables(&e.key, bound, out);
                free_variables(&e.value, bound, out);
            }
            EntryExpr::StructField(f) => free_variables(&f.value, bound, out),
        }),
        Expr::Select(select) => free_variables(&select.operand, bound, out),
        Expr::Struct(s) => s.entries.iter().for_each(|entry| {
            if let EntryExpr::StructField(f) = &entry.expr {
                free_variables(&f.value, bound, out);
            }
        }),
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn dotted(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Ident(name) => Some(name.clone()),
        Expr::Select(select) if !select.test => Some(format!("{}.{}", dotted(&select.operand.expr)?, select.field)),
        _ => None,
    }
}

/// Judges `source` with one variable, `name` = `value`: the helper the function tests share.
#[cfg(test)]
pub(crate) fn holds_with(source: &str, name: &str, value: Value) -> Result<bool, String> {
    let scope = Scope { variables: BTreeMap::from([(name.to_owned(), value)]), history: None };
    match compile(source).map_err(|e| format!("{e:?}"))?.evaluate(&scope).map_err(|e| e.to_string())? {
        Value::Bool(b) => Ok(b),
        other => Err(format!("not a bool: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Sizes;

    impl History for Sizes {
        fn recent(&self, name: &str, limit: usize) -> Vec<Value> {
            if name == "size" { [2100, 2000].into_iter().take(limit).map(Value::from).collect() } else { Vec::new() }
        }

        fn at_least(&self, _: &str, _: std::time::Duration) -> Option<Value> {
            None
        }
    }

    fn scope(size: i64, history: bool) -> Scope {
        let variables = BTreeMap::from([("size".to_owned(), Value::from(size))]);
        Scope { variables, history: history.then(|| Arc::new(Sizes) as Arc<dyn History>) }
    }

    #[test]
    fn a_failed_growth_check_shows_the_earlier_and_the_new_value() {
        let check = compile(r#"delta_pct(prev("size"), size) < 10"#).unwrap();
        assert_eq!(check.judge(&scope(2205, true)), Ok(Judgement::True));
        assert_eq!(
            check.judge(&scope(2415, true)),
            Ok(Judgement::False { observed: r#"prev("size") = 2100, size = 2415"#.to_owned() })
        );
    }

    #[test]
    fn errors_are_typed_and_say_what_they_said_as_text() {
        let text = compile("body > 3").unwrap();
        let scope = Scope { variables: BTreeMap::from([("body".to_owned(), Value::from("ok"))]), history: None };
        let error = text.judge(&scope).unwrap_err();
        assert!(matches!(&error, EvalError::Failed { expression, .. } if expression == "body > 3"), "{error:?}");
        assert_eq!(error.kind(), "expression");
        assert!(error.to_string().starts_with("`body > 3` could not be evaluated: "), "{error}");
        let number = compile("1 + 1").unwrap().judge(&Scope::default()).unwrap_err();
        assert_eq!(number, EvalError::NotBoolean { expression: "1 + 1".to_owned(), value: Value::from(2) });
        assert_eq!(number.to_string(), "`1 + 1` gave 2, not true or false");
        let late =
            EvalError::Halted { expression: "x".to_owned(), halt: Halt::Deadline(std::time::Duration::from_secs(2)) };
        assert_eq!((late.kind(), late.to_string().as_str()), ("timeout", "timed out after 2s judging `x`"));
        let unevaluable = compile("body > 3").unwrap().evaluate(&scope).unwrap_err();
        assert_eq!(unevaluable.expression(), "body > 3");
        assert!(!unevaluable.to_string().contains("could not be evaluated"), "{unevaluable}");
    }

    #[test]
    fn a_failed_check_observes_its_values_as_data() {
        let check = compile(r#"delta_pct(prev("size"), size) < 10"#).unwrap();
        assert_eq!(
            check.observed_values(&scope(2415, true)),
            vec![(r#"prev("size")"#.to_owned(), Value::from(2100)), ("size".to_owned(), Value::from(2415))]
        );
    }

    #[test]
    fn no_earlier_value_is_no_history_not_a_failure() {
        let check = compile(r#"delta_pct(prev("size"), size) < 10"#).unwrap();
        assert_eq!(check.judge(&scope(99_999, false)), Ok(Judgement::NoHistory));
        let missing_name = compile(r#"prev("other") == null || size > prev("other")"#).unwrap();
        assert_eq!(missing_name.judge(&scope(1, true)), Ok(Judgement::True));
    }

    #[test]
    fn aggregates_read_the_last_n_values() {
        let value = |source: &str| compile(source).unwrap().evaluate(&scope(0, true)).unwrap();
        assert_eq!(value(r#"avg("size", 2)"#), Value::from(2050.0));
        assert_eq!(value(r#"max_of("size", 5)"#), Value::from(2100.0));
        assert_eq!(value(r#"min_of("size", 1)"#), Value::from(2100.0));
    }

    fn holds(source: &str) -> bool {
        compile(source).expect("compiles").judge(&Scope::default()).expect("evaluates") == Judgement::True
    }

    #[test]
    fn ops_helpers_are_ours_and_not_the_cel_built_ins_of_the_same_name() {
        for source in [
            r#"bytes("200MB") == 200 * 1024 * 1024"#,
            r#"bytes("1.5GiB") > bytes("1GB")"#,
            r#"num("0.0001") == 0.0001"#,
            "abs(-2) == 2 && abs(-2.5) == 2.5",
            "pct(1, 4) == 25.0",
            "delta_pct(100, 110) == 10.0",
            "1.5 - 1 == 0.5 && 2 * 1.5 == 3.0",
        ] {
            assert!(holds(source), "{source}");
        }
    }
}
