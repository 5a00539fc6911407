//! The public keys a fleet view trusts: every `*.pub` minisign key in a
//! folder, one per host or one per team. A record is verified when one of
//! them verifies its signature over the record's stored text.

use std::path::{Path, PathBuf};

use minisign::{PublicKey, PublicKeyBox, SignatureBox};

use super::Signature;

/// Why the trusted keys could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read the folder `{}`: {source}", .dir.display())]
    Folder { dir: PathBuf, source: std::io::Error },
    #[error("cannot read the public key `{}`: {source}", .path.display())]
    Unreadable { path: PathBuf, source: crate::input::ReadError },
    #[error("`{}` is not a minisign public key: {source}", .path.display())]
    NotAKey { path: PathBuf, source: minisign::PError },
    #[error("`{}` holds no `*.pub` key", .dir.display())]
    Empty { dir: PathBuf },
}

/// The trusted keys, by file name.
pub struct TrustedKeys {
    keys: Vec<(String, PublicKey)>,
}

impl TrustedKeys {
    /// Reads every `*.pub` file in `dir`.
    pub fn read(dir: &Path) -> Result<Self, TrustError> {
        let folder = |source| TrustError::Folder { dir: dir.to_owned(), source };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(folder)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "pub") && p.is_file())
            .collect();
        paths.sort();
        let mut keys = Vec::new();
        for path in paths {
            let text = crate::input::read_to_string(&path, crate::input::SMALL_FILE_BYTES)
                .map_err(|source| TrustError::Unreadable { path: path.clone(), source })?;
            let key = PublicKeyBox::from_string(&text)
                .and_then(PublicKeyBox::into_public_key)
                .map_err(|source| TrustError::NotAKey { path: path.clone(), source })?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            keys.push((name, key));
        }
        if keys.is_empty() {
            return Err(TrustError::Empty { dir: dir.to_owned() });
        }
        Ok(Self { keys })
    }

    /// What the keys say of `record` signed with `signature` (minisign's text form).
    pub fn check(&self, record: &str, signature: Option<&str>) -> Signature {
        let Some(signature) = signature else {
            return Signature::Unverified { why: "the run was not signed (`runbook run --sign KEY`)".to_owned() };
        };
        let Ok(signature) = SignatureBox::from_string(signature) else {
            return Signature::Unverified { why: "its signature is not in minisign's format".to_owned() };
        };
        for (name, key) in &self.keys {
            if minisign::verify(key, &signature, std::io::Cursor::new(record.as_bytes()), true, false, false).is_ok() {
                return Signature::Verified { key: name.clone() };
            }
        }
        Signature::Unverified {
            why: "no trusted key verifies its signature (the record was changed, or signed by a key not trusted)"
                .to_owned(),
        }
    }
}
