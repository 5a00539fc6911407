//! The tables of `docs/playbook.md` that the schema can say: the top-level
//! fields, the step fields and every probe kind with its parameters and its
//! observation keys. They are generated between markers
//! (`<!-- generated: NAME -->` … `<!-- end generated: NAME -->`), so a new
//! probe kind or field reaches the reference by regenerating it, and a test
//! (`schema` in the integration tests) fails while the committed page
//! differs (`RUNBOOK_BLESS=1` rewrites it).

use serde_json::Value;

use super::playbook_schema;
use crate::probe;

/// Where the reference lives, relative to the repository root.
pub const REFERENCE_PATH: &str = "docs/playbook.md";

/// Every generated region, by name.
pub fn regions() -> Vec<(&'static str, String)> {
    let schema = playbook_schema();
    let step = &schema["$defs"]["Step"];
    let step_fields: Vec<(String, Value)> = properties(step).into_iter().filter(|(k, _)| !is_probe(k)).collect();
    vec![
        ("top-level", table(&properties(&schema), required(&schema))),
        ("section", table(&properties(&schema["$defs"]["Section"]), required(&schema["$defs"]["Section"]))),
        ("defaults", table(&properties(&schema["$defs"]["Defaults"]), &[])),
        ("step", table(&step_fields, required(step))),
        ("notify", table(&properties(&schema["$defs"]["Target"]), &[])),
        ("sendmail", table(&properties(&schema["$defs"]["Sendmail"]), required(&schema["$defs"]["Sendmail"]))),
        ("probes", probes(step)),
    ]
}

/// A region's opening or closing marker that the document lacks.
#[derive(Debug, thiserror::Error)]
#[error("no `{marker}` marker")]
pub struct MissingMarker {
    pub marker: String,
}

/// `document` with every region replaced by its generated text; an error names a missing marker.
pub fn regenerate(document: &str) -> Result<String, MissingMarker> {
    regions().into_iter().try_fold(document.to_owned(), |doc, (name, text)| splice(&doc, name, &text))
}

fn splice(document: &str, name: &str, text: &str) -> Result<String, MissingMarker> {
    let (open, close) = (format!("<!-- generated: {name} -->"), format!("<!-- end generated: {name} -->"));
    let missing = |marker: &str| MissingMarker { marker: marker.to_owned() };
    let start = document.find(&open).ok_or_else(|| missing(&open))? + open.len();
    let end = document[start..].find(&close).ok_or_else(|| missing(&close))? + start;
    Ok(format!("{}\n{}\n{}", &document[..start], text.trim_end(), &document[end..]))
}

fn is_probe(key: &str) -> bool {
    probe::KINDS.contains(&key)
}

fn properties(schema: &Value) -> Vec<(String, Value)> {
    schema["properties"]
        .as_object()
        .map(|p| p.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn required(schema: &Value) -> &[Value] {
    schema["required"].as_array().map_or(&[], Vec::as_slice)
}

fn probes(step: &Value) -> String {
    let mut out = String::new();
    for kind in probe::KINDS {
        let schema = &step["properties"][*kind];
        out.push_str(&format!("### `{kind}`\n\n{}\n\n", one_line(schema["description"].as_str().unwrap_or(""))));
        let observes = match probe::observes_of(kind).flatten() {
            Some(keys) => keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
            None => "depends on the target (see above)".to_owned(),
        };
        out.push_str(&format!("Observation keys: {observes}.\n\n"));
        let params = properties(schema);
        if schema["type"] == "string" {
            out.push_str(&format!("Takes text, e.g. `{kind}: {}`.\n\n", example(schema).trim_matches('`')));
        } else if params.is_empty() {
            out.push_str(&format!("Takes no parameters: `{kind}: {{}}`.\n\n"));
        } else {
            out.push_str(&table(&params, required(schema)));
            out.push('\n');
        }
    }
    out
}

fn table(fields: &[(String, Value)], required: &[Value]) -> String {
    let mut out = String::from("| Field | Type | Required | Description | Example |\n|---|---|---|---|---|\n");
    for (name, schema) in fields {
        let needed = if required.iter().any(|r| r == name) { "yes" } else { "no" };
        let description = one_line(schema["description"].as_str().unwrap_or(""));
        out.push_str(&format!(
            "| `{name}` | {} | {needed} | {} | {} |\n",
            type_of(schema),
            cell(&description),
            cell(&example(schema))
        ));
    }
    out
}

/// A field's type in words.
fn type_of(schema: &Value) -> String {
    if let Some(reference) = schema["$ref"].as_str() {
        return match reference.rsplit('/').next().unwrap_or("") {
            "VarValue" => "string, number or boolean".to_owned(),
            "SecretSource" => "`{env: NAME}` or `{file: PATH}`".to_owned(),
            "Defaults" | "Sendmail" => "map (below)".to_owned(),
            "ReportSettings" => "map".to_owned(),
            "Target" => "notification target".to_owned(),
            "Severity" => "`critical` or `warning`".to_owned(),
            "NoHistoryRule" => "`pass`, `warn` or `fail`".to_owned(),
            "Body" => "`json` or `text`".to_owned(),
            "Rule" => "`failure`, `recovery` or `always`".to_owned(),
            other => other.to_lowercase(),
        };
    }
    if let Some(options) = schema["anyOf"].as_array().or_else(|| schema["oneOf"].as_array()) {
        let mut words: Vec<String> = options.iter().map(type_of).filter(|t| !t.is_empty()).collect();
        words.dedup();
        return words.join(" or ");
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => return "any".to_owned(),
    };
    let words: Vec<String> = types
        .into_iter()
        .filter(|t| *t != "null")
        .map(|t| match t {
            "array" => format!("list of {}", type_of(&schema["items"])),
            "object" if schema["additionalProperties"].is_object() => {
                format!("map of {}", type_of(&schema["additionalProperties"]))
            }
            "object" => "map".to_owned(),
            "integer" => "whole number".to_owned(),
            other => other.to_owned(),
        })
        .collect();
    words.join(" or ")
}

fn example(schema: &Value) -> String {
    match schema["examples"].get(0) {
        Some(Value::String(s)) => format!("`{s}`"),
        Some(other) => format!("`{other}`"),
        None if schema["type"] == "boolean" => "`true`".to_owned(),
        None => String::new(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_probe_kind_and_step_field_is_in_the_generated_reference() {
        let probes = regions().into_iter().find(|(n, _)| *n == "probes").expect("probes region").1;
        for kind in probe::KINDS {
            assert!(probes.contains(&format!("### `{kind}`")), "no section for `{kind}`");
        }
        let step = regions().into_iter().find(|(n, _)| *n == "step").expect("step region").1;
        for field in ["id", "title", "expect", "needs", "timeout"] {
            assert!(step.contains(&format!("| `{field}` |")), "no row for `{field}`");
        }
    }

    #[test]
    fn types_read_as_words() {
        let t = |v: Value| type_of(&v);
        assert_eq!(t(serde_json::json!({"type": ["string", "null"]})), "string");
        assert_eq!(t(serde_json::json!({"anyOf": [{"$ref": "#/$defs/Sendmail"}, {"type": "null"}]})), "map (below)");
        assert_eq!(t(serde_json::json!({"type": "array", "items": {"type": "string"}})), "list of string");
        assert_eq!(
            t(serde_json::json!({"anyOf": [{"type": "integer"}, {"type": "string"}]})),
            "whole number or string"
        );
    }
}
