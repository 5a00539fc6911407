//! What an expression reads from the history, known before the run: which
//! names `prev`, `avg`, `max_of` and `min_of` look up, and how far back. The
//! history loads exactly that (bounded, indexed queries) instead of a step's
//! whole past, so a run's time does not grow with the size of the store.

use std::time::Duration;

use cel::IdedExpr;
use cel::common::ast::{EntryExpr, Expr, LiteralValue};

use super::HISTORY_FUNCTIONS;
use crate::units::parse_duration;

/// One look-up an expression makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryRead {
    /// The newest `count` values of `name` (`prev("x")` is 1, `avg("x", 30)` is 30).
    Recent { name: String, count: usize },
    /// The newest value of `name` at least `age` old (`prev("x", "24h")`).
    Before { name: String, age: Duration },
    /// A look-up whose name or reach is only known while evaluating: the step's
    /// whole past must be loaded, as before bounded look-ups.
    Unbounded,
}

impl HistoryRead {
    /// The name it reads ("" when computed).
    pub fn name(&self) -> &str {
        match self {
            Self::Recent { name, .. } | Self::Before { name, .. } => name,
            Self::Unbounded => "",
        }
    }
}

/// How far back a playbook's checks look: the newest `runs` runs, and every
/// run younger than `age` plus the newest older one. Retention keeps that.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LookBack {
    pub runs: usize,
    pub age: Duration,
    /// A look-up of computed reach: nothing may be pruned by count or age for it to hold,
    /// so retention keeps what it is told and warns.
    pub unbounded: bool,
}

impl LookBack {
    pub fn of(reads: impl IntoIterator<Item = HistoryRead>) -> Self {
        reads.into_iter().fold(Self::default(), |back, read| match read {
            HistoryRead::Recent { count, .. } => Self { runs: back.runs.max(count), ..back },
            HistoryRead::Before { age, .. } => Self { age: back.age.max(age), ..back },
            HistoryRead::Unbounded => Self { unbounded: true, ..back },
        })
    }
}

/// Every history look-up in `expr`.
pub fn history_reads(expr: &IdedExpr) -> Vec<HistoryRead> {
    let mut out = Vec::new();
    walk(expr, &mut out);
    out.dedup();
    out
}

fn walk(expr: &IdedExpr, out: &mut Vec<HistoryRead>) {
    match &expr.expr {
        Expr::Call(call) => {
            if call.target.is_none() && HISTORY_FUNCTIONS.contains(&call.func_name.as_str()) {
                out.push(read_of(&call.func_name, &call.args));
            }
            call.target.iter().for_each(|t| walk(t, out));
            call.args.iter().for_each(|a| walk(a, out));
        }
        Expr::Comprehension(c) => {
            for e in [&c.iter_range, &c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                walk(e, out);
            }
        }
        Expr::List(list) => list.elements.iter().for_each(|e| walk(e, out)),
        Expr::Map(map) => map.entries.iter().for_each(|entry| entry_children(&entry.expr, out)),
        Expr::Struct(s) => s.entries.iter().for_each(|entry| entry_children(&entry.expr, out)),
        Expr::Select(select) => walk(&select.operand, out),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn entry_children(entry: &EntryExpr, out: &mut Vec<HistoryRead>) {
    match entry {
        EntryExpr::MapEntry(e) => {
            walk(&e.key, out);
            walk(&e.value, out);
        }
        EntryExpr::StructField(f) => walk(&f.value, out),
    }
}

/// `prev("x")`, `prev("x", "24h")`, `avg("x", 30)`: literal arguments give a bounded read.
fn read_of(function: &str, args: &[IdedExpr]) -> HistoryRead {
    let literal = |i: usize| match args.get(i).map(|a| &a.expr) {
        Some(Expr::Literal(value)) => Some(value),
        _ => None,
    };
    let Some(LiteralValue::String(name)) = literal(0) else { return HistoryRead::Unbounded };
    let name = name.inner().to_owned();
    let read = match (function, args.len(), literal(1)) {
        ("prev", 1, _) => Some(HistoryRead::Recent { name, count: 1 }),
        ("prev", 2, Some(LiteralValue::String(age))) => {
            parse_duration(age).ok().map(|age| HistoryRead::Before { name, age })
        }
        (_, 2, Some(LiteralValue::Int(n))) => Some(HistoryRead::Recent { name, count: count(**n as f64) }),
        (_, 2, Some(LiteralValue::UInt(n))) => Some(HistoryRead::Recent { name, count: count(**n as f64) }),
        (_, 2, Some(LiteralValue::Double(n))) => Some(HistoryRead::Recent { name, count: count(**n) }),
        _ => None,
    };
    read.unwrap_or(HistoryRead::Unbounded)
}

/// As the aggregates count: at least one.
fn count(n: f64) -> usize {
    n.max(1.0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(source: &str) -> Vec<HistoryRead> {
        crate::expr::compile(source).unwrap().reads
    }

    fn recent(name: &str, count: usize) -> HistoryRead {
        HistoryRead::Recent { name: name.to_owned(), count }
    }

    #[test]
    fn literal_look_ups_are_bounded() {
        assert_eq!(reads(r#"delta_pct(prev("size"), size) < 10"#), [recent("size", 1)]);
        assert_eq!(reads(r#"x < avg("lat", 30) * 2 && x > min_of("lat", 5.0)"#), [recent("lat", 30), recent("lat", 5)]);
        assert_eq!(
            reads(r#"size - prev("size", "24h") < 100"#),
            [HistoryRead::Before { name: "size".to_owned(), age: Duration::from_secs(86_400) }]
        );
        assert!(reads("x > 1").is_empty());
    }

    #[test]
    fn look_ups_inside_lists_and_macros_are_found() {
        assert_eq!(reads(r#"[1, 2].all(i, i < max_of("n", 3))"#), [recent("n", 3)]);
        assert_eq!(reads(r#"{"a": prev("m")}["a"] == 1"#), [recent("m", 1)]);
    }

    #[test]
    fn a_computed_name_or_count_is_unbounded() {
        assert_eq!(reads(r#"prev(vars.name) == 1"#), [HistoryRead::Unbounded]);
        assert_eq!(reads(r#"avg("x", vars.n) == 1.0"#), [HistoryRead::Unbounded]);
    }
}
