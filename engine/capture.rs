//! Captures: named values taken from an observation by JSONPath
//! (`$.body.status`, `$.rows[0].size`, `$.json[?(@.name == 'titan-brain')]`).
//! The shape depends on the path, never on the data: a definite path (names
//! and indexes only) captures a value or null; one with a filter, wildcard,
//! slice, union or `..` always captures a list, empty when nothing matched. So
//! an expression that works on a day with one match works on every day; take
//! a single value out with `one()` (exactly one, else an error) or `first()`.

use jsonpath_rust::JsonPath;
use serde_json::Value;

/// The names of a plain member path (`$.body.risk.globalLeverage`), the
/// common case, read without the JSONPath parser: it was most of the cost of
/// checking and capturing. Anything else (brackets, filters, wildcards,
/// non-identifier names) goes to the parser.
fn plain_members(path: &str) -> Option<std::str::Split<'_, char>> {
    let rest = path.strip_prefix("$.")?;
    let identifier = |name: &str| {
        let mut chars = name.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    rest.split('.').all(identifier).then(|| rest.split('.'))
}

/// Checks a JSONPath's syntax; a problem comes with its byte offset in `path`.
pub fn check(path: &str) -> Result<(), (usize, String)> {
    if plain_members(path).is_some() {
        return Ok(());
    }
    jsonpath_rust::parser::parse_json_path(path).map(|_| ()).map_err(|e| {
        let text = e.to_string();
        // The parser says where (` --> 1:8`) and what it wanted (`= expected selector`).
        let column = text
            .split_once(" --> ")
            .and_then(|(_, rest)| rest.split_whitespace().next()?.rsplit(':').next()?.parse::<usize>().ok())
            .unwrap_or(1);
        let offset = path.char_indices().nth(column.saturating_sub(1)).map_or(path.len(), |(i, _)| i);
        let wanted = text.lines().find_map(|l| l.trim().strip_prefix("= expected ")).map(expected);
        let message = match wanted {
            Some(wanted) => format!("bad JSONPath `{path}`: expected {wanted} here"),
            None => format!("bad JSONPath `{path}`: {}", text.lines().next().unwrap_or_default()),
        };
        (offset, message)
    })
}

/// The grammar's rule names, as a playbook author would say them.
fn expected(rules: &str) -> String {
    if rules.contains("jp_query") {
        return "`$` at the start, e.g. `$.body.status`".to_owned();
    }
    let words: Vec<String> = rules
        .split([',', ' '])
        .filter(|w| !w.is_empty() && *w != "or")
        .map(|rule| match rule {
            "selector" => "a selector (`name`, `[0]`, `['key']` or `*`)".to_owned(),
            "EOI" => "the end".to_owned(),
            "segment" => "`.name` or `[…]`".to_owned(),
            "ALPHA" => "a name".to_owned(),
            "wildcard_selector" => "`*`".to_owned(),
            other => other.replace('_', " "),
        })
        .collect();
    words.join(" or ")
}

/// Whether `path` can select several values: a filter, wildcard, slice, union
/// or descendant segment outside quoted names.
pub fn selects_many(path: &str) -> bool {
    let (mut quote, mut depth, mut previous) = (None, 0, '\0');
    for c in path.chars() {
        match (quote, c) {
            (Some(q), c) if c == q && previous != '\\' => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth -= 1,
            (None, '*' | '?') => return true,
            (None, '.') if previous == '.' => return true,
            (None, ':' | ',') if depth > 0 => return true,
            _ => {}
        }
        previous = c;
    }
    false
}

/// A JSONPath the data could not be read with.
#[derive(Debug, thiserror::Error)]
#[error("bad JSONPath `{path}`: {reason}")]
pub struct CaptureError {
    pub path: String,
    pub reason: String,
}

/// The value `path` selects in `observation`: a list when the path [`selects_many`], else the
/// one value or null.
pub fn capture(observation: &Value, path: &str) -> Result<Value, CaptureError> {
    if let Some(mut names) = plain_members(path) {
        return Ok(names.try_fold(observation, |value, name| value.get(name)).cloned().unwrap_or(Value::Null));
    }
    let found = observation.query(path).map_err(|e| CaptureError { path: path.to_owned(), reason: e.to_string() })?;
    Ok(match found.as_slice() {
        _ if selects_many(path) => Value::Array(found.into_iter().cloned().collect()),
        [] => Value::Null,
        [one] => (*one).clone(),
        // A definite path selects one value at most; should the parser disagree, keep all.
        _ => Value::Array(found.into_iter().cloned().collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_shape_follows_the_path_not_the_data() {
        let obs = json!({"body": {"status": "ok", "list": [{"a": 1, "n": "x"}, {"a": 2, "n": "y"}]}});
        assert_eq!(capture(&obs, "$.body.status").unwrap(), json!("ok"));
        assert_eq!(capture(&obs, "$.body.list[0].a").unwrap(), json!(1));
        assert_eq!(capture(&obs, "$['body']['status']").unwrap(), json!("ok"));
        assert_eq!(capture(&obs, "$.body.nope").unwrap(), Value::Null);
        assert_eq!(capture(&obs, "$.body.list[*].a").unwrap(), json!([1, 2]));
        // One match, or none, of a filter is still a list: the type does not change with the day.
        assert_eq!(capture(&obs, "$.body.list[?(@.n == 'x')].a").unwrap(), json!([1]));
        assert_eq!(capture(&obs, "$.body.list[?(@.n == 'z')].a").unwrap(), json!([]));
        assert_eq!(capture(&obs, "$..status").unwrap(), json!(["ok"]));
        assert!(check("$.body[").is_err());
    }

    #[test]
    fn many_is_told_from_the_path_outside_quotes() {
        for path in ["$.a[*]", "$.a.*", "$..a", "$.a[?(@.x)]", "$.a[0:2]", "$.a[0,1]", "$['a','b']"] {
            assert!(selects_many(path), "{path}");
        }
        for path in ["$.a", "$.a[0]", "$['a*b']", "$[\"x?y\"]", "$['a,b'][1]", "$['a.']['.b']"] {
            assert!(!selects_many(path), "{path}");
        }
    }

    #[test]
    fn plain_member_paths_read_as_the_jsonpath_parser_reads_them() {
        let obs = json!({"body": {"n": null, "list": [1, 2], "deep": {"x_1": 3}, "s": "text"}, "top": 0});
        for path in ["$.body.n", "$.body.list", "$.body.deep.x_1", "$.body.s.len", "$.top", "$.nope.x"] {
            assert!(plain_members(path).is_some(), "{path}");
            let parsed = obs.query(path).unwrap();
            let expected = match parsed.as_slice() {
                [] => Value::Null,
                [one] => (*one).clone(),
                _ => unreachable!("a member path selects one value at most"),
            };
            assert_eq!(capture(&obs, path).unwrap(), expected, "{path}");
        }
        for path in ["$", "$.", "$.a..b", "$.a[0]", "$.1a", "$.a-b", "$['a']", "$.*"] {
            assert!(plain_members(path).is_none(), "{path}");
        }
    }

    #[test]
    fn syntax_errors_say_where_and_what_was_expected() {
        let (offset, message) = check("$.body[status").unwrap_err();
        assert_eq!(offset, 7);
        assert!(message.ends_with("expected a selector (`name`, `[0]`, `['key']` or `*`) here"), "{message}");
        assert!(check("body.status").unwrap_err().1.contains("`$` at the start"));
    }
}
