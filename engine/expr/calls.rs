//! Calls checked when an expression compiles, so `runbook validate` catches
//! `split(…)`, `foo()` or `pct(x)` instead of the run: a function must be
//! CEL's own (declared in its standard environment) or one of the engine's
//! ([`functions::FUNCTIONS`], with its argument counts).

use std::sync::Arc;

use cel::common::ast::{EntryExpr, Expr};
use cel::extractors::Arguments;
use cel::objects::ResolveResult;
use cel::{Context, IdedExpr};

use super::functions::{FUNCTIONS, signature};
use super::{SyntaxError, limits};

/// The first call in `ast` to a function that does not exist or with the wrong
/// number of arguments, placed in `source`.
pub fn check(source: &str, ast: &IdedExpr) -> Result<(), SyntaxError> {
    let mut calls = Vec::new();
    collect(ast, &mut calls);
    for (name, count) in calls {
        if let Some(message) = problem(&name, count) {
            return Err(limits::at(source, offset_of(source, &name), message));
        }
    }
    Ok(())
}

/// What is wrong with a call to `name` with `count` arguments, if anything.
fn problem(name: &str, count: usize) -> Option<String> {
    if let Some((min, max)) = signature(name) {
        if (min..=max).contains(&count) {
            return None;
        }
        let takes = match (min, max) {
            (n, m) if n == m => format!("{n} argument{}", if n == 1 { "" } else { "s" }),
            (n, usize::MAX) => format!("at least {n} argument{}", if n == 1 { "" } else { "s" }),
            (n, m) => format!("{n} to {m} arguments"),
        };
        return Some(format!("`{name}` takes {takes}, not {count}"));
    }
    if declared_by_cel(name) {
        return None;
    }
    let hint = crate::suggest::did_you_mean(name, FUNCTIONS.iter().map(|(n, _, _)| *n))
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    let ours: Vec<&str> = FUNCTIONS.iter().map(|(n, _, _)| *n).collect();
    Some(format!("there is no function `{name}`{hint} (runbook adds {} to CEL's standard functions)", ours.join(", ")))
}

/// Whether CEL's standard environment declares `name`: it refuses to let a
/// context add a function of a name it declares, which is the one public way to ask.
fn declared_by_cel(name: &str) -> bool {
    let mut context = Context::with_env(Arc::clone(&super::env()));
    context.add_function(name, |_: Arguments| -> ResolveResult { Ok(cel::Value::Null) }).is_err()
}

/// Every call written in the expression (not operators nor the engine's own
/// rewrites), with its argument count; a method's receiver counts as one.
fn collect(expr: &IdedExpr, out: &mut Vec<(String, usize)>) {
    match &expr.expr {
        Expr::Call(call) => {
            let written = call.func_name.starts_with(|c: char| c.is_ascii_alphabetic());
            if written && !call.func_name.starts_with("rb_") {
                out.push((call.func_name.clone(), call.args.len() + usize::from(call.target.is_some())));
            }
            call.target.iter().for_each(|t| collect(t, out));
            call.args.iter().for_each(|a| collect(a, out));
        }
        Expr::Comprehension(c) => {
            for e in [&c.iter_range, &c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                collect(e, out);
            }
        }
        Expr::List(list) => list.elements.iter().for_each(|e| collect(e, out)),
        Expr::Map(map) => map.entries.iter().for_each(|entry| match &entry.expr {
            EntryExpr::MapEntry(e) => {
                collect(&e.key, out);
                collect(&e.value, out);
            }
            EntryExpr::StructField(f) => collect(&f.value, out),
        }),
        Expr::Select(select) => collect(&select.operand, out),
        Expr::Struct(s) => s.entries.iter().for_each(|entry| {
            if let EntryExpr::StructField(f) = &entry.expr {
                collect(&f.value, out);
            }
        }),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// Where `name(` is written (or `.name(`), for the diagnostic's column.
fn offset_of(source: &str, name: &str) -> usize {
    let mut from = 0;
    while let Some(found) = source[from..].find(name).map(|i| i + from) {
        let before_ok = source[..found].chars().next_back().is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let after_ok = source[found + name.len()..].trim_start().starts_with('(');
        if before_ok && after_ok {
            return found;
        }
        from = found + name.len();
    }
    0
}

#[cfg(test)]
mod tests {
    use crate::expr::compile;

    fn refused(source: &str) -> String {
        compile(source).map(|_| ()).expect_err(source).message
    }

    #[test]
    fn an_unknown_function_is_refused_when_the_expression_compiles() {
        assert!(refused("foo() == 1").starts_with("there is no function `foo` (runbook adds num, abs,"));
        assert!(refused("split(body, ',').size() == 2").starts_with("there is no function `split`"));
        assert!(refused("prv('size') > 1").starts_with("there is no function `prv`; did you mean `prev`?"));
        assert_eq!(compile("x  +  fooo(1)").map(|_| ()).unwrap_err().column, 7);
    }

    #[test]
    fn a_wrong_number_of_arguments_is_refused() {
        assert_eq!(refused("pct(1) > 2"), "`pct` takes 2 arguments, not 1");
        assert_eq!(refused("now(1) > 2"), "`now` takes 0 arguments, not 1");
        assert_eq!(refused("prev('a', '1h', 3) > 2"), "`prev` takes 1 to 2 arguments, not 3");
        assert_eq!(refused("[1].one(2) == 1"), "`one` takes 1 argument, not 2");
    }

    #[test]
    fn cel_functions_macros_and_every_engine_function_compile() {
        for source in [
            "size(body) > 1 && body.contains('x') && body.startsWith('a') && int('3') == 3",
            "items.all(i, i > 0) && items.exists(i, i > 1) && items.map(i, i * 2).size() == 3 && has(body.x)",
            "timestamp('2026-01-01T00:00:00Z') < now() && duration('1h') > duration('1m') && string(1) == '1'",
            "num('1') + abs(-1) + pct(1, 2) + delta_pct(1, 2) + max(1, 2) + min([1]) > 0",
            "fresh(ts, '10m') && age(ts) > duration('1s') && one(xs) == first(xs)",
            "prev('a') + avg('a', 3) + max_of('a', 3) + min_of('a', 3) > bytes('1MB')",
            "'a,b'.matches('a') && type(1) == int && double(1) == 1.0 && uint(1) == 1u",
        ] {
            assert!(compile(source).is_ok(), "{source}: {:?}", compile(source).err());
        }
    }

    #[test]
    fn every_listed_function_is_registered() {
        use crate::expr::{EvalError, Scope};
        for (name, min, _) in super::FUNCTIONS {
            let args = vec!["null"; *min].join(", ");
            let source = format!("{name}({args})");
            let error = compile(&source).expect("compiles").evaluate(&Scope::default()).err();
            let undeclared = matches!(&error, Some(EvalError::Unevaluable { message, .. }) if message.starts_with("nothing is named"));
            assert!(!undeclared, "{source}: {error:?}");
        }
    }
}
