//! `{{path}}` templates in probe parameters: `{{vars.name}}`,
//! `{{secrets.name}}`, `{{steps.<id>.<name>}}`. Nothing else: no logic, no
//! helpers, so a parameter reads the same in the playbook as on the wire.
//!
//! Every value is untrusted (a captured one comes from whatever was probed), so
//! each parameter declares its [`Context`], and a value put in can never change
//! the structure of what it is put into: a shell script gets it as an
//! environment variable, a command line as one word, a URL percent-encoded.

mod shell;
mod url;
mod words;

#[cfg(test)]
mod props;

pub use url::percent_encode;
pub use words::split as split_words;

use serde_json::Value;

/// What a parameter is, which decides how a value is put into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Data handed over as it is (a body, a file path, a bound parameter).
    Text,
    /// A `sh -c` script: values reach the shell as environment variables.
    Shell,
    /// A command line split into words: a value is part of exactly one word.
    Words,
    /// A URL: a value is percent-encoded for the part it stands in.
    Url,
    /// A header value: no line breaks.
    Header,
    /// A host name or address: host characters only.
    Host,
    /// A glob pattern: a value matches only itself.
    Glob,
}

/// A rendered parameter: its text and, for some contexts, what goes beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    /// The text, for the probe and for previews (in a script, with the expansions).
    pub text: String,
    pub bound: Bound,
}

/// What a rendered parameter passes beside its text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Bound {
    #[default]
    Nothing,
    /// Environment variables a script expands (`RUNBOOK_T1`, ...).
    Env(Vec<(String, String)>),
    /// The words of a command line.
    Words(Vec<String>),
}

/// The prefix of the environment variables that carry values into a script;
/// a step's own `env` may not use it.
pub const ENV_PREFIX: &str = "RUNBOOK_T";

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

/// The `(start, end)` byte range of each reference.
fn spans(text: &str, refs: &[Reference]) -> Vec<(usize, usize)> {
    refs.iter().map(|r| (r.offset, text[r.offset..].find("}}").map_or(text.len(), |i| r.offset + i + 2))).collect()
}

/// Checks the references in `text` and where they stand in `context`, before
/// any value is known: the offset of the first problem and what it is.
pub fn check(text: &str, context: Context) -> Result<Vec<Reference>, (usize, String)> {
    let refs = references(text)?;
    let spans = spans(text, &refs);
    match context {
        Context::Shell if !refs.is_empty() => shell::slots(text, &spans).map(|_| ())?,
        Context::Url if !refs.is_empty() => url::parts(text, &spans).map(|_| ())?,
        _ => {}
    }
    Ok(refs)
}

