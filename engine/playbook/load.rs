//! Reading a playbook file into the model. Every failure is a [`Diagnostic`]
//! with the file, line and column; no input makes this panic.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::diagnostic::Diagnostic;
use super::error::{CompanionError, LoadError, Problem, ReadFailure};
use super::model::Playbook;
use super::{budget, load_error, step_de};
use crate::input::{self, ReadError};

/// The largest playbook read unless configured otherwise; a bigger file is
/// refused before parsing, so a huge file cannot exhaust memory.
pub const MAX_PLAYBOOK_BYTES: u64 = 4 * 1024 * 1024;

/// The limit in force: set once by the CLI layer from `--max-playbook-size`
/// (every command loads playbooks, and the limit is the same for all).
static SIZE_LIMIT: AtomicU64 = AtomicU64::new(MAX_PLAYBOOK_BYTES);

/// Sets the largest playbook [`load`] reads.
pub fn set_size_limit(bytes: u64) {
    SIZE_LIMIT.store(bytes, Ordering::Relaxed);
}

/// Reads a file that comes with the playbook (a `--notify` file, a report
/// template) under the playbook's size limit; the error names the file.
pub fn read_companion(path: &Path) -> Result<String, CompanionError> {
    let path_buf = path.to_path_buf();
    input::read_to_string(path, SIZE_LIMIT.load(Ordering::Relaxed)).map_err(|source| match source {
        ReadError::TooLarge { .. } => CompanionError::TooLarge { path: path_buf, source },
        source => CompanionError::Unreadable { path: path_buf, source },
    })
}

/// A playbook read from a file, with its text kept for error snippets.
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    /// The path as the user gave it, for messages.
    pub shown: String,
    pub source: String,
    pub playbook: Playbook,
}

/// Reads and parses `path`.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let fail = |failure: ReadFailure| LoadError {
        diagnostic: Diagnostic::new(&path.display().to_string(), 0, 0, failure.to_string()),
        source: None,
    };
    let bytes = crate::input::read(path, SIZE_LIMIT.load(Ordering::Relaxed)).map_err(|e| match e {
        ReadError::TooLarge { size, limit } => fail(ReadFailure::TooLarge { size, limit }),
        e => fail(ReadFailure::Unreadable(e)),
    })?;
    from_bytes(path, bytes)
}

/// Parses the bytes of a playbook read from `path`: all of [`load`] after the
/// read (and what the `playbook_load` fuzz target feeds).
pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Loaded, LoadError> {
    let shown = path.display().to_string();
    let source = match String::from_utf8(bytes) {
        Ok(source) => source,
        Err(e) => return Err(not_utf8(&shown, e.as_bytes(), e.utf8_error().valid_up_to())),
    };
    match parse(&shown, &source) {
        Ok(playbook) => Ok(Loaded { path: path.to_path_buf(), shown, source, playbook }),
        Err(diagnostic) => Err(LoadError { diagnostic, source: Some(source) }),
    }
}

/// Where the first byte that is not UTF-8 is (an editor shows the line, not
/// the offset), with the line shown as far as it can be.
fn not_utf8(shown: &str, bytes: &[u8], valid: usize) -> LoadError {
    let before = String::from_utf8_lossy(&bytes[..valid]);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let message = format!("the byte 0x{:02x} is not UTF-8; a playbook is UTF-8 text", bytes[valid]);
    let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let diagnostic = Diagnostic::new(shown, at(line), at(column), message);
    LoadError { diagnostic, source: Some(String::from_utf8_lossy(bytes).into_owned()) }
}

/// Parses playbook text; `file` names it in the diagnostic.
pub fn parse(file: &str, source: &str) -> Result<Playbook, Diagnostic> {
    if load_error::is_blank(source) {
        return Err(Diagnostic::new(file, 1, 1, "the playbook is empty; it needs `name` and `sections`"));
    }
    let (read, placed) = step_de::collecting(|| serde_saphyr::from_str::<Playbook>(source));
    read.map_err(|error| {
        // A step's own check knows the key it is about; the reader only knows the step's map.
        let problem = match (placed, budget::original(&error)) {
            (Some(placed), serde_saphyr::Error::Message { msg, .. }) if *msg == placed.message => {
                Problem { message: budget::escape_controls(&placed.message), ..placed }
            }
            _ => load_error::explain(&error, source),
        };
        Diagnostic::new(file, problem.pos.line.max(1), problem.pos.column.max(1), problem.message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::diagnostic::Pos;

    const TWO_PROBES: &str = "name: n\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: t\n        \
                              shell: { run: \"true\" }\n        sysinfo: {}\n";

    #[test]
    fn a_steps_own_problem_keeps_the_place_it_was_found_at() {
        let problem = parse("f.yaml", TWO_PROBES).expect_err("two probes");
        assert_eq!((problem.line, problem.column), (8, 9));
        assert_eq!(problem.message, "a step takes exactly one probe, found `shell` and `sysinfo`");
    }

    #[test]
    fn a_place_from_an_earlier_read_is_not_used_for_a_later_one() {
        let _ = parse("f.yaml", TWO_PROBES);
        let problem = parse("g.yaml", "name: n\nsections: 5\n").expect_err("not a list");
        assert_eq!(Pos { line: problem.line, column: problem.column }, Pos { line: 2, column: 11 });
        assert_eq!(problem.message, "`sections` must be a list, found `5`");
        let (read, placed) = step_de::collecting(|| serde_saphyr::from_str::<Playbook>("name: n\nsections: []\n"));
        assert!(read.is_ok() && placed.is_none());
    }
}
