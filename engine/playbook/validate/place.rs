//! Exact places for problems: a token inside a scalar (the `=` of a bad
//! expression, the `{{` of a template), and the probe parameter a probe's
//! own `check()` complains about (it names the parameter or the value in
//! backticks; the spanned tree finds where that stands).

use super::Validator;
use crate::playbook::diagnostic::Pos;
use crate::playbook::tree::{self, Node, Value};

impl Validator<'_> {
    /// The place of byte `offset` of `value`, a scalar written at or after `from`.
    /// The line of `value` holding the offset is searched for in the source, so
    /// quoted, plain and block scalars all land on the character; when the text
    /// was changed by escapes or folding, the scalar's start is the best place.
    pub(super) fn locate(&self, from: Pos, value: &str, offset: usize) -> Pos {
        let source = &self.loaded.source;
        let offset = offset.min(value.len());
        let line_start = value[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = value[offset..].find('\n').map_or(value.len(), |i| offset + i);
        let line = &value[line_start..line_end];
        let start = self.lines.offset_of(from.line, from.column);
        if line.is_empty() {
            return from;
        }
        match source.get(start..).and_then(|rest| rest.find(line)) {
            Some(found) => self.lines.location_of(start + found + (offset - line_start)),
            None => from,
        }
    }

    pub(super) fn tree(&self) -> Option<&Node> {
        self.tree.get_or_init(|| tree::parse(&self.loaded.source)).as_ref()
    }

    /// Where the problem a probe's `check()` reports stands: the value it quotes,
    /// else the parameter it names (the later one, when it names two that clash),
    /// else the probe's key. Also the parameter's name, for the message.
    ///
    /// The places are the spans the reader recorded for the probe's parameters;
    /// which parameter is meant is still told by the words the message quotes,
    /// because `ProbeSpec::check` (in `probe/`) returns only text. Once it
    /// returns the parameter (and value) at fault, this takes them instead.
    pub(super) fn param_place(&self, probe_at: Pos, message: &str) -> (Pos, Option<String>) {
        let Some(entry) = self.tree().and_then(|t| t.entries().into_iter().find(|e| e.key_at == probe_at)) else {
            return (probe_at, None);
        };
        let Value::Map(params) = &entry.value.value else { return (probe_at, None) };
        let quoted = backticked(message);
        for name in &quoted {
            for param in params {
                if let Some(node) = param.value.walk().into_iter().find(|n| n.scalar() == Some(name.as_str())) {
                    return (node.at, Some(param.key.clone()));
                }
            }
        }
        let named: Vec<&tree::Entry> = params.iter().filter(|p| quoted.contains(&p.key)).collect();
        match named.as_slice() {
            [] => (probe_at, None),
            [one] => (one.value.at, Some(one.key.clone())),
            [.., last] => (last.key_at, Some(last.key.clone())),
        }
    }
}

/// The `names` a message quotes in backticks, in order.
fn backticked(message: &str) -> Vec<String> {
    message.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::backticked;

    #[test]
    fn quoted_names_are_found_in_order() {
        assert_eq!(backticked("give `run` or `argv`, not both"), ["run", "argv"]);
        assert!(backticked("no names").is_empty());
    }
}
