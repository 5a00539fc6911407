//! `runbook probes [KIND]`: the probe kinds, or one kind's reference: what it
//! observes and its parameters. Everything shown comes from the registry
//! (`probe::observes_of`) and the kind's own doc comments through the
//! generated schema, so there is no second description to keep in step.

use serde_json::Value;

use super::error::{Outcome, invalid};
use super::exit;
use crate::suggest::did_you_mean;

pub fn probes(kind: Option<&str>) -> Outcome {
    let schema: Value = serde_json::from_str(&crate::schema::playbook_schema_text()).map_err(invalid)?;
    let step = &schema["$defs"]["Step"]["properties"];
    let Some(kind) = kind else {
        for kind in crate::probe::KINDS {
            println!("{kind:<10} {}", first_sentence(step[kind]["description"].as_str().unwrap_or("")));
        }
        println!("\n`runbook probes KIND` shows what a kind observes and its parameters.");
        return Ok(exit::CLEAN);
    };
    let Some(observes) = crate::probe::observes_of(kind) else {
        let hint = did_you_mean(kind, crate::probe::KINDS.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        return Err(invalid(format!("no probe kind `{kind}`{hint} (kinds: {})", crate::probe::KINDS.join(", "))));
    };
    print!("{}", reference(kind, &step[kind], observes));
    Ok(exit::CLEAN)
}

/// One kind's page: its description, the observation keys, the parameters.
fn reference(kind: &str, schema: &Value, observes: Option<&[&str]>) -> String {
    let mut out = format!("{kind}\n\n{}\n\nObservation keys", schema["description"].as_str().unwrap_or(""));
    match observes {
        Some(keys) => {
            out += &format!(" (expressions read them by name, captures as `$.key`):\n  {}\n", keys.join(", "))
        }
        None => out += ": they depend on what is probed (see above).\n",
    }
    out += "\nParameters:\n";
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    if let Some(params) = schema["properties"].as_object() {
        for (name, param) in params {
            let need = if required.contains(&name.as_str()) { " (required)" } else { "" };
            let text = param["description"].as_str().unwrap_or("").replace('\n', " ");
            out += &format!("  {name}{need}\n      {text}\n");
        }
    }
    out += "\nRun a step with `runbook run FILE --show-observed` to see a real observation.\n";
    out
}

/// Up to the first full stop that ends a sentence.
fn first_sentence(text: &str) -> String {
    let flat = text.replace('\n', " ");
    match flat.find(". ") {
        Some(end) => flat[..=end].to_owned(),
        None => flat,
    }
}
