//! `{{path}}` templates in probe parameters: `{{vars.name}}`,
//! `{{secrets.name}}`, `{{steps.<id>.<name>}}`. Nothing else: no logic, no
//! helpers, so a parameter reads the same in the playbook as on the wire.
//! In shell command lines a value is single-quoted so it stays one word of data.

use serde_json::Value;

/// One `{{…}}` in a template: its path and its byte offset in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub path: String,
    pub offset: usize,
}

/// The references in `text`, or why it is not a valid template.
pub fn references(text: &str) -> Result<Vec<Reference>, (usize, String)> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(start) = text[rest..].find("{{").map(|i| i + rest) {
        let Some(end) = text[start + 2..].find("}}").map(|i| i + start + 2) else {
            return Err((start, "`{{` is not closed with `}}`".to_owned()));
        };
        let path = text[start + 2..end].trim();
        if path.is_empty() || !path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            return Err((start, format!("`{{{{{path}}}}}` is not a reference; write e.g. `{{{{vars.name}}}}`")));
        }
        out.push(Reference { path: path.to_owned(), offset: start });
        rest = end + 2;
    }
    Ok(out)
}

/// Renders `text`, looking each path up in `scope` (a JSON object).
pub fn render(text: &str, scope: &Value, shell_quote: bool) -> Result<String, String> {
    let refs = references(text).map_err(|(_, message)| message)?;
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for reference in refs {
        out.push_str(&text[last..reference.offset]);
        let value =
            lookup(scope, &reference.path).ok_or_else(|| format!("`{{{{{}}}}}` has no value", reference.path))?;
        let plain = plain_text(value);
        out.push_str(&if shell_quote { quote(&plain) } else { plain });
        last = text[reference.offset..].find("}}").map_or(text.len(), |i| reference.offset + i + 2);
    }
    out.push_str(&text[last..]);
    Ok(out)
}

/// The value at a dotted path.
pub fn lookup<'a>(scope: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(scope, |value, key| match value {
        Value::Object(fields) => fields.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn plain_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// POSIX single-quoting: the value becomes exactly one shell word.
pub fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_vars_and_nested_paths() {
        let scope = json!({"vars": {"url": "http://x"}, "steps": {"a": {"n": 3}}});
        assert_eq!(render("{{vars.url}}/h?n={{ steps.a.n }}", &scope, false).unwrap(), "http://x/h?n=3");
    }

    #[test]
    fn shell_values_stay_one_word() {
        let scope = json!({"vars": {"f": "a'; rm -rf / #"}});
        assert_eq!(render("cat {{vars.f}}", &scope, true).unwrap(), r"cat 'a'\''; rm -rf / #'");
    }

    #[test]
    fn missing_and_malformed_references_are_errors() {
        let scope = json!({"vars": {}});
        assert!(render("{{vars.nope}}", &scope, false).unwrap_err().contains("no value"));
        assert!(references("{{vars.x").is_err());
        assert!(references("{{ a b }}").is_err());
    }
}
