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
pub mod words;

#[cfg(test)]
mod props;

pub use shell::Refusal as ShellRefusal;
pub use url::{InScheme, Unfit as UrlUnfit, percent_encode};
pub use words::Error as WordsError;

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

/// Why a template cannot be checked or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("`{{{{` is not closed with `}}}}`")]
    Unclosed,
    /// The text between the braces (given) is not a dotted path.
    #[error("`{{{{{0}}}}}` is not a reference; write e.g. `{{{{vars.name}}}}`")]
    NotAReference(String),
    /// A reference stands where a script cannot take a value.
    #[error(transparent)]
    Shell(#[from] ShellRefusal),
    /// A reference stands in a URL's scheme.
    #[error(transparent)]
    UrlScheme(#[from] InScheme),
    /// The scope has nothing at the path (given).
    #[error("`{{{{{0}}}}}` has no value")]
    NoValue(String),
    /// The value at `path` cannot go where its reference stands.
    #[error("the value of `{{{{{path}}}}}` {why}")]
    Value { path: String, why: Unfit },
    /// A command line cannot be split into words.
    #[error(transparent)]
    Words(#[from] WordsError),
}

/// Why a value cannot go where its reference stands (said after "the value of `{{…}}`").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unfit {
    #[error("holds a NUL byte, which a shell cannot be given")]
    Nul,
    #[error("holds a line break, which would end the header")]
    LineBreak,
    #[error("may hold only a host name or address (letters, digits, `.`, `-`, `:`, `[`, `]`)")]
    NotHost,
    #[error(transparent)]
    Url(#[from] UrlUnfit),
}

/// The message, for callers that report problems as text.
impl From<Error> for String {
    fn from(error: Error) -> Self {
        error.to_string()
    }
}

/// One `{{…}}` in a template: its path and its byte offset in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub path: String,
    pub offset: usize,
}

/// The references in `text`, or why it is not a valid template (and where).
pub fn references(text: &str) -> Result<Vec<Reference>, (usize, Error)> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(start) = text[rest..].find("{{").map(|i| i + rest) {
        let Some(end) = text[start + 2..].find("}}").map(|i| i + start + 2) else {
            return Err((start, Error::Unclosed));
        };
        let path = text[start + 2..end].trim();
        if path.is_empty() || !path.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            return Err((start, Error::NotAReference(path.to_owned())));
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
pub fn check(text: &str, context: Context) -> Result<Vec<Reference>, (usize, Error)> {
    let refs = references(text)?;
    let spans = spans(text, &refs);
    match context {
        Context::Shell if !refs.is_empty() => {
            shell::slots(text, &spans).map_err(|(at, refusal)| (at, refusal.into()))?;
        }
        Context::Url if !refs.is_empty() => {
            url::parts(text, &spans).map_err(|(at, in_scheme)| (at, in_scheme.into()))?;
        }
        _ => {}
    }
    Ok(refs)
}

/// Renders `text` as a `context` parameter, looking each path up in `scope` (a JSON object).
pub fn fill(text: &str, scope: &Value, context: Context) -> Result<Filled, Error> {
    let refs = check(text, context).map_err(|(_, error)| error)?;
    let spans = spans(text, &refs);
    let values = refs
        .iter()
        .map(|r| lookup(scope, &r.path).map(plain_text).ok_or_else(|| Error::NoValue(r.path.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    let (pieces, bound) = match context {
        Context::Shell => shell_pieces(text, &spans, values),
        Context::Words => words_pieces(text, &spans, values),
        Context::Url => url_pieces(text, &spans, values),
        _ => checked_pieces(values, context).map(|pieces| (pieces, Bound::Nothing)),
    }
    .map_err(|refusal| match refusal {
        Refusal::Value(i, why) => Error::Value { path: refs[i].path.clone(), why },
        Refusal::Template(error) => error,
    })?;
    Ok(Filled { text: splice(text, &spans, &pieces), bound })
}

/// Why pieces could not be made: the value with this index does not fit, or the template itself.
enum Refusal {
    Value(usize, Unfit),
    Template(Error),
}

impl<E: Into<Error>> From<E> for Refusal {
    fn from(error: E) -> Self {
        Self::Template(error.into())
    }
}

type Pieces = Result<(Vec<String>, Bound), Refusal>;

/// A script's expansions, the values going beside it as environment variables.
fn shell_pieces(text: &str, spans: &[(usize, usize)], values: Vec<String>) -> Pieces {
    let slots = shell::slots(text, spans).map_err(|(_, refusal)| refusal)?;
    let mut env = Vec::with_capacity(values.len());
    let mut pieces = Vec::with_capacity(values.len());
    for (i, (slot, value)) in slots.into_iter().zip(values).enumerate() {
        if value.contains('\0') {
            return Err(Refusal::Value(i, Unfit::Nul));
        }
        let name = format!("{ENV_PREFIX}{}", i + 1);
        pieces.push(slot.expansion(&name));
        env.push((name, value));
    }
    Ok((pieces, Bound::Env(env)))
}

/// The values as they are, the words of the line beside them.
fn words_pieces(text: &str, spans: &[(usize, usize)], values: Vec<String>) -> Pieces {
    let filled: Vec<(usize, usize, &str)> = spans.iter().zip(&values).map(|(&(s, e), v)| (s, e, v.as_str())).collect();
    let words = words::split(text, &filled)?;
    Ok((values, Bound::Words(words)))
}

/// Each value as it goes in its part of the URL.
fn url_pieces(text: &str, spans: &[(usize, usize)], values: Vec<String>) -> Pieces {
    let parts = url::parts(text, spans).map_err(|(_, in_scheme)| in_scheme)?;
    let pieces = parts
        .into_iter()
        .zip(&values)
        .enumerate()
        .map(|(i, (part, value))| url::fill(part, value).map_err(|why| Refusal::Value(i, why.into())));
    Ok((pieces.collect::<Result<_, _>>()?, Bound::Nothing))
}

/// The values of the other contexts, checked or escaped.
fn checked_pieces(values: Vec<String>, context: Context) -> Result<Vec<String>, Refusal> {
    let host = |v: &String| v.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c));
    let first = |bad: &dyn Fn(&String) -> bool, why: Unfit| match values.iter().position(bad) {
        Some(i) => Err(Refusal::Value(i, why)),
        None => Ok(()),
    };
    match context {
        Context::Header => first(&|v| v.contains(['\r', '\n', '\0']), Unfit::LineBreak)?,
        Context::Host => first(&|v| !host(v), Unfit::NotHost)?,
        Context::Glob => return Ok(values.iter().map(|v| glob::Pattern::escape(v)).collect()),
        _ => {}
    }
    Ok(values)
}

/// `text` with each span replaced by its piece.
fn splice(text: &str, spans: &[(usize, usize)], pieces: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (&(start, end), piece) in spans.iter().zip(pieces) {
        out.push_str(&text[last..start]);
        out.push_str(piece);
        last = end;
    }
    out.push_str(&text[last..]);
    out
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

    /// [`fill`] with its error as the text a user sees.
    fn render(text: &str, scope: &Value, context: Context) -> Result<Filled, String> {
        fill(text, scope, context).map_err(|e| e.to_string())
    }

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
    fn each_error_reads_as_a_sentence() {
        let message = |text: &str, scope: &Value, context: Context| fill(text, scope, context).unwrap_err().to_string();
        let scope = json!({"vars": {"k": "a b", "h": "x\r\n", "f": "a\u{0}b", "dots": ".."}});
        let fix = "put the value in `env:` and use \"$NAME\" in a plain or double-quoted place";
        let cases = [
            ("{{vars.x", Context::Text, "`{{` is not closed with `}}`".to_owned()),
            ("{{ a b }}", Context::Text, "`{{a b}}` is not a reference; write e.g. `{{vars.name}}`".to_owned()),
            ("{{vars.nope}}", Context::Text, "`{{vars.nope}}` has no value".to_owned()),
            ("cat {{vars.f}}", Context::Shell, "the value of `{{vars.f}}` holds a NUL byte, which a shell cannot be given".to_owned()),
            ("echo ${a:-{{vars.k}}}", Context::Shell, format!("`{{{{vars.k}}}}` cannot stand inside `${{…}}`; {fix}")),
            ("echo \\{{vars.k}}", Context::Shell, format!("a value cannot follow `\\` (it would be escaped); {fix}")),
            ("echo ${{vars.k}}", Context::Shell, format!("a value cannot follow `$` (it would name a parameter); {fix}")),
            ("cat <<{{vars.k}}\nEOF", Context::Shell, format!("a value cannot be a heredoc delimiter; {fix}")),
            ("echo '{{vars.k}}", Context::Shell, "the script leaves a `'` open, so where values stand is unclear".to_owned()),
            ("{{vars.h}}", Context::Header, "the value of `{{vars.h}}` holds a line break, which would end the header".to_owned()),
            (
                "{{vars.k}}",
                Context::Host,
                "the value of `{{vars.k}}` may hold only a host name or address (letters, digits, `.`, `-`, `:`, `[`, `]`)".to_owned(),
            ),
            (
                "http://{{vars.k}}/",
                Context::Url,
                "the value of `{{vars.k}}` may hold only a host name, an address or a port (letters, digits, `.`, `-`, `:`, `[`, `]`)"
                    .to_owned(),
            ),
            ("{{vars.k}}/x", Context::Url, "the value of `{{vars.k}}` is not an absolute URL (`scheme://host…`)".to_owned()),
            (
                "http://h/{{vars.dots}}",
                Context::Url,
                "the value of `{{vars.dots}}` is a `.`/`..` path segment, which would move the URL's path".to_owned(),
            ),
            (
                "ht{{vars.k}}tp://h/",
                Context::Url,
                "a value cannot supply part of a URL's scheme; start the URL with it (`{{vars.base_url}}/path`) or write the scheme out"
                    .to_owned(),
            ),
            ("GET \"{{vars.k}}", Context::Words, "`GET \"{{vars.k}}`: a double quote is not closed".to_owned()),
            ("  ", Context::Words, "`command` is empty".to_owned()),
        ];
        for (text, context, expected) in cases {
            assert_eq!(message(text, &scope, context), expected, "{text:?} as {context:?}");
        }
        assert_eq!(words::split("", &[]).unwrap_err().to_string(), "`command` is empty");
        assert_eq!(render("{{vars.nope}}", &scope, Context::Text).unwrap_err(), "`{{vars.nope}}` has no value");
    }

    #[test]
    fn missing_and_malformed_references_are_errors() {
        let scope = json!({"vars": {}});
        assert!(render("{{vars.nope}}", &scope, Context::Text).unwrap_err().contains("no value"));
        assert!(references("{{vars.x").is_err());
        assert!(references("{{ a b }}").is_err());
    }
}
