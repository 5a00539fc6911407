//! The YAML parser's and serde's messages, said for a playbook's author: what
//! was expected, "did you mean" for misspelt keys, and a place on the
//! offending token (a tab, the map that lacks a field) rather than wherever
//! the parser happened to stop.

use serde_saphyr::{Error, ExternalMessageSource};

use super::budget::{self, escape_controls};
use super::diagnostic::{Lines, Pos};
use super::error::Problem;
use super::model::VarValue;
use super::tree;
use crate::suggest::did_you_mean;

/// The problem to report for the reader's `error`: what it means for the
/// playbook, placed on the offending token. The reader's error kinds (and
/// their fields) decide; only the YAML scanner's own errors, which carry no
/// more than their text, are told by wording.
pub fn explain(error: &Error, source: &str) -> Problem {
    let pos = error.location().map_or(Pos { line: 1, column: 1 }, Pos::from);
    let field = || key_before(source, pos).map(|k| format!("`{k}` ")).unwrap_or_default();
    let found = || scalar_at(source, pos).map(|s| format!(", found `{s}`")).unwrap_or_default();
    let message = match budget::original(error) {
        Error::SerdeUnknownField { field, expected, .. } => unknown(field, expected, "field"),
        Error::SerdeUnknownVariant { variant, expected, .. } => unknown(variant, expected, "field"),
        Error::DuplicateMappingKey { key: Some(key), .. } => {
            format!("duplicate key `{}`; a key may appear only once in a map", escape_controls(key))
        }
        Error::SerdeMissingField { field, .. } => {
            return Problem::new(missing_field_place(source, pos, field), format!("missing field `{field}`"));
        }
        Error::MultipleDocuments { .. } => "a second YAML document (`---`); a playbook file holds one".to_owned(),
        Error::Unexpected { expected: "sequence start", .. } => format!("{}must be a list{}", field(), found()),
        Error::Unexpected { expected: "mapping start", .. } if pos == first_node(source) => {
            "a playbook is a map of `name`, `sections` and the other top-level fields".to_owned()
        }
        Error::Unexpected { expected: "mapping start", .. } => {
            format!("{}must be a map of `key: value` pairs{}", field(), found())
        }
        Error::Unexpected { expected: "string scalar", .. } => {
            format!("{}must be text (a string), found a list or map", field())
        }
        Error::InvalidBooleanStrict { .. } => format!("{}must be `true` or `false`{}", field(), found()),
        Error::InvalidScalar { ty: "boolean", .. } => format!("{}must be `true` or `false`{}", field(), found()),
        Error::InvalidScalar { ty, .. } if integer_range(ty).is_some() => {
            let range = integer_range(ty).unwrap_or_default();
            format!("{}must be a whole number from {range}{}", field(), found())
        }
        Error::ExternalMessage { source: scan, .. } if matches!(**scan, ExternalMessageSource::Parser(_)) => {
            return scanner(&budget::message(error), pos, source);
        }
        Error::SerdeInvalidType { expected, .. } if expected == VarValue::EXPECTED => {
            // The reader places it on the var's key when the value is a list or map; point at the value.
            let at = value_of_key(source, pos);
            let field = key_before(source, at).map(|k| format!("`{k}` ")).unwrap_or_default();
            return Problem::new(at, format!("{field}must be a string, a number or `true`/`false`"));
        }
        _ => {
            let m = budget::message(error);
            match key_before(source, pos) {
                Some(key) if !m.contains(&format!("`{key}`")) => format!("`{key}`: {m}"),
                _ => m,
            }
        }
    };
    Problem::new(pos, message)
}

/// The YAML scanner's errors, which it gives as text only: a tab is placed
/// on the tab itself, and the common slips get a hint.
fn scanner(m: &str, pos: Pos, source: &str) -> Problem {
    if m.contains("found a tab") || m.contains("tabs") {
        let lines = Lines::new(source);
        let start = lines.offset_of(pos.line, 1);
        let at = source[start..].find('\t').map_or(pos, |i| lines.location_of(start + i));
        return Problem::new(at, "a tab character; YAML indents with spaces only");
    }
    let message = if m.starts_with("mapping values are not allowed") {
        format!("{m}; put a value that holds `: ` in quotes, e.g. `title: \"Brain: ok\"`")
    } else if m.starts_with("invalid trailing content after") {
        format!("{m}; to put a quote inside '…' write it twice (''), or quote the whole value with \"…\"")
    } else if m.contains("did not find expected") {
        format!("{m}; check the indentation of this line")
    } else {
        match key_before(source, pos) {
            Some(key) if !m.contains(&format!("`{key}`")) => format!("`{key}`: {m}"),
            _ => m.to_owned(),
        }
    };
    Problem::new(pos, message)
}

/// The range of the integer type the reader names (`u32`).
fn integer_range(ty: &str) -> Option<&'static str> {
    Some(match ty {
        "u8" => "0 to 255",
        "u16" => "0 to 65535",
        "u32" => "0 to 4294967295",
        "u64" => "0 to 18446744073709551615",
        "i32" => "-2147483648 to 2147483647",
        "i64" => "-9223372036854775808 to 9223372036854775807",
        _ => return None,
    })
}

/// "unknown field `x`; did you mean `a`? (expected one of `a`, `b`)".
fn unknown(name: &str, choices: &[&str], what: &str) -> String {
    let name = escape_controls(name);
    if choices.is_empty() {
        return format!("unknown {what} `{name}`; nothing goes here but an empty map `{{}}`");
    }
    let hint = belongs_in(&name)
        .map(|place| format!("; {place}"))
        .or_else(|| did_you_mean(&name, choices.iter().copied()).map(|s| format!("; did you mean `{s}`?")))
        .unwrap_or_default();
    let listed: Vec<String> = choices.iter().map(|c| format!("`{c}`")).collect();
    format!("unknown {what} `{name}`{hint} (expected one of {})", listed.join(", "))
}

