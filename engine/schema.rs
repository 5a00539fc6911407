//! The playbook JSON Schema, generated from the model types. The committed
//! `schemas/playbook.schema.json` must equal this; a test checks it.

use crate::playbook::Playbook;

/// The schema as pretty JSON, with a trailing newline.
pub fn playbook_schema_text() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12().into_generator().into_root_schema_for::<Playbook>();
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
