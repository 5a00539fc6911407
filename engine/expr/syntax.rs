//! CEL's parser messages, said plainly: `unexpected `and`; CEL writes `&&``
//! rather than ANTLR's "mismatched input 'and' expecting {<EOF>, '==', ...}",
//! with the byte offset of the offending token so the playbook's error can
//! point inside the expression.

use super::SyntaxError;

/// The first of CEL's parse errors for `source`.
pub fn describe(source: &str, errors: &cel::ParseErrors) -> SyntaxError {
    let Some(first) = errors.errors.first() else {
        return SyntaxError { column: 1, offset: 0, message: errors.to_string() };
    };
    let (line, column) = (usize::try_from(first.pos.0).unwrap_or(1).max(1), usize::try_from(first.pos.1).unwrap_or(1));
    let line_start: usize = source.split_inclusive('\n').take(line - 1).map(str::len).sum();
    let offset = source[line_start.min(source.len())..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(source.len(), |(i, _)| line_start + i);
    SyntaxError { column: u32::try_from(column).unwrap_or(1).max(1), offset, message: plain(&first.msg) }
}

/// ANTLR's wording → what a playbook author needs.
fn plain(message: &str) -> String {
    let message = message.strip_prefix("Syntax error: ").unwrap_or(message);
    let quoted = |prefix: &str| {
        let rest = message.strip_prefix(prefix)?;
        let rest = rest.strip_prefix('\'')?;
        Some(
            rest[..rest.rfind('\'').unwrap_or(rest.len())]
                .split(" expecting")
                .next()
                .unwrap_or(rest)
                .trim_end_matches('\'')
                .to_owned(),
        )
    };
    let token = quoted("mismatched input ")
        .or_else(|| quoted("extraneous input "))
        .or_else(|| quoted("no viable alternative at input "))
        .or_else(|| {
            message.strip_prefix("token recognition error at: ").map(|t| t.trim_matches('\'').trim().to_owned())
        });
    let Some(token) = token else { return message.to_owned() };
    let hint = match token.as_str() {
        "<EOF>" => return "the expression ends too early".to_owned(),
        "and" => "; CEL writes `&&` for and",
        "or" => "; CEL writes `||` for or",
        "not" => "; CEL writes `!` for not",
        "=" => "; compare with `==`",
        "{" | "}" if message.contains('{') => "; templates `{{…}}` are not expressions: write `vars.name`",
        t if t.starts_with('\'') || t.starts_with('"') => "; a string is not closed",
        _ => "",
    };
    format!("unexpected `{token}`{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(source: &str) -> SyntaxError {
        match crate::expr::compile(source) {
            Err(e) => e,
            Ok(_) => panic!("`{source}` compiled"),
        }
    }

    #[test]
    fn errors_point_at_the_offending_token() {
        let e = error("status = 200");
        assert_eq!((e.offset, e.message.as_str()), (7, "unexpected `=`; compare with `==`"));
        let e = error("a and b");
        assert_eq!((e.offset, e.message.as_str()), (2, "unexpected `and`; CEL writes `&&` for and"));
        assert_eq!(error("x < ").message, "the expression ends too early");
    }
}
