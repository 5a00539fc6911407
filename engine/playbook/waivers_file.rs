//! A `--waivers FILE`: known exceptions kept apart from the playbook (one
//! list for several runs), the same shape as a playbook's `waivers:`.

use serde::Deserialize;

use super::error::WaiversFileError;
use super::model::WaiverEntry;
use super::plan::Plan;
use crate::record::Waiver;
use crate::suggest::did_you_mean;

/// A `--waivers` file: `waivers:` and the list a playbook's `waivers:` holds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiversFile {
    pub waivers: Vec<WaiverEntry>,
}

/// Reads a `--waivers` file and checks it against `plan`; a problem names the file, line and column.
pub fn load(path: &std::path::Path, plan: &Plan) -> Result<Vec<Waiver>, WaiversFileError> {
    let source = super::load::read_companion(path)?;
    let file: WaiversFile = serde_saphyr::from_str(&source)
        .map_err(|error| WaiversFileError::Parse { path: path.to_path_buf(), error: Box::new(error) })?;
    let problem = |at: serde_saphyr::Location, message: String| WaiversFileError::Waiver {
        path: path.to_path_buf(),
        pos: at.into(),
        message,
    };
    let mut out = Vec::new();
    for entry in file.waivers {
        let id = &entry.step.value;
        if !plan.steps.iter().any(|s| &s.id == id) {
            let hint = did_you_mean(id, plan.steps.iter().map(|s| s.id.as_str()))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(problem(entry.step.referenced, format!("`waivers` names unknown step `{id}`{hint}")));
        }
        if chrono::NaiveDate::parse_from_str(&entry.expires.value, "%Y-%m-%d").is_err() {
            let message = format!("waiver `expires: {}` is not a date of the form YYYY-MM-DD", entry.expires.value);
            return Err(problem(entry.expires.referenced, message));
        }
        out.push(Waiver {
            step: id.clone(),
            reason: entry.reason,
            owner: entry.owner,
            expires: entry.expires.value,
            expired: false,
        });
    }
    Ok(out)
}
