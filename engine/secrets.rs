//! Secrets: read when a run starts, usable in probe parameters, and never
//! shown. Every text that leaves the engine (terminal, JSON, reports,
//! history, errors) passes through [`Redactor::redact`] first.

use std::collections::BTreeMap;
use std::path::Path;

mod base64;
mod redactor;
mod views;

pub use redactor::{MIN_DERIVED, Redactor};

mod source;

pub use source::SecretSource;

/// What replaces a secret value in output.
pub const MASK: &str = "••••••";

/// The secrets of one run, by name.
#[derive(Default, Clone)]
pub struct Secrets {
    pub values: BTreeMap<String, String>,
}

/// A secret that cannot be had; each names the secret and its source, never a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret `{name}`: environment variable `{var}` is not set")]
    Unset { name: String, var: String },
    #[error("secret `{name}`: cannot read `{}`: {source}", path.display())]
    Unreadable { name: String, path: std::path::PathBuf, source: crate::input::ReadError },
    #[error("secret `{name}` is empty")]
    Empty { name: String },
}

/// Reads every secret; a missing one is an error naming it and its source.
pub fn resolve(
    sources: &BTreeMap<String, SecretSource>,
    base_dir: &Path,
) -> Result<(Secrets, Vec<String>), SecretError> {
    let mut values = BTreeMap::new();
    let mut warnings = Vec::new();
    for (name, source) in sources {
        let value = match source {
            SecretSource::Env(var) => {
                std::env::var(var).map_err(|_| SecretError::Unset { name: name.clone(), var: var.clone() })?
            }
            SecretSource::File(file) => {
                let path = base_dir.join(file);
                if let Some(warning) = loose_permissions(&path) {
                    warnings.push(format!("secret `{name}`: {warning}"));
                }
                let text = crate::input::read_to_string(&path, crate::input::SMALL_FILE_BYTES)
                    .map_err(|source| SecretError::Unreadable { name: name.clone(), path: path.clone(), source })?;
                text.lines().next().unwrap_or("").to_owned()
            }
        };
        if value.is_empty() {
            return Err(SecretError::Empty { name: name.clone() });
        }
        values.insert(name.clone(), value);
    }
    Ok((Secrets { values }, warnings))
}

/// A warning when users other than the file's owner may read or change it (any group or other bit).
fn loose_permissions(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "`{path}` is accessible to users other than its owner (mode {:o}); run `chmod 600 {path}`",
            mode & 0o777,
            path = path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_plain_and_url_encoded_values() {
        let secrets = Secrets { values: [("pw".to_owned(), "p@ss w0rd".to_owned())].into() };
        let r = Redactor::new(&secrets);
        assert_eq!(r.redact("postgres://u:p%40ss%20w0rd@h/db"), format!("postgres://u:{MASK}@h/db"));
        assert_eq!(r.redact("said p@ss w0rd"), format!("said {MASK}"));
    }
}
