//! The errors of the playbook layer, as data: a problem keeps its place as a
//! [`Pos`], a reader's error keeps the reader's [`serde_saphyr::Error`], and
//! the text a person reads is made only when one is displayed.

use std::path::PathBuf;

use super::diagnostic::Pos;

/// A problem at a place in a playbook, before it is tied to its file (the
/// loader makes a [`super::Diagnostic`] of it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Problem {
    pub pos: Pos,
    pub message: String,
}

impl Problem {
    pub fn new(pos: impl Into<Pos>, message: impl Into<String>) -> Self {
        Self { pos: pos.into(), message: message.into() }
    }
}

/// A playbook that could not be loaded: the one problem, tied to its file,
/// and the text read (for the snippet), when there was any.
#[derive(Debug, Clone)]
pub struct LoadError {
    pub diagnostic: super::Diagnostic,
    /// The playbook's text (not an error source, hence no derive: thiserror
    /// takes a field named `source` for one).
    pub source: Option<String>,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diagnostic.headline())
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    /// The problem with its source line and caret, as `runbook validate` prints it.
    pub fn render(&self) -> String {
        self.diagnostic.render(self.source.as_deref())
    }
}

/// How to raise the size limit, for the message that refuses a file.
const RAISE: &str = "(raise it with `--max-playbook-size` or `RUNBOOK_MAX_PLAYBOOK_SIZE`, e.g. `16MB`)";

/// A file that comes with a playbook (a `--notify` file, a report template)
/// could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CompanionError {
    #[error("cannot read `{}`: {source} {RAISE}", path.display())]
    TooLarge { path: PathBuf, source: crate::input::ReadError },
    #[error("cannot read `{}`: {source}", path.display())]
    Unreadable { path: PathBuf, source: crate::input::ReadError },
}

/// The playbook file itself could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadFailure {
    #[error("the playbook is {}; the limit is {limit} bytes {RAISE}", crate::input::size_text(*size, *limit))]
    TooLarge { size: Option<u64>, limit: u64 },
    #[error("cannot read the playbook: {0}")]
    Unreadable(crate::input::ReadError),
}

/// A `--notify` file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum NotifyFileError {
    #[error("--notify: {0}")]
    Read(#[from] CompanionError),
    /// Not YAML, or not a list of targets; the reader's error says where.
    #[error("--notify: `{}`: {}", path.display(), super::budget::plain(error))]
    Parse { path: PathBuf, error: Box<serde_saphyr::Error> },
    /// Target `index` (1-based) at `pos` fails its own checks.
    #[error("--notify: {}:{}:{}: target {index}: {problem}", path.display(), pos.line, pos.column)]
    Target { path: PathBuf, pos: Pos, index: usize, problem: Box<crate::notify::NotifyError> },
}

/// Why a `--waivers` file was refused.
#[derive(Debug, thiserror::Error)]
pub enum WaiversFileError {
    #[error("--waivers: {0}")]
    Read(#[from] CompanionError),
    /// Not YAML, or not a `waivers:` list; the reader's error says where.
    #[error("--waivers: `{}`: {}", path.display(), super::budget::plain(error))]
    Parse { path: PathBuf, error: Box<serde_saphyr::Error> },
    /// A waiver that names no step of the playbook, or no date.
    #[error("--waivers: {}:{}:{}: {message}", path.display(), pos.line, pos.column)]
    Waiver { path: PathBuf, pos: Pos, message: String },
}

/// A `--var` value that does not have the type of the playbook's own value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not {expected}")]
pub struct VarTypeError {
    pub text: String,
    /// What the playbook's value is: "true or false", "an integer", "a number".
    pub expected: &'static str,
}
