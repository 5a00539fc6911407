//! The playbook JSON Schema (draft 2020-12), generated from the model types
//! and the probe registry. The committed `schemas/playbook.schema.json` must
//! equal [`playbook_schema_text`]; a test checks it (`RUNBOOK_BLESS=1`
//! rewrites it), so the schema can never drift from the code. The run
//! record's schema ([`report_schema_text`]) is kept the same way in
//! `schemas/report.schema.json`.
//!
//! Editors (the YAML language server) and CI validators read it, so besides
//! being exact it must help: every field has a description and an example.

pub mod reference;

use serde_json::{Map, Value};

use crate::playbook::Playbook;

/// The schema's identifier. A URN, not a URL: nothing needs to be fetched to
/// use it, and `$ref`s inside stay local to the document.
pub const SCHEMA_ID: &str = "urn:runbook:schema:playbook";

/// Where the schema is committed, relative to the repository root.
pub const SCHEMA_PATH: &str = "schemas/playbook.schema.json";

/// The schema as a JSON value.
pub fn playbook_schema() -> Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<Playbook>();
    let mut value = schema.to_value();
    finish(&mut value);
    let Value::Object(fields) = value else { return value };
    // `$schema` then `$id` first, as readers expect them.
    let mut ordered = Map::new();
    for key in ["$schema", "$id"] {
        ordered.insert(key.to_owned(), fields.get(key).cloned().unwrap_or_else(|| SCHEMA_ID.into()));
    }
    ordered.extend(fields.into_iter().filter(|(k, _)| k != "$schema" && k != "$id"));
    Value::Object(ordered)
}

/// The run record's schema (`--format json`, `--report x.json`), committed
/// as `schemas/report.schema.json`.
pub fn report_schema_text() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<crate::record::RunRecord>();
    let mut value = schema.to_value();
    finish(&mut value);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// The schema as pretty JSON, with a trailing newline.
pub fn playbook_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&playbook_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Tidies what schemars generates, everywhere in the document:
/// - `"default": null` says nothing, and editors would insert it on completion;
/// - an externally tagged newtype variant (`{env: NAME}`) documents its one key,
///   so the hover text shows on that key, and its example is the whole map.
fn finish(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            if fields.get("default").is_some_and(Value::is_null) {
                fields.remove("default");
            }
            document_tagged_variant(fields);
            fields.values_mut().for_each(finish);
        }
        Value::Array(items) => items.iter_mut().for_each(finish),
        _ => {}
    }
}

fn document_tagged_variant(schema: &mut Map<String, Value>) {
    let Some(Value::Array(required)) = schema.get("required") else { return };
    let Some(Value::Object(properties)) = schema.get("properties") else { return };
    let [Value::String(key)] = required.as_slice() else { return };
    if properties.len() != 1 || !schema.contains_key("description") {
        return;
    }
    let key = key.clone();
    let examples = schema.remove("examples");
    let description = schema.get("description").cloned();
    let Some(Value::Object(property)) = schema.get_mut("properties").and_then(|p| p.get_mut(&key)) else { return };
    if property.contains_key("description") {
        return;
    }
    if let Some(description) = description {
        property.insert("description".to_owned(), description);
    }
    if let Some(Value::Array(examples)) = examples {
        property.insert("examples".to_owned(), Value::Array(examples.clone()));
        let wrapped = examples.into_iter().map(|e| serde_json::json!({ key.clone(): e })).collect();
        schema.insert("examples".to_owned(), Value::Array(wrapped));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every property of every object schema in the document, with its path.
    fn properties<'a>(path: &str, value: &'a Value, out: &mut Vec<(String, &'a Value)>) {
        match value {
            Value::Object(fields) => {
                if let Some(Value::Object(props)) = fields.get("properties") {
                    for (name, prop) in props {
                        out.push((format!("{path}.{name}"), prop));
                    }
                }
                for (key, child) in fields {
                    properties(&format!("{path}/{key}"), child, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| properties(path, item, out)),
            _ => {}
        }
    }

    /// A field that is another documented schema (a `$ref`, or a probe kind's
    /// own object) shows that schema's help; booleans need no example.
    fn needs_example(prop: &Value) -> bool {
        let is_ref = prop.get("$ref").is_some() || prop.pointer("/items/$ref").is_some();
        let has_own_fields =
            prop.get("properties").is_some() || prop.get("additionalProperties") == Some(&false.into());
        let boolean = prop.get("type") == Some(&"boolean".into());
        !(is_ref || has_own_fields || boolean)
    }

    #[test]
    fn every_field_has_a_description_and_an_example() {
        let schema = playbook_schema();
        let mut found = Vec::new();
        properties("", &schema, &mut found);
        assert!(found.len() > 20, "too few properties found: {}", found.len());
        let missing: Vec<String> = found
            .iter()
            .filter_map(|(path, prop)| {
                let description = prop.get("description").and_then(Value::as_str).is_some_and(|d| !d.is_empty());
                let example = !needs_example(prop) || prop.get("examples").is_some();
                let what = match (description, example) {
                    (true, true) => return None,
                    (false, true) => "a description (a doc comment)",
                    (true, false) => "an example (`#[schemars(example = ...)]`)",
                    (false, false) => "a description and an example",
                };
                Some(format!("{path} lacks {what}"))
            })
            .collect();
        assert!(missing.is_empty(), "schema fields without help:\n{}", missing.join("\n"));
    }

    #[test]
    fn the_schema_has_an_id_and_denies_unknown_step_fields() {
        let schema = playbook_schema();
        assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
        assert_eq!(schema["$id"], SCHEMA_ID);
        let step = &schema["$defs"]["Step"];
        assert_eq!(step["additionalProperties"], false);
        assert_eq!(step["required"], serde_json::json!(["id", "title"]));
        let one_of = step["oneOf"].as_array().expect("oneOf");
        assert_eq!(one_of.len(), crate::probe::KINDS.len());
        for kind in crate::probe::KINDS {
            assert!(step["properties"].get(*kind).is_some(), "no `{kind}` in the step schema");
        }
    }

    #[test]
    fn a_secret_source_documents_its_key() {
        let schema = playbook_schema();
        let env = &schema["$defs"]["SecretSource"]["oneOf"][0];
        assert!(env["properties"]["env"]["description"].is_string(), "{env}");
        assert_eq!(env["examples"][0], serde_json::json!({"env": "TITAN_CONSOLE_AUTH"}));
    }
}
