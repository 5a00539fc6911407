//! The functions ops playbooks need on top of CEL's own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use cel::extractors::Arguments;
use cel::objects::ResolveResult;
use cel::{Context, ExecutionError, Value};

use super::budget::{Meter, ROUND};
use super::{History, to_cel};
use crate::units::{parse_duration, parse_size};

/// Our function for a CEL arithmetic operator, or for a name CEL's standard
/// env already declares (`bytes` is its string-to-bytes conversion, which a
/// context cannot override, so `bytes("200MB")` is routed to ours).
pub fn arithmetic_for(operator: &str) -> Option<&'static str> {
    Some(match operator {
        "_+_" => "rb_add",
        "_-_" => "rb_sub",
        "_*_" => "rb_mul",
        "_/_" => "rb_div",
        "bytes" => "rb_bytes",
        _ => return None,
    })
}

/// Every function the engine adds to CEL's own, with the fewest and most
/// arguments it takes (a method call's receiver counts as the first). The one
/// list: [`add`] refuses a name that is not in it, a test holds every entry to
/// being registered, and `runbook validate` checks calls against it.
pub const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("num", 1, 1),
    ("abs", 1, 1),
    ("pct", 2, 2),
    ("delta_pct", 2, 2),
    ("max", 1, usize::MAX),
    ("min", 1, usize::MAX),
    ("now", 0, 0),
    ("age", 1, 2),
    ("fresh", 2, 2),
    ("one", 1, 1),
    ("first", 1, 1),
    ("prev", 1, 2),
    ("avg", 2, 2),
    ("max_of", 2, 2),
    ("min_of", 2, 2),
];

/// The argument counts of one of [`FUNCTIONS`].
pub fn signature(name: &str) -> Option<(usize, usize)> {
    FUNCTIONS.iter().find(|(n, _, _)| *n == name).map(|&(_, min, max)| (min, max))
}

/// Adds one of [`FUNCTIONS`] to `context`.
pub(super) fn add<T: 'static>(
    context: &mut Context,
    name: &'static str,
    function: impl cel::extractors::IntoFunction<T> + Send + Sync + 'static,
) {
    debug_assert!(signature(name).is_some(), "`{name}` is registered but not in FUNCTIONS");
    let _ = context.add_function(name, function);
}

fn fail(function: &str, message: impl ToString) -> ExecutionError {
    ExecutionError::function_error(function, message)
}

fn args<const N: usize>(function: &str, args: &Arguments) -> Result<[Value; N], ExecutionError> {
    <[Value; N]>::try_from(args.0.as_slice().to_vec())
        .map_err(|_| fail(function, format!("takes {N} argument(s), got {}", args.0.len())))
}

fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Int(i) => Some(*i as f64),
        Value::UInt(u) => Some(*u as f64),
        Value::Float(f) => Some(*f),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn number(function: &str, value: &Value) -> Result<f64, ExecutionError> {
    as_f64(value).ok_or_else(|| fail(function, format!("needs a number, got {}", super::from_cel(value))))
}

/// Mixed int/double operands become doubles; anything else keeps CEL's
/// meaning, and what it builds is charged to `meter`.
fn arithmetic(
    name: &'static str,
    op: fn(Value, Value) -> ResolveResult,
    f: fn(f64, f64) -> f64,
    meter: Arc<Meter>,
) -> impl Fn(Arguments) -> ResolveResult {
    move |a: Arguments| {
        let [left, right] = args::<2>(name, &a)?;
        let mixed = matches!(
            (&left, &right),
            (Value::Int(_) | Value::UInt(_), Value::Float(_))
                | (Value::Float(_), Value::Int(_) | Value::UInt(_))
                | (Value::Int(_), Value::UInt(_))
                | (Value::UInt(_), Value::Int(_))
        );
        if mixed {
            let (l, r) = (as_f64(&left).unwrap_or(f64::NAN), as_f64(&right).unwrap_or(f64::NAN));
            return Ok(Value::Float(f(l, r)));
        }
        let value = op(left, right)?;
        meter.built(&value)?;
        Ok(value)
    }
}

