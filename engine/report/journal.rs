//! The operations journal (`--journal FILE`, the runbook's `daily-ops.log`):
//! one line per run appended, `key=value` pairs separated by spaces, values
//! with spaces or quotes JSON-quoted. Lines are whole: one `write` each.
//! `status=interrupted` marks a run a signal or `--deadline` stopped.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::record::{RunRecord, RunStatus};

/// The journal line for a run, without the newline.
pub fn line(record: &RunRecord) -> String {
    let c = &record.counts;
    let mut fields = vec![
        ("time", record.finished.clone()),
        ("playbook", record.playbook.clone()),
        ("file", record.file.clone()),
        ("host", record.host.clone()),
        ("operator", record.signoff.operator.clone().unwrap_or_else(|| "-".to_owned())),
        ("verdict", record.verdict.name().to_owned()),
        // A run stopped by a signal or its deadline must not read as a finished one.
        ("status", status(record.status).to_owned()),
        ("signoff", if record.signoff.clean { "clean" } else { "not-clean" }.to_owned()),
        ("pass", c.pass.to_string()),
        ("warn", c.warn.to_string()),
        ("fail", c.fail.to_string()),
        ("error", c.error.to_string()),
        ("skipped", c.skipped.to_string()),
        ("pending", c.pending.to_string()),
    ];
    // Only when there are any, so lines of runs without waivers read as before.
    if c.waived > 0 {
        fields.push(("waived", c.waived.to_string()));
    }
    if c.not_due > 0 {
        fields.push(("not_due", c.not_due.to_string()));
    }
    if c.snoozed > 0 {
        fields.push(("snoozed", c.snoozed.to_string()));
    }
    fields.iter().map(|(k, v)| format!("{k}={}", quote(v))).collect::<Vec<_>>().join(" ")
}

/// Why a run's line is not in the journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot open the journal `{}`: {source}", .path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The one write took only part of the line.
    #[error("cannot write the journal `{}`: only {written} of {length} bytes written", .path.display())]
    Short { path: PathBuf, written: usize, length: usize },
    #[error("cannot write the journal `{}`: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Appends the run's line to `path`, creating the file if needed.
pub fn append(path: &Path, record: &RunRecord) -> Result<(), JournalError> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| JournalError::Open { path: path.to_owned(), source })?;
    // One write to an O_APPEND file: lines of runs that end at once never interleave.
    let text = format!("{}\n", line(record));
    match file.write(text.as_bytes()) {
        Ok(n) if n == text.len() => Ok(()),
        Ok(written) => Err(JournalError::Short { path: path.to_owned(), written, length: text.len() }),
        Err(source) => Err(JournalError::Write { path: path.to_owned(), source }),
    }
}

fn status(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Complete => "complete",
        RunStatus::Interrupted => "interrupted",
    }
}

fn quote(value: &str) -> String {
    let plain = !value.is_empty() && value.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
    if plain { value.to_owned() } else { serde_json::Value::String(value.to_owned()).to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_that_cannot_be_opened_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let record: RunRecord = serde_json::from_str(include_str!("../../tests/report-record.json")).expect("record");
        let error = append(dir.path(), &record).unwrap_err();
        assert!(matches!(error, JournalError::Open { .. }));
        assert!(error.to_string().starts_with(&format!("cannot open the journal `{}`: ", dir.path().display())));
    }

    #[test]
    fn values_with_spaces_or_quotes_are_json_quoted() {
        assert_eq!(quote("alice"), "alice");
        assert_eq!(quote("Quick start"), "\"Quick start\"");
        assert_eq!(quote("a\"b\nc"), "\"a\\\"b\\nc\"");
        assert_eq!(quote(""), "\"\"");
    }
}
