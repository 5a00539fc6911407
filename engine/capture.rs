//! Captures: named values taken from an observation by JSONPath
//! (`$.body.status`, `$.rows[0].size`, `$.json[?(@.name == 'titan-brain')]`).
//! A path that matches one value captures it; several, a list; none, null.

use jsonpath_rust::JsonPath;
use serde_json::Value;

/// Checks a JSONPath's syntax.
pub fn check(path: &str) -> Result<(), String> {
    jsonpath_rust::parser::parse_json_path(path).map(|_| ()).map_err(|e| format!("bad JSONPath `{path}`: {e}"))
}

/// The value `path` selects in `observation`.
pub fn capture(observation: &Value, path: &str) -> Result<Value, String> {
    let found = observation.query(path).map_err(|e| format!("bad JSONPath `{path}`: {e}"))?;
    Ok(match found.len() {
        0 => Value::Null,
        1 => found[0].clone(),
        _ => Value::Array(found.into_iter().cloned().collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_match_is_the_value_many_a_list_none_null() {
        let obs = json!({"body": {"status": "ok", "list": [{"a": 1}, {"a": 2}]}});
        assert_eq!(capture(&obs, "$.body.status").unwrap(), json!("ok"));
        assert_eq!(capture(&obs, "$.body.list[*].a").unwrap(), json!([1, 2]));
        assert_eq!(capture(&obs, "$.body.nope").unwrap(), Value::Null);
        assert!(check("$.body[").is_err());
    }
}