/// Renders `text` as a `context` parameter, looking each path up in `scope` (a JSON object).
pub fn render(text: &str, scope: &Value, context: Context) -> Result<Filled, String> {
    let refs = check(text, context).map_err(|(_, message)| message)?;
    let spans = spans(text, &refs);
    let mut values = Vec::with_capacity(refs.len());
    for reference in &refs {
        let value =
            lookup(scope, &reference.path).ok_or_else(|| format!("`{{{{{}}}}}` has no value", reference.path))?;
        values.push(plain_text(value));
    }
    let fail = |i: usize, why: &str| format!("the value of `{{{{{}}}}}` {why}", refs[i].path);
    let mut bound = Bound::Nothing;
    let pieces: Vec<String> = match context {
        Context::Text => values,
        Context::Shell => {
            let slots = shell::slots(text, &spans).map_err(|(_, message)| message)?;
            let mut env = Vec::new();
            let mut pieces = Vec::new();
            for (i, (slot, value)) in slots.into_iter().zip(values).enumerate() {
                if value.contains('\0') {
                    return Err(fail(i, "holds a NUL byte, which a shell cannot be given"));
                }
                let name = format!("{ENV_PREFIX}{}", i + 1);
                pieces.push(slot.expansion(&name));
                env.push((name, value));
            }
            bound = Bound::Env(env);
            pieces
        }
        Context::Words => {
            let filled: Vec<(usize, usize, &str)> =
                spans.iter().zip(&values).map(|(&(s, e), v)| (s, e, v.as_str())).collect();
            bound = Bound::Words(words::split(text, &filled)?);
            values
        }
        Context::Url => {
            let parts = url::parts(text, &spans).map_err(|(_, message)| message)?;
            let filled = parts.into_iter().zip(&values).map(|(part, value)| url::fill(part, value));
            filled.enumerate().map(|(i, r)| r.map_err(|why| fail(i, &why))).collect::<Result<_, _>>()?
        }
        Context::Header => {
            if let Some(i) = values.iter().position(|v| v.contains(['\r', '\n', '\0'])) {
                return Err(fail(i, "holds a line break, which would end the header"));
            }
            values
        }
        Context::Host => {
            let host = |v: &String| v.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
            if let Some(i) = values.iter().position(|v| !host(v)) {
                return Err(fail(i, "may hold only a host name or address (letters, digits, `.`, `-`, `:`, `[`, `]`)"));
            }
            values
        }
        Context::Glob => values.iter().map(|v| glob::Pattern::escape(v)).collect(),
    };
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (&(start, end), piece) in spans.iter().zip(&pieces) {
        out.push_str(&text[last..start]);
        out.push_str(piece);
        last = end;
    }
    out.push_str(&text[last..]);
    Ok(Filled { text: out, bound })
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(template: &str, scope: &Value, context: Context) -> String {
        render(template, scope, context).unwrap().text
    }

    #[test]
    fn renders_vars_and_nested_paths() {
        let scope = json!({"vars": {"url": "http://x"}, "steps": {"a": {"n": 3}}});
        assert_eq!(text("{{vars.url}}/h?n={{ steps.a.n }}", &scope, Context::Text), "http://x/h?n=3");
    }

    #[test]
    fn shell_values_are_environment_variables() {
        let scope = json!({"vars": {"f": "a'; rm -rf / #"}});
        let filled = render("cat {{vars.f}} \"{{vars.f}}\"", &scope, Context::Shell).unwrap();
        assert_eq!(filled.text, r#"cat "${RUNBOOK_T1}" "${RUNBOOK_T2}""#);
        let value = "a'; rm -rf / #".to_owned();
        assert_eq!(
            filled.bound,
            Bound::Env(vec![("RUNBOOK_T1".to_owned(), value.clone()), ("RUNBOOK_T2".to_owned(), value)])
        );
        let nul = json!({"vars": {"f": "a\u{0}b"}});
        assert!(render("cat {{vars.f}}", &nul, Context::Shell).unwrap_err().contains("NUL"));
        assert_eq!(check("echo $(( {{vars.f}} ))", Context::Shell).unwrap_err().0, 9);
    }

    #[test]
    fn other_contexts() {
        let scope = json!({"vars": {"k": "a b", "h": "x\r\nEvil: 1", "port": "8080", "g": "*[x]"}});
        let words = render("MGET {{vars.k}}", &scope, Context::Words).unwrap();
        assert_eq!(words.bound, Bound::Words(vec!["MGET".to_owned(), "a b".to_owned()]));
        assert_eq!(
            text("http://h:{{vars.port}}/{{vars.k}}?q={{vars.k}}", &scope, Context::Url),
            "http://h:8080/a%20b?q=a%20b"
        );
        assert!(render("http://{{vars.k}}/", &scope, Context::Url).unwrap_err().contains("`{{vars.k}}` may hold only"));
        assert!(render("{{vars.h}}", &scope, Context::Header).unwrap_err().contains("line break"));
        assert!(render("{{vars.k}}", &scope, Context::Host).is_err());
        assert_eq!(text("/b/{{vars.g}}*.dump", &scope, Context::Glob), "/b/[*][[]x[]]*.dump");
    }

    #[test]
    fn missing_and_malformed_references_are_errors() {
        let scope = json!({"vars": {}});
        assert!(render("{{vars.nope}}", &scope, Context::Text).unwrap_err().contains("no value"));
        assert!(references("{{vars.x").is_err());
        assert!(references("{{ a b }}").is_err());
    }
}
