//! A list capture compared with one value: a path with a filter or wildcard
//! always captures a list, and `state == "online"` (or `not_running == null`)
//! on a list never holds, while `state != "errored"` always does — a check
//! that passes whatever the system says. Refused where it is written, with
//! the way to say it (`one(state) == …`, `size(not_running) == 0`).

use super::Validator;
use crate::capture;
use crate::playbook::model::{Spanned, Step};

const OPERATORS: [&str; 6] = ["==", "!=", "<=", ">=", "<", ">"];

impl Validator<'_> {
    pub(super) fn list_comparisons(&mut self, step: &Step) {
        let lists: Vec<&str> = step
            .capture
            .iter()
            .filter(|(_, path)| capture::selects_many(&path.value))
            .map(|(n, _)| n.as_str())
            .collect();
        if lists.is_empty() {
            return;
        }
        let until = step.until.iter().map(|u| &u.expr);
        let texts: Vec<&Spanned<String>> =
            step.expect.iter().chain(&step.warn).chain(step.when.iter()).chain(until).collect();
        for text in texts {
            for name in &lists {
                if let Some(offset) = compared_with_one_value(&text.value, name) {
                    let at = self.locate(text.referenced.into(), &text.value, offset);
                    let message = format!(
                        "`{name}` is a list (its capture path has a filter or wildcard), so `{}` compares a list \
                         with one value and never judges it; write `one({name})` for the single item, or \
                         `size({name}) == 0` for none",
                        text.value.trim()
                    );
                    self.report(at, message);
                }
            }
        }
    }
}

/// The offset of `name` where `source` compares it, bare, with a literal value.
fn compared_with_one_value(source: &str, name: &str) -> Option<usize> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    source.match_indices(name).map(|(at, _)| at).find(|&at| {
        let before = source[..at].chars().next_back();
        let after = source[at + name.len()..].chars().next();
        if before.is_some_and(|c| ident(c) || c == '.') || after.is_some_and(|c| ident(c) || ".[(".contains(c)) {
            return false;
        }
        let rest = source[at + name.len()..].trim_start();
        let literal_after =
            OPERATORS.iter().find_map(|op| rest.strip_prefix(op)).is_some_and(|r| starts_literal(r.trim_start()));
        let head = source[..at].trim_end();
        let literal_before =
            OPERATORS.iter().find_map(|op| head.strip_suffix(op)).is_some_and(|h| ends_literal(h.trim_end()));
        literal_after || literal_before
    })
}

fn starts_literal(text: &str) -> bool {
    let word =
        |w: &str| text.strip_prefix(w).is_some_and(|r| !r.starts_with(|c: char| c.is_alphanumeric() || c == '_'));
    text.starts_with(['"', '\''])
        || text.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        || ["true", "false", "null"].into_iter().any(word)
}

fn ends_literal(text: &str) -> bool {
    text.ends_with(['"', '\''])
        || text.ends_with(|c: char| c.is_ascii_digit())
        || ["true", "false", "null"].iter().any(|w| text.ends_with(w))
}

#[cfg(test)]
mod tests {
    use super::compared_with_one_value as found;

    #[test]
    fn a_bare_list_next_to_a_literal_is_found() {
        assert_eq!(found(r#"state == "online""#, "state"), Some(0));
        assert_eq!(found("not_running == null", "not_running"), Some(0));
        assert_eq!(found("cpu < 50 && x", "cpu"), Some(0));
        assert_eq!(found(r#""online" != state"#, "state"), Some(12));
        assert_eq!(found(r#"one(state) == "online""#, "state"), None);
        assert_eq!(found("size(not_running) == 0", "not_running"), None);
        assert_eq!(found("states == 1 || body.state == 1", "state"), None);
        assert_eq!(found("state == other", "state"), None);
        assert_eq!(found("state[0] == 1", "state"), None);
    }
}
