//! A `--approvals FILE`: approvals of action steps given ahead of a run that
//! nobody watches (a YAML list of `{step, approver, action, at}`), trusted
//! only with a minisign signature `FILE.minisig` from one of the
//! `--approvals-key` public keys. Each approval is for the exact action text
//! (rendered, secrets masked) that `runbook run --dry-run` shows; the runner
//! counts it only if that is what would run now.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::record::approval::Approval;
use crate::report::sign::{self, VerifyError};

/// One entry of the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    step: String,
    approver: String,
    action: String,
    at: String,
}

/// An approval read from a signed file, with the step it is for.
#[derive(Debug, Clone)]
pub struct FileApproval {
    pub step: String,
    pub approval: Approval,
}

/// Why an approvals file cannot be used (the command line is then invalid: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ApprovalsFileError {
    #[error("--approvals needs at least one --approvals-key PUB to check its signature")]
    NoKey,
    #[error("--approvals-key `{}`: {source}", .path.display())]
    KeyDir { path: PathBuf, source: std::io::Error },
    #[error("--approvals-key `{}` holds no `.pub` file", .path.display())]
    NoKeyInDir { path: PathBuf },
    #[error("cannot read the approvals file: {0}")]
    Unreadable(#[from] crate::input::ReadError),
    #[error("the approvals file `{}` is not signed by any --approvals-key: {source}", .path.display())]
    NotSigned { path: PathBuf, source: Box<VerifyError> },
    #[error("the approvals file `{}` changed while it was checked", .path.display())]
    Changed { path: PathBuf },
    #[error("the approvals file `{}` is not a list of {{step, approver, action, at}}: {message}", .path.display())]
    Parse { path: PathBuf, message: String },
    #[error("the approvals file `{}`: approval {index} has `at: {at}`, not an RFC 3339 time", .path.display())]
    BadTime { path: PathBuf, index: usize, at: String },
}

/// Reads `path`, checks its signature `path.minisig` against `keys` (key files, or folders of
/// `.pub` files; one must match) and returns its approvals, each marked `file <sha256>`.
pub fn load(path: &Path, keys: &[PathBuf]) -> Result<Vec<FileApproval>, ApprovalsFileError> {
    let keys = key_files(keys)?;
    let bytes = crate::input::read(path, crate::input::SMALL_FILE_BYTES)?;
    let signature = sign::signature_path(path);
    let mut refusal = None;
    for key in &keys {
        match sign::verify(path, &signature, key) {
            Ok(_) => {
                refusal = None;
                break;
            }
            Err(e) => refusal = Some(e),
        }
    }
    if let Some(e) = refusal {
        return Err(ApprovalsFileError::NotSigned { path: path.to_owned(), source: Box::new(e) });
    }
    // What was verified must be what is read.
    if crate::input::read(path, crate::input::SMALL_FILE_BYTES)? != bytes {
        return Err(ApprovalsFileError::Changed { path: path.to_owned() });
    }
    let text = String::from_utf8_lossy(&bytes);
    let entries: Vec<Entry> = serde_saphyr::from_str(&text)
        .map_err(|e| ApprovalsFileError::Parse { path: path.to_owned(), message: e.to_string() })?;
    let via = format!("file {:x}", Sha256::digest(&bytes));
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        if chrono::DateTime::parse_from_rfc3339(entry.at.trim()).is_err() {
            return Err(ApprovalsFileError::BadTime { path: path.to_owned(), index: i + 1, at: entry.at });
        }
        let approval = Approval { approver: entry.approver, at: entry.at, action: entry.action, via: via.clone() };
        out.push(FileApproval { step: entry.step, approval });
    }
    Ok(out)
}

/// The key files `given` names: files as they are, folders by their `.pub` files.
fn key_files(given: &[PathBuf]) -> Result<Vec<PathBuf>, ApprovalsFileError> {
    if given.is_empty() {
        return Err(ApprovalsFileError::NoKey);
    }
    let mut keys = Vec::new();
    for path in given {
        if !path.is_dir() {
            keys.push(path.clone());
            continue;
        }
        let listing =
            std::fs::read_dir(path).map_err(|source| ApprovalsFileError::KeyDir { path: path.clone(), source })?;
        let mut found: Vec<PathBuf> = listing
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "pub") && p.is_file())
            .collect();
        if found.is_empty() {
            return Err(ApprovalsFileError::NoKeyInDir { path: path.clone() });
        }
        found.sort();
        keys.extend(found);
    }
    Ok(keys)
}