/// Registers every helper on a context. History helpers read `history`;
/// when one finds no earlier value it sets `missing`, so the step can say
/// "no earlier value" instead of failing. `meter` counts loop rounds and
/// what `+` builds (see `budget`).
pub fn register(context: &mut Context, history: Option<Arc<dyn History>>, missing: Arc<AtomicBool>, meter: Arc<Meter>) {
    let m = Arc::clone(&meter);
    let _ = context.add_function(ROUND, move |a: Arguments| -> ResolveResult {
        m.round()?;
        let [v] = args::<1>(ROUND, &a)?;
        Ok(v)
    });
    let _ = context.add_function("rb_add", arithmetic("+", |l, r| l + r, |l, r| l + r, Arc::clone(&meter)));
    let _ = context.add_function("rb_sub", arithmetic("-", |l, r| l - r, |l, r| l - r, Arc::clone(&meter)));
    let _ = context.add_function("rb_mul", arithmetic("*", |l, r| l * r, |l, r| l * r, Arc::clone(&meter)));
    let _ = context.add_function("rb_div", arithmetic("/", |l, r| l / r, |l, r| l / r, meter));
    let _ = context.add_function("rb_bytes", |a: Arguments| -> ResolveResult {
        let [v] = args::<1>("bytes", &a)?;
        match &v {
            Value::String(s) => parse_size(s).map(|b| Value::Int(b as i64)).map_err(|e| fail("bytes", e)),
            other => Ok(Value::Int(number("bytes", other)? as i64)),
        }
    });
    add(context, "num", |a: Arguments| -> ResolveResult {
        let [v] = args::<1>("num", &a)?;
        if let Value::Null = v {
            return Ok(Value::Null);
        }
        Ok(Value::Float(number("num", &v)?))
    });
    add(context, "abs", |a: Arguments| -> ResolveResult {
        let [v] = args::<1>("abs", &a)?;
        Ok(match v {
            Value::Int(i) => Value::Int(i.saturating_abs()),
            other => Value::Float(number("abs", &other)?.abs()),
        })
    });
    add(context, "pct", |a: Arguments| -> ResolveResult {
        let [part, total] = args::<2>("pct", &a)?;
        let total = number("pct", &total)?;
        Ok(Value::Float(if total == 0.0 { 0.0 } else { number("pct", &part)? / total * 100.0 }))
    });
    add(context, "delta_pct", |a: Arguments| -> ResolveResult {
        let [old, new] = args::<2>("delta_pct", &a)?;
        if matches!(old, Value::Null) || matches!(new, Value::Null) {
            return Ok(Value::Null);
        }
        let (old, new) = (number("delta_pct", &old)?, number("delta_pct", &new)?);
        Ok(Value::Float(if old == 0.0 {
            if new == 0.0 { 0.0 } else { f64::INFINITY }
        } else {
            (new - old) / old.abs() * 100.0
        }))
    });
    // CEL's own `max`/`min` (a list or several arguments) are not in the standard env.
    add(context, "max", cel::functions::max);
    add(context, "min", cel::functions::min);
    add(context, "now", |_: Arguments| -> ResolveResult { Ok(Value::Timestamp(chrono::Utc::now().fixed_offset())) });
    super::freshness::register(context);
    super::single::register(context);
    register_history(context, history, missing);
}

