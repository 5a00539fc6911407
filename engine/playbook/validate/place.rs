//! Exact places for problems: a token inside a scalar (the `=` of a bad
//! expression, the `{{` of a template), and the probe parameter a probe's
//! own check names (the spanned tree finds where its value stands).

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

    /// Where the parameter `param` of the probe whose key stands at `probe_at`
    /// is, from the spans the reader recorded: the key or item `item` of it
    /// when one is named, its value when that is one scalar (a bad size), else
    /// its key (two parameters that clash); the probe's key when the parameter
    /// is not written out.
    pub(super) fn param_place(&self, probe_at: Pos, param: Option<&str>, item: Option<&str>) -> Pos {
        let Some(entry) = self.tree().and_then(|t| t.entries().into_iter().find(|e| e.key_at == probe_at)) else {
            return probe_at;
        };
        let Value::Map(params) = &entry.value.value else { return probe_at };
        let Some(named) = params.iter().find(|p| Some(p.key.as_str()) == param) else { return probe_at };
        let part = item.and_then(|item| match &named.value.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == item).map(|e| e.key_at),
            _ => named.value.walk().into_iter().find(|n| n.scalar() == Some(item)).map(|n| n.at),
        });
        match part {
            Some(at) => at,
            None if named.value.scalar().is_some() => named.value.at,
            None => named.key_at,
        }
    }
}
