//! The one error type of the command layer: each command returns it with `?`
//! and `commands::main` prints it once, as `error: …`, and exits with its code.

use super::exit;
use crate::session::SessionError;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A bad argument, playbook or companion file: nothing ran (exit 2).
    #[error("{0}")]
    Invalid(String),
    /// The command ran and something it had to do failed (exit 1).
    #[error("{0}")]
    Failed(String),
    /// Already shown (a playbook's diagnostics); only the exit code is left.
    #[error("")]
    Shown(u8),
}

impl CliError {
    pub fn code(&self) -> u8 {
        match self {
            Self::Invalid(_) => exit::INVALID,
            Self::Failed(_) => exit::FAILED,
            Self::Shown(code) => *code,
        }
    }
}

impl From<SessionError> for CliError {
    fn from(e: SessionError) -> Self {
        Self::Invalid(e.to_string())
    }
}

/// `Result` of a command: its exit code, or why it stopped.
pub type Outcome = Result<u8, CliError>;

/// A bad argument: `map_err(invalid)`.
pub fn invalid(message: impl std::fmt::Display) -> CliError {
    CliError::Invalid(message.to_string())
}

/// A failure while running: `map_err(failed)`.
pub fn failed(message: impl std::fmt::Display) -> CliError {
    CliError::Failed(message.to_string())
}