fn register_history(context: &mut Context, history: Option<Arc<dyn History>>, missing: Arc<AtomicBool>) {
    let lookup = Arc::new(Lookup { history, missing });
    let l = Arc::clone(&lookup);
    add(context, "prev", move |a: Arguments| -> ResolveResult {
        let name = text("prev", a.0.first())?;
        let value = match a.0.get(1) {
            None => l.recent(&name, 1).into_iter().next(),
            Some(age) => {
                let age = parse_duration(&text("prev", Some(age))?).map_err(|e| fail("prev", e))?;
                l.history.as_ref().and_then(|h| h.at_least(&name, age))
            }
        };
        Ok(l.found(value.map(|v| to_cel(&v))))
    });
    for (name, reduce) in [("avg", reduce_avg as fn(&[f64]) -> f64), ("max_of", reduce_max), ("min_of", reduce_min)] {
        let l = Arc::clone(&lookup);
        add(context, name, move |a: Arguments| -> ResolveResult {
            let [field, count] = args::<2>(name, &a)?;
            let field = text(name, Some(&field))?;
            let count = number(name, &count)?.max(1.0) as usize;
            let values: Vec<f64> = l.recent(&field, count).iter().filter_map(serde_json::Value::as_f64).collect();
            Ok(l.found((!values.is_empty()).then(|| Value::Float(reduce(&values)))))
        });
    }
}

struct Lookup {
    history: Option<Arc<dyn History>>,
    missing: Arc<AtomicBool>,
}

impl Lookup {
    fn recent(&self, name: &str, limit: usize) -> Vec<serde_json::Value> {
        self.history.as_ref().map(|h| h.recent(name, limit)).unwrap_or_default()
    }

    fn found(&self, value: Option<Value>) -> Value {
        value.unwrap_or_else(|| {
            self.missing.store(true, Ordering::Relaxed);
            Value::Null
        })
    }
}

fn text(function: &str, value: Option<&Value>) -> Result<String, ExecutionError> {
    match value {
        Some(Value::String(s)) => Ok(s.as_ref().clone()),
        _ => Err(fail(function, "needs a captured name as a string, e.g. prev(\"size\")")),
    }
}

fn reduce_avg(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn reduce_max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::MIN, f64::max)
}

fn reduce_min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::MAX, f64::min)
}

#[cfg(test)]
mod tests {
    use crate::expr::{Judgement, Scope, compile};

    fn holds(source: &str) -> bool {
        compile(source).unwrap().judge(&Scope::default()).unwrap() == Judgement::True
    }

    #[test]
    fn paths_read_inside_a_macro_count_for_ordering() {
        let e = compile("body.positions.all(p, p.notional <= steps.limits.max_notional)").unwrap();
        assert!(e.paths().contains(&"steps.limits.max_notional".to_owned()), "{:?}", e.paths());
    }

    #[test]
    fn bytes_reads_a_size_in_powers_of_1024() {
        assert!(holds("bytes('200MB') == 200 * 1024 * 1024"));
        assert!(holds("150000000 < bytes('200MB')"));
        assert!(holds("bytes('1GB') > bytes('999MB')"));
    }

    #[test]
    fn max_and_min_take_a_list_or_arguments() {
        assert!(holds("max([3.5, 9.0, 1.0]) == 9.0"));
        assert!(holds("min(['12', '8', '10'].map(x, num(x))) == 8.0"));
        assert!(holds("max(2, 7) == 7"));
    }

    #[test]
    fn now_is_a_timestamp_between_known_dates() {
        assert!(holds("now() > timestamp('2024-01-01T00:00:00Z')"));
        assert!(holds("timestamp('2999-01-01T00:00:00Z') - now() > duration('24h')"));
    }
}

#[cfg(test)]
mod properties {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use crate::expr::{Scope, compile};

    /// `source` evaluated with `x` and `y` bound.
    fn eval(source: &str, x: Value, y: Value) -> Value {
        let scope = Scope { variables: BTreeMap::from([("x".to_owned(), x), ("y".to_owned(), y)]), history: None };
        compile(source).unwrap().evaluate(&scope).unwrap_or_else(|e| panic!("{source}: {e}"))
    }