/// Where a field written in the wrong place belongs, for fields that exist only in one place.
pub(super) fn belongs_in(name: &str) -> Option<&'static str> {
    match name {
        // Verification is turned off one step at a time, never for a playbook or its defaults.
        "insecure" => Some("`insecure: true` goes inside one step's `http:` (TLS verification is turned off per step)"),
        _ => None,
    }
}

/// serde reports a missing field at the map's last key; point at the map itself.
fn missing_field_place(source: &str, pos: Pos, name: &str) -> Pos {
    let Some(root) = tree::parse(source) else { return pos };
    let nodes = root.walk();
    let lacks = |n: &&tree::Node| matches!(&n.value, tree::Value::Map(_)) && n.get(name).is_none();
    let holding_key =
        nodes.iter().find(|n| lacks(n) && matches!(&n.value, tree::Value::Map(e) if e.iter().any(|e| e.key_at == pos)));
    let starting_here = || nodes.iter().find(|n| lacks(n) && n.at == pos);
    holding_key.or_else(starting_here).map_or(pos, |n| n.at)
}

/// Where the value of the key at `pos` starts, from the spanned tree; `pos`
/// itself when no key stands there.
fn value_of_key(source: &str, pos: Pos) -> Pos {
    let Some(root) = tree::parse(source) else { return pos };
    root.entries().into_iter().find(|e| e.key_at == pos).map_or(pos, |e| e.value.at)
}

/// The key whose value starts at `pos`: written just before it on its line
/// (`retries` in `retries: three`), or ending the line above a block value.
fn key_before(source: &str, pos: Pos) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let index = pos.line.checked_sub(1)? as usize;
    let line = lines.get(index)?;
    let mut before: String = line.chars().take(pos.column.saturating_sub(1) as usize).collect();
    if before.trim().is_empty() {
        let above = lines[..index].iter().rev().find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))?;
        let indent = above.len() - above.trim_start().len();
        if indent >= before.len() {
            return None;
        }
        before = (*above).to_owned();
    }
    let before = before.trim_end().strip_suffix(':')?;
    let key = before.rsplit(|c: char| c.is_whitespace() || matches!(c, '{' | ',' | '-')).next()?;
    (!key.is_empty()).then(|| key.trim_matches(|c| c == '"' || c == '\'').to_owned())
}

/// The plain scalar that starts at `pos`, if one does (for "found `three`").
fn scalar_at(source: &str, pos: Pos) -> Option<String> {
    let line = source.lines().nth(pos.line.checked_sub(1)? as usize)?;
    let rest: String = line.chars().skip(pos.column.saturating_sub(1) as usize).collect();
    let end = rest.find([',', '}', ']', '#']).unwrap_or(rest.len());
    let text = rest[..end].trim();
    let negative = text.starts_with('-') && text[1..].starts_with(|c: char| c.is_ascii_digit());
    let plain = !text.is_empty() && (negative || !text.starts_with(['[', '{', '-', '|', '>', '&', '*', '!', ':']));
    plain.then(|| text.chars().take(60).collect())
}

/// Where the document's first value starts (after comments and blank lines).
fn first_node(source: &str) -> Pos {
    for (index, line) in source.lines().enumerate() {
        let trimmed = line.trim_start();
        if !trimmed.is_empty() && !trimmed.starts_with('#') && trimmed != "---" {
            let column = line.chars().count() - trimmed.chars().count() + 1;
            return Pos {
                line: u32::try_from(index + 1).unwrap_or(u32::MAX),
                column: u32::try_from(column).unwrap_or(1),
            };
        }
    }
    Pos { line: 1, column: 1 }
}

/// Whether the text holds nothing but comments, blank lines and document markers.
pub fn is_blank(source: &str) -> bool {
    source
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#') || l == "---" || l == "...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_suggest_the_nearest() {
        assert_eq!(
            unknown("metod", &["url", "method"], "field"),
            "unknown field `metod`; did you mean `method`? (expected one of `url`, `method`)"
        );
        assert!(unknown("mount", &[], "field").contains("empty map"));
    }

    #[test]
    fn the_key_and_value_at_a_place_are_named() {
        let source = "a:\n  retries: three\n";
        let pos = Pos { line: 2, column: 12 };
        assert_eq!(key_before(source, pos).as_deref(), Some("retries"));
        assert_eq!(scalar_at(source, pos).as_deref(), Some("three"));
        let block = "manual:\n  instruction: x\n";
        assert_eq!(key_before(block, Pos { line: 2, column: 3 }).as_deref(), Some("manual"));
        assert_eq!(key_before("a:\n- 5\n", Pos { line: 2, column: 1 }), None);
        let error =
            serde_saphyr::from_str::<std::collections::BTreeMap<String, Retries>>(source).expect_err("not a u32");
        assert_eq!(
            explain(&error, source),
            Problem::new(pos, "`retries` must be a whole number from 0 to 4294967295, found `three`")
        );
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)] // read only for its error
    struct Retries {
        retries: u32,
    }

    #[test]
    fn a_missing_field_points_at_its_map() {
        let source = "# c\ndescription: d\nvars: {}\nsections: []\n";
        assert_eq!(missing_field_place(source, Pos { line: 4, column: 1 }, "name"), Pos { line: 2, column: 1 });
    }

    #[test]
    fn comments_alone_are_blank() {
        assert!(is_blank("# todo\n\n---\n"));
        assert!(!is_blank("# todo\nname: x\n"));
    }
}
