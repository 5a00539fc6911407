//! CEL's runtime errors in plain words. CEL says `found no matching overload
//! for 'size' applied to '(int)'`; an author needs to hear which value had
//! which type and what the function takes: `size() takes a string, bytes, a
//! list or a map, not an int (count = 42 is an int)`.

use cel::ExecutionError;
use serde_json::Value;

/// `error` in plain words; `observed` are the values the expression read
/// (path and value), so the value at fault can be named.
pub fn describe(error: &ExecutionError, observed: &[(String, Value)]) -> String {
    match error {
        ExecutionError::NoSuchOverload(overload) => {
            let given: Vec<&str> = overload.argument_types().iter().map(|t| plain_type(t)).collect();
            let (name, takes) = wants(overload.function());
            let given_text = match given.as_slice() {
                [] => "nothing".to_owned(),
                [one] => one.to_string(),
                many => many.join(" and "),
            };
            format!("{name} takes {takes}, not {given_text}{}", culprits(&given, observed))
        }
        ExecutionError::UnsupportedBinaryOperator(op, left, right) => {
            let (l, r) = (plain_type(&type_name(left)), plain_type(&type_name(right)));
            format!("`{}` cannot combine {l} and {r}{}", operator(op), culprits(&[l, r], observed))
        }
        ExecutionError::ValuesNotComparable(left, right) => {
            let (l, r) = (plain_type(&type_name(left)), plain_type(&type_name(right)));
            format!("cannot compare {l} with {r}{}", culprits(&[l, r], observed))
        }
        ExecutionError::UndeclaredReference(name) => {
            format!("nothing is named `{name}` here (no such variable, captured value or function)")
        }
        ExecutionError::NoSuchKey(key) => format!("no field `{key}` in the value read"),
        ExecutionError::UnexpectedType { got, want } => {
            format!("expected {}, got {}", plain_type(want), plain_type(got))
        }
        ExecutionError::InvalidArgumentCount { expected, actual } => {
            format!("the function takes {expected} argument(s), got {actual}")
        }
        ExecutionError::FunctionError { function, message } => format!("{}(): {message}", public_name(function)),
        other => other.to_string(),
    }
}

/// What a function or operator is called in a message, and what it takes.
fn wants(function: &str) -> (String, &'static str) {
    let takes = match function {
        "size" => "a string, bytes, a list or a map",
        "contains" | "startsWith" | "endsWith" | "matches" => "strings",
        "int" | "uint" | "double" => "a number, or a string that holds one",
        "string" => "a number, a string, bytes, a bool, a timestamp or a duration",
        "timestamp" => "an RFC 3339 string such as \"2026-01-02T03:04:05Z\"",
        "duration" => "a string such as \"90s\" or \"1h30m\"",
        "_<_" | "_<=_" | "_>_" | "_>=_" => "two numbers, two strings, two timestamps or two durations",
        "_+_" => "two numbers, two strings, two lists, or a timestamp and a duration",
        "_-_" | "_*_" | "_/_" | "_%_" => "two numbers",
        "_[_]" => "a list with an int index, or a map with a key",
        "@in" => "a value and a list or map",
        "!_" | "_&&_" | "_||_" => "bools",
        "-_" => "a number",
        _ => "other types",
    };
    let name = if function.starts_with('_') || function.starts_with('@') || function.starts_with('!') {
        format!("`{}`", operator(function))
    } else {
        format!("{}()", public_name(function))
    };
    (name, takes)
}

/// `_<_` → `<`; our routed arithmetic (`rb_add`) → `+`.
fn operator(function: &str) -> String {
    match function {
        "rb_add" | "add" => "+".to_owned(),
        "rb_sub" | "sub" => "-".to_owned(),
        "rb_mul" | "mul" => "*".to_owned(),
        "rb_div" | "div" => "/".to_owned(),
        "rem" => "%".to_owned(),
        "@in" => "in".to_owned(),
        other => other.trim_matches('_').replace("_[_]", "[]").replace('_', ""),
    }
}

/// The name the author wrote: `rb_bytes` is `bytes`.
fn public_name(function: &str) -> &str {
    function.strip_prefix("rb_").unwrap_or(function)
}

/// CEL's type names, as an author reads them.
fn plain_type(name: &str) -> &'static str {
    match name {
        "int" => "an int",
        "uint" => "a uint",
        "double" | "float" => "a double",
        "string" => "a string",
        "bytes" => "bytes",
        "bool" => "a bool",
        "list" => "a list",
        "map" => "a map",
        "null_type" | "null" => "null",
        "google.protobuf.Timestamp" | "timestamp" => "a timestamp",
        "google.protobuf.Duration" | "duration" => "a duration",
        _ => "a value of another type",
    }
}

/// CEL's type name of a value.
fn type_name(value: &cel::Value) -> String {
    use cel::Value as V;
    match value {
        V::Int(_) => "int",
        V::UInt(_) => "uint",
        V::Float(_) => "double",
        V::String(_) => "string",
        V::Bytes(_) => "bytes",
        V::Bool(_) => "bool",
        V::List(_) => "list",
        V::Map(_) => "map",
        V::Null => "null_type",
        V::Timestamp(_) => "timestamp",
        V::Duration(_) => "duration",
        _ => "other",
    }
    .to_owned()
}

/// The plain type of a value the expression read.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(n) if n.is_i64() => "an int",
        Value::Number(n) if n.is_u64() => "a uint",
        Value::Number(_) => "a double",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// ` (count = 42 is an int)`: the values read whose type is one of `types`.
fn culprits(types: &[&str], observed: &[(String, Value)]) -> String {
    let named: Vec<String> = observed
        .iter()
        .filter(|(_, value)| types.contains(&json_type(value)))
        .map(|(path, value)| format!("{path} = {} is {}", short(value), json_type(value)))
        .collect();
    if named.is_empty() { String::new() } else { format!(" ({})", named.join(", ")) }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 60 { text } else { text.chars().take(60).collect::<String>() + "…" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overload_names_the_function_what_it_takes_and_the_value_at_fault() {
        let error = ExecutionError::no_such_overload("size", vec!["int".to_owned()]);
        let observed = vec![("count".to_owned(), Value::from(42)), ("name".to_owned(), Value::from("x"))];
        assert_eq!(
            describe(&error, &observed),
            "size() takes a string, bytes, a list or a map, not an int (count = 42 is an int)"
        );
    }

    #[test]
    fn an_operator_is_named_as_written() {
        let error = ExecutionError::no_such_overload("_<_", vec!["string".to_owned(), "int".to_owned()]);
        let observed = vec![("ms".to_owned(), Value::from("350"))];
        assert_eq!(
            describe(&error, &observed),
            "`<` takes two numbers, two strings, two timestamps or two durations, not a string and an int \
             (ms = \"350\" is a string)"
        );
    }
}
