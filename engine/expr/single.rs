//! One value out of a list capture (a filter or wildcard always captures a
//! list): `one(xs)` is the only item and an error unless there is exactly one,
//! so "the titan-brain process" cannot quietly be none or two; `first(xs)` is
//! the first item, or null when the list is empty. A value that is not a list
//! counts as a list of itself (a value kept in the history before captures
//! had one shape) and null as an empty list.

use cel::extractors::Arguments;
use cel::objects::ResolveResult;
use cel::{Context, ExecutionError, Value};

pub fn register(context: &mut Context) {
    super::functions::add(context, "one", |a: Arguments| -> ResolveResult {
        match list("one", &a)? {
            [only] => Ok(only.clone()),
            items => {
                Err(ExecutionError::function_error("one", format!("expected exactly one value, found {}", items.len())))
            }
        }
    });
    super::functions::add(context, "first", |a: Arguments| -> ResolveResult {
        Ok(list("first", &a)?.first().cloned().unwrap_or(Value::Null))
    });
}

fn list<'a>(function: &str, a: &'a Arguments) -> Result<&'a [Value], ExecutionError> {
    match a.0.as_slice() {
        [Value::List(items)] => Ok(items.as_slice()),
        [Value::Null] => Ok(&[]),
        [other] => Ok(std::slice::from_ref(other)),
        _ => Err(ExecutionError::function_error(function, "takes one list")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    fn eval(source: &str, xs: serde_json::Value) -> Result<bool, String> {
        crate::expr::holds_with(source, "xs", xs)
    }

    #[test]
    fn one_wants_exactly_one_and_first_takes_the_head() {
        assert_eq!(eval("one(xs) == 'online'", json!(["online"])), Ok(true));
        assert!(eval("one(xs) == 'online'", json!([])).unwrap_err().contains("found 0"));
        assert!(eval("one(xs) == 'online'", json!(["online", "online"])).unwrap_err().contains("found 2"));
        assert_eq!(eval("one(xs) == 'online'", json!("online")), Ok(true), "a scalar is one value");
        assert!(eval("one(xs) == 'online'", json!(null)).unwrap_err().contains("found 0"));
        assert_eq!(eval("first(xs) == 1", json!([1, 2])), Ok(true));
        assert_eq!(eval("first(xs) == null", json!([])), Ok(true));
    }
}
