//! Signatures in minisign's format (ed25519), so the standard `minisign -V`
//! verifies our reports and we verify theirs. `keygen` writes a key pair
//! (the secret key unencrypted for automation, or encrypted when
//! `RUNBOOK_SIGN_PASSWORD` is set); `sign` writes `<file>.minisig` beside the
//! file; `verify` checks one. The trusted comment (signed too) names the
//! file, the playbook, the operator and the verdict — never a secret: those
//! come from the already redacted run record.

use std::path::{Path, PathBuf};

use minisign::{KeyPair, PublicKey, PublicKeyBox, SecretKey, SecretKeyBox, SignatureBox};

/// The environment variable holding the secret key's password, if it has one.
pub const PASSWORD_ENV: &str = "RUNBOOK_SIGN_PASSWORD";

/// The key files `keygen` writes for `out`: a folder gets `runbook.key` and
/// `runbook.pub`; `NAME.key` pairs with `NAME.pub`; any other `NAME` with `NAME.pub`.
pub fn key_paths(out: &Path) -> (PathBuf, PathBuf) {
    if out.is_dir() {
        return (out.join("runbook.key"), out.join("runbook.pub"));
    }
    let public = if out.extension().is_some_and(|e| e == "key") {
        out.with_extension("pub")
    } else {
        let mut name = out.as_os_str().to_owned();
        name.push(".pub");
        PathBuf::from(name)
    };
    (out.to_path_buf(), public)
}

/// Writes a new key pair; refuses to overwrite either file.
pub fn keygen(out: &Path, password: Option<String>) -> Result<(PathBuf, PathBuf), String> {
    let (secret_path, public_path) = key_paths(out);
    for path in [&secret_path, &public_path] {
        if path.exists() {
            return Err(format!("`{}` already exists; remove it or choose another --out", path.display()));
        }
    }
    let pair = match password {
        Some(password) => KeyPair::generate_encrypted_keypair(Some(password)),
        None => KeyPair::generate_unencrypted_keypair(),
    }
    .map_err(|e| format!("cannot generate a key pair: {e}"))?;
    let secret_text = pair.sk.to_box(Some("runbook secret key")).map_err(|e| e.to_string())?.into_string();
    let public_text = pair.pk.to_box().map_err(|e| e.to_string())?.into_string();
    write_private(&secret_path, &secret_text)?;
    std::fs::write(&public_path, public_text).map_err(|e| format!("cannot write `{}`: {e}", public_path.display()))?;
    Ok((secret_path, public_path))
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    file.write_all(text.as_bytes()).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

/// Reads a secret key file; an encrypted one needs `password`.
pub fn read_secret_key(path: &Path, password: Option<String>) -> Result<SecretKey, String> {
    let shown = path.display();
    let text = crate::input::read_to_string(path, crate::input::SMALL_FILE_BYTES)
        .map_err(|e| format!("cannot read the secret key `{shown}`: {e}"))?;
    let boxed = SecretKeyBox::from_string(&text).map_err(|e| format!("`{shown}` is not a minisign secret key: {e}"))?;
    let key = SecretKey::from_unencrypted_box(boxed.clone());
    match (key, password) {
        (Ok(key), _) => Ok(key),
        (Err(_), Some(password)) => {
            SecretKey::from_box(boxed, Some(password)).map_err(|e| format!("cannot open the secret key `{shown}`: {e}"))
        }
        (Err(e), None) => Err(format!(
            "cannot open the secret key `{shown}`: {e}; if it is encrypted, put its password in `{PASSWORD_ENV}`"
        )),
    }
}

/// The signature file beside `file`: `<file>.minisig`.
pub fn signature_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".minisig");
    PathBuf::from(name)
}

/// Signs `file` and writes `<file>.minisig`; returns its path.
pub fn sign(file: &Path, key: &SecretKey, trusted_comment: &str) -> Result<PathBuf, String> {
    let data = std::fs::File::open(file).map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
    let comment: String = trusted_comment.chars().map(|c| if c.is_control() && c != '\t' { ' ' } else { c }).collect();
    let signature = minisign::sign(None, key, data, Some(&comment), Some("signature from runbook secret key"))
        .map_err(|e| format!("cannot sign `{}`: {e}", file.display()))?;
    let path = signature_path(file);
    crate::atomic_file::write(&path, signature.into_string())
        .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    Ok(path)
}

/// Why verification did not succeed.
#[derive(Debug)]
pub enum VerifyError {
    /// The report or the public key could not be read, or the key is not one.
    Unreadable(String),
    /// The signature is missing, malformed or does not match the file and key.
    Bad(String),
}

/// Checks `file` against `signature` with the public key file; returns the trusted comment.
pub fn verify(file: &Path, signature: &Path, public_key: &Path) -> Result<String, VerifyError> {
    let read = |path: &Path, what: &str| {
        crate::input::read_to_string(path, crate::input::SMALL_FILE_BYTES)
            .map_err(|e| VerifyError::Unreadable(format!("cannot read the {what} `{}`: {e}", path.display())))
    };
    let key_text = read(public_key, "public key")?;
    let key = PublicKey::from_box(PublicKeyBox::from_string(&key_text).map_err(|e| bad_key(public_key, &e))?)
        .or_else(|_| PublicKey::from_base64(key_text.trim()))
        .map_err(|e| bad_key(public_key, &e))?;
    // A missing signature is a failed check, not a usage error.
    let signature_text = read(signature, "signature").map_err(|e| match e {
        VerifyError::Unreadable(m) | VerifyError::Bad(m) => VerifyError::Bad(m),
    })?;
    let signature_box = SignatureBox::from_string(&signature_text)
        .map_err(|e| VerifyError::Bad(format!("`{}` is not a minisign signature: {e}", signature.display())))?;
    let data = crate::input::open_regular(file)
        .map_err(|e| VerifyError::Unreadable(format!("cannot read `{}`: {e}", file.display())))?;
    minisign::verify(&key, &signature_box, data, true, false, false)
        .map_err(|e| VerifyError::Bad(format!("`{}` does not match its signature: {e}", file.display())))?;
    Ok(signature_box.trusted_comment().unwrap_or_default())
}

fn bad_key(path: &Path, e: &minisign::PError) -> VerifyError {
    VerifyError::Unreadable(format!("`{}` is not a minisign public key: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_file_verifies_and_a_changed_byte_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let (secret, public) = keygen(&dir.path().join("k.key"), None).unwrap();
        assert_eq!(public, dir.path().join("k.pub"));
        let file = dir.path().join("r.md");
        std::fs::write(&file, "all good\n").unwrap();
        let key = read_secret_key(&secret, None).unwrap();
        let sig = sign(&file, &key, "file:r.md\tplaybook:x").unwrap();
        assert_eq!(verify(&file, &sig, &public).unwrap(), "file:r.md\tplaybook:x");
        std::fs::write(&file, "all good!\n").unwrap();
        assert!(matches!(verify(&file, &sig, &public), Err(VerifyError::Bad(_))));
    }

    #[test]
    fn an_encrypted_key_needs_its_password() {
        let dir = tempfile::tempdir().unwrap();
        let (secret, _) = keygen(&dir.path().join("k"), Some("pw".into())).unwrap();
        assert!(read_secret_key(&secret, None).unwrap_err().contains(PASSWORD_ENV));
        assert!(read_secret_key(&secret, Some("pw".into())).is_ok());
        assert!(keygen(&dir.path().join("k"), None).unwrap_err().contains("already exists"));
    }
}