    fn float(value: &Value) -> f64 {
        value.as_f64().unwrap_or_else(|| panic!("not a number: {value}"))
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    fn number() -> impl Strategy<Value = Value> {
        prop_oneof![any::<i32>().prop_map(Value::from), (-1e9f64..1e9).prop_map(Value::from)]
    }

    proptest! {
        #[test]
        fn no_expression_text_makes_compile_or_evaluate_panic(source in ".{0,60}") {
            if let Ok(e) = compile(&source) {
                let _ = e.evaluate(&Scope::default());
                let _ = e.judge(&Scope::default());
            }
        }

        #[test]
        fn pct_of_a_total_times_the_total_is_the_part(part in number(), total in number()) {
            let (p, t) = (float(&part), float(&total));
            prop_assume!(t != 0.0);
            let pct = float(&eval("pct(x, y)", part, total));
            prop_assert!(close(pct * t / 100.0, p), "pct({p}, {t}) = {pct}");
        }

        #[test]
        fn pct_of_a_zero_total_is_zero(part in number()) {
            prop_assert_eq!(float(&eval("pct(x, y)", part, json!(0))), 0.0);
        }

        #[test]
        fn delta_pct_is_the_change_as_a_pct_of_the_old_value(old in number(), new in number()) {
            let (o, n) = (float(&old), float(&new));
            prop_assume!(o != 0.0);
            let delta = float(&eval("delta_pct(x, y)", old.clone(), new.clone()));
            prop_assert!(close(delta, float(&eval("pct(y - x, abs(x))", old, new))), "delta_pct({o}, {n}) = {delta}");
            prop_assert!(close(o + o.abs() * delta / 100.0, n), "delta_pct({o}, {n}) = {delta}");
            prop_assert_eq!(delta > 0.0, n > o);
        }

        #[test]
        fn no_change_is_a_zero_delta(value in number()) {
            prop_assert_eq!(float(&eval("delta_pct(x, y)", value.clone(), value)), 0.0);
        }

        #[test]
        fn a_missing_value_has_no_delta(value in number()) {
            prop_assert_eq!(eval("delta_pct(x, y)", Value::Null, value.clone()), Value::Null);
            prop_assert_eq!(eval("delta_pct(x, y)", value, Value::Null), Value::Null);
        }

        #[test]
        fn abs_is_never_negative_and_ignores_the_sign(value in number()) {
            let a = float(&eval("abs(x)", value.clone(), Value::Null));
            prop_assert!(a >= 0.0 && a == float(&value).abs());
            prop_assert_eq!(eval("abs(x) == abs(0 - x)", value, Value::Null), json!(true));
        }

        #[test]
        fn abs_of_the_smallest_int_saturates(offset in 0i64..4) {
            prop_assert_eq!(eval("abs(x)", json!(i64::MIN + offset), Value::Null), json!(i64::MAX - offset.max(1) + 1));
        }

        #[test]
        fn max_and_min_bound_every_item_and_are_items(items in prop::collection::vec(-1e9f64..1e9, 1..20)) {
            let list = json!(items);
            let (max, min) = (float(&eval("max(x)", list.clone(), Value::Null)), float(&eval("min(x)", list, Value::Null)));
            prop_assert!(items.iter().all(|&i| min <= i && i <= max));
            prop_assert!(items.contains(&max) && items.contains(&min));
        }

        #[test]
        fn num_reads_back_the_number_a_string_holds(value in -1e12f64..1e12) {
            prop_assert_eq!(float(&eval("num(x)", json!(value.to_string()), Value::Null)), value);
        }

        #[test]
        fn bytes_agrees_with_the_size_parser(n in 0u32..1_000_000, unit in prop::sample::select(vec!["", "B", "KB", "MiB", "gb", "T"])) {
            let text = format!("{n}{unit}");
            let expected = crate::units::parse_size(&text).unwrap() as i64;
            prop_assert_eq!(eval("bytes(x)", json!(text), Value::Null), json!(expected));
        }

        #[test]
        fn mixed_arithmetic_is_done_in_doubles(a in any::<i32>(), b in -1e6f64..1e6) {
            prop_assert!(close(float(&eval("x + y", json!(a), json!(b))), f64::from(a) + b));
            prop_assert!(close(float(&eval("x - y", json!(a), json!(b))), f64::from(a) - b));
            prop_assert!(close(float(&eval("x * y", json!(a), json!(b))), f64::from(a) * b));
        }
    }
}
