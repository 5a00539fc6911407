//! How large an expression may be. Both CEL parsers and the interpreter
//! recurse once per level of the expression (a chain `a + b + c` is one level
//! per operator), and in a debug build a level of evaluation takes about
//! 28 KB of stack: 4,500 `+` terms overflowed it, which aborts the process
//! with no report and no history. So the source is measured before either
//! parser sees it, and the tree's depth before anything evaluates it.

use cel::IdedExpr;
use cel::common::ast::{EntryExpr, Expr};

use super::SyntaxError;

/// The longest expression, in bytes.
pub const MAX_BYTES: usize = 16 * 1024;

/// The most operators, dots, calls and indexes in one expression.
pub const MAX_OPERATORS: usize = 500;

/// The deepest brackets (`(`, `[`, `{`) may nest.
pub const MAX_NESTING: usize = 32;

/// The deepest the parsed expression may be: every operator of a chain, every
/// call and every bracket is a level. 48 levels evaluate inside a 2 MB stack
/// (a test thread's) in a debug build.
pub const MAX_DEPTH: usize = 48;

/// Refuses `source` past [`MAX_BYTES`], [`MAX_OPERATORS`] or [`MAX_NESTING`],
/// counted in the text (strings included: it is a bound, not a parse).
pub fn check_source(source: &str) -> Result<(), SyntaxError> {
    if source.len() > MAX_BYTES {
        let message = format!("the expression is {} bytes; the limit is {MAX_BYTES} bytes", source.len());
        return Err(at(source, 0, message));
    }
    let bytes = source.as_bytes();
    let (mut operators, mut nesting, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        let (b, next) = (bytes[i], bytes.get(i + 1).copied());
        let width = match (b, next) {
            (b'&', Some(b'&')) | (b'|', Some(b'|')) | (b'=' | b'!' | b'<' | b'>', Some(b'=')) => 2,
            _ => 1,
        };
        if matches!(b, b'+' | b'-' | b'*' | b'/' | b'%' | b'!' | b'<' | b'>' | b'=' | b'&' | b'|' | b'?' | b'.')
            || matches!(b, b'(' | b'[')
            || is_in_keyword(bytes, i)
        {
            operators += 1;
            if operators > MAX_OPERATORS {
                let message = format!(
                    "the expression has more than {MAX_OPERATORS} operators, dots, calls and indexes; split it into several expressions"
                );
                return Err(at(source, i, message));
            }
        }
        match b {
            b'(' | b'[' | b'{' => {
                nesting += 1;
                if nesting > MAX_NESTING {
                    return Err(at(source, i, format!("brackets nest more than {MAX_NESTING} deep")));
                }
            }
            b')' | b']' | b'}' => nesting = nesting.saturating_sub(1),
            _ => {}
        }
        i += width;
    }
    Ok(())
}

/// Whether `in` (a relation, chainable like `<`) starts at `i` as a word.
fn is_in_keyword(bytes: &[u8], i: usize) -> bool {
    let word = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
    bytes[i..].starts_with(b"in") && !word(i.checked_sub(1).and_then(|p| bytes.get(p))) && !word(bytes.get(i + 2))
}

/// Refuses a parsed expression deeper than [`MAX_DEPTH`] levels.
pub fn check_depth(source: &str, ast: &IdedExpr) -> Result<(), SyntaxError> {
    if depth(ast, 0) > MAX_DEPTH {
        let message = format!(
            "the expression is more than {MAX_DEPTH} levels deep (each operator of a chain like `a + b + c` is a level); split it into several expressions"
        );
        return Err(at(source, 0, message));
    }
    Ok(())
}

/// The depth of `expr`, counting no further than one past the limit.
fn depth(expr: &IdedExpr, above: usize) -> usize {
    let here = above + 1;
    if here > MAX_DEPTH {
        return here;
    }
    let deepest = |children: &mut dyn Iterator<Item = &IdedExpr>| children.map(|c| depth(c, here)).max();
    let below = match &expr.expr {
        Expr::Call(call) => deepest(&mut call.target.iter().map(|t| &**t).chain(&call.args)),
        Expr::Comprehension(c) => {
            deepest(&mut [&c.iter_range, &c.accu_init, &c.loop_cond, &c.loop_step, &c.result].into_iter())
        }
        Expr::List(list) => deepest(&mut list.elements.iter()),
        Expr::Map(map) => deepest(&mut map.entries.iter().flat_map(|entry| match &entry.expr {
            EntryExpr::MapEntry(e) => vec![&e.key, &e.value],
            EntryExpr::StructField(f) => vec![&f.value],
        })),
        Expr::Struct(s) => deepest(&mut s.entries.iter().flat_map(|entry| match &entry.expr {
            EntryExpr::MapEntry(e) => vec![&e.key, &e.value],
            EntryExpr::StructField(f) => vec![&f.value],
        })),
        Expr::Select(select) => Some(depth(&select.operand, here)),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => None,
    };
    below.unwrap_or(here)
}

pub(super) fn at(source: &str, offset: usize, message: String) -> SyntaxError {
    let line_start = source[..offset].rfind('\n').map_or(0, |n| n + 1);
    let column = source[line_start..offset].chars().count() + 1;
    SyntaxError { column: u32::try_from(column).unwrap_or(u32::MAX), offset, message }
}

#[cfg(test)]
mod tests {
    use crate::expr::compile;

    fn refused(source: &str) -> String {
        match compile(source) {
            Err(e) => e.message,
            Ok(_) => panic!("compiled"),
        }
    }

    #[test]
    fn a_chain_of_4500_terms_is_refused_before_parsing() {
        let message = refused(&vec!["1"; 4500].join("+"));
        assert!(message.contains("more than 500 operators"), "{message}");
        let message = refused(&vec!["a"; 600].join(" in "));
        assert!(message.contains("more than 500 operators"), "{message}");
        assert!(compile(&["index in inner"; 10].join(" && ")).is_ok());
    }

    #[test]
    fn a_chain_deeper_than_the_limit_is_refused_after_parsing() {
        assert!(compile(&vec!["1"; 48].join(" + ")).is_ok());
        let message = refused(&vec!["1"; 50].join(" + "));
        assert!(message.contains("more than 48 levels deep"), "{message}");
    }

    #[test]
    fn nesting_and_size_are_refused_where_they_pass_the_limit() {
        let e = compile(&format!("{}1{}", "(".repeat(40), ")".repeat(40))).err().unwrap();
        assert_eq!((e.offset, e.message.as_str()), (32, "brackets nest more than 32 deep"));
        let long = format!("'{}' == ''", "x".repeat(20_000));
        assert!(refused(&long).starts_with("the expression is 20008 bytes; the limit is 16384 bytes"));
    }

    #[test]
    fn the_deepest_expression_allowed_evaluates_on_a_test_threads_stack() {
        let source = vec!["1"; 47].join(" + ") + " > 0";
        let judged = compile(&source).unwrap().judge(&crate::expr::Scope::default());
        assert_eq!(judged, Ok(crate::expr::Judgement::True));
    }
}
