//! Signatures in minisign's format (ed25519), so the standard `minisign -V`
//! verifies our reports and we verify theirs. `keygen` writes a key pair
//! (the secret key unencrypted for automation, or encrypted when
//! `RUNBOOK_SIGN_PASSWORD` is set); `sign` writes `<file>.minisig` beside the
//! file; `verify` checks one. Keys and signatures in every form the minisign
//! CLI writes are read: unencrypted keys from `minisign -G -W` (which carry no
//! checksum) and legacy signatures from `minisign -S -l`. The trusted comment (signed too) names the
//! file, the playbook, the operator and the verdict — never a secret: those
//! come from the already redacted run record.

use std::path::{Path, PathBuf};

use minisign::{KeyPair, PError, PublicKey, PublicKeyBox, SecretKey, SecretKeyBox, SignatureBox};

use crate::input::ReadError;

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

/// Why a key pair was not written, a secret key not read or a file not signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("`{}` already exists; remove it or choose another --out", .path.display())]
    Exists { path: PathBuf },
    #[error("cannot generate a key pair: {0}")]
    Generate(#[source] PError),
    /// A new key could not be put in its text form.
    #[error("{0}")]
    Encode(#[source] PError),
    #[error("cannot write `{}`: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the secret key `{}`: {source}", .path.display())]
    KeyUnreadable {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    #[error("`{}` is not a minisign secret key: {source}", .path.display())]
    NotASecretKey {
        path: PathBuf,
        #[source]
        source: PError,
    },
    /// The password was given and does not open the key (or the key is damaged).
    #[error("cannot open the secret key `{}`: {source}", .path.display())]
    CannotOpen {
        path: PathBuf,
        #[source]
        source: PError,
    },
    /// No password was given and the key does not open without one.
    #[error("cannot open the secret key `{}`: {source}; if it is encrypted, put its password in `{PASSWORD_ENV}`", .path.display())]
    NeedsPassword {
        path: PathBuf,
        #[source]
        source: PError,
    },
    #[error("cannot read `{}`: {source}", .path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot sign `{}`: {source}", .path.display())]
    Sign {
        path: PathBuf,
        #[source]
        source: PError,
    },
}

fn cannot_write(path: &Path) -> impl FnOnce(std::io::Error) -> SignError + '_ {
    move |source| SignError::Write { path: path.to_owned(), source }
}

/// Writes a new key pair; refuses to overwrite either file.
pub fn keygen(out: &Path, password: Option<String>) -> Result<(PathBuf, PathBuf), SignError> {
    let (secret_path, public_path) = key_paths(out);
    for path in [&secret_path, &public_path] {
        if path.exists() {
            return Err(SignError::Exists { path: path.clone() });
        }
    }
    let pair = match password {
        Some(password) => KeyPair::generate_encrypted_keypair(Some(password)),
        None => KeyPair::generate_unencrypted_keypair(),
    }
    .map_err(SignError::Generate)?;
    let secret_text = pair.sk.to_box(Some("runbook secret key")).map_err(SignError::Encode)?.into_string();
    let public_text = pair.pk.to_box().map_err(SignError::Encode)?.into_string();
    write_private(&secret_path, &secret_text)?;
    std::fs::write(&public_path, public_text).map_err(cannot_write(&public_path))?;
    Ok((secret_path, public_path))
}

fn write_private(path: &Path, text: &str) -> Result<(), SignError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file =
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(cannot_write(path))?;
    file.write_all(text.as_bytes()).map_err(cannot_write(path))
}

/// Reads a secret key file; an encrypted one needs `password`.
pub fn read_secret_key(path: &Path, password: Option<String>) -> Result<SecretKey, SignError> {
    let text = crate::input::read_to_string(path, crate::input::SMALL_FILE_BYTES)
        .map_err(|source| SignError::KeyUnreadable { path: path.to_owned(), source })?;
    let boxed = SecretKeyBox::from_string(&text)
        .map_err(|source| SignError::NotASecretKey { path: path.to_owned(), source })?;
    let key = SecretKey::from_unencrypted_box(boxed.clone()).or_else(|e| unencrypted_without_checksum(&text).ok_or(e));
    match (key, password) {
        (Ok(key), _) => Ok(key),
        (Err(_), Some(password)) => SecretKey::from_box(boxed, Some(password))
            .map_err(|source| SignError::CannotOpen { path: path.to_owned(), source }),
        (Err(source), None) => Err(SignError::NeedsPassword { path: path.to_owned(), source }),
    }
}

/// The layout of a secret key (after base64): signature, KDF and checksum algorithms (2
/// bytes each), KDF salt (32), ops and memory limits (8 each), key id (8), key (64),
/// checksum (32).
const SECRET_KEY_BYTES: usize = 158;
const KDF_ALG: std::ops::Range<usize> = 2..4;
const CHECKSUM: std::ops::Range<usize> = 126..158;

/// A key as `minisign -G -W` (minisign 0.11) writes it: unencrypted, its checksum left all
/// zeros, which the minisign crate refuses as "Corrupted key". It is taken only when it holds
/// together: a signature it makes verifies with the public half it carries, so a damaged key
/// is still refused.
fn unencrypted_without_checksum(text: &str) -> Option<SecretKey> {
    use base64::Engine as _;
    let encoded = text.lines().nth(1)?.trim();
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let unencrypted = bytes.len() == SECRET_KEY_BYTES && bytes[KDF_ALG].iter().all(|b| *b == 0);
    if !unencrypted || bytes[CHECKSUM].iter().any(|b| *b != 0) {
        return None;
    }
    let key = SecretKey::from_bytes(&bytes).ok()?;
    let public = PublicKey::from_secret_key(&key).ok()?;
    let probe: &[u8] = b"runbook: does this key hold together?";
    let signature = minisign::sign(Some(&public), &key, probe, None, None).ok()?;
    minisign::verify(&public, &signature, std::io::Cursor::new(probe), true, false, false).ok()?;
    Some(key)
}

/// The signature file beside `file`: `<file>.minisig`.
pub fn signature_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".minisig");
    PathBuf::from(name)
}

/// Signs `file` and writes `<file>.minisig`; returns its path.
pub fn sign(file: &Path, key: &SecretKey, trusted_comment: &str) -> Result<PathBuf, SignError> {
    let data = std::fs::File::open(file).map_err(|source| SignError::Unreadable { path: file.to_owned(), source })?;
    let comment: String = trusted_comment.chars().map(|c| if c.is_control() && c != '\t' { ' ' } else { c }).collect();
    let signature = minisign::sign(None, key, data, Some(&comment), Some("signature from runbook secret key"))
        .map_err(|source| SignError::Sign { path: file.to_owned(), source })?;
    let path = signature_path(file);
    crate::atomic_file::write(&path, signature.into_string()).map_err(cannot_write(&path))?;
    Ok(path)
}

/// Why verification did not succeed: a usage problem (the report or the
/// public key cannot be read, or the key is not one) or a failed check (the
/// signature is missing, malformed or does not match); see [`VerifyError::is_bad`].
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read the public key `{}`: {source}", .path.display())]
    KeyUnreadable {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    #[error("`{}` is not a minisign public key: {source}", .path.display())]
    NotAPublicKey {
        path: PathBuf,
        #[source]
        source: PError,
    },
    #[error("cannot read `{}`: {source}", .path.display())]
    ReportUnreadable {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    #[error("cannot read the signature `{}`: {source}", .path.display())]
    SignatureUnreadable {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    #[error("`{}` is not a minisign signature: {source}", .path.display())]
    NotASignature {
        path: PathBuf,
        #[source]
        source: PError,
    },
    #[error("`{}` was made by key {key_id}, which no --pubkey holds", .path.display())]
    UnknownKey { path: PathBuf, key_id: String },
    #[error("`{}` does not match its signature: {source}", .path.display())]
    Mismatch {
        path: PathBuf,
        #[source]
        source: PError,
    },
}

impl VerifyError {
    /// A failed check (a missing signature too), rather than a usage problem.
    pub fn is_bad(&self) -> bool {
        matches!(
            self,
            Self::SignatureUnreadable { .. }
                | Self::NotASignature { .. }
                | Self::UnknownKey { .. }
                | Self::Mismatch { .. }
        )
    }
}

/// Checks `file` against `signature` with the public key file; returns the trusted comment.
pub fn verify(file: &Path, signature: &Path, public_key: &Path) -> Result<String, VerifyError> {
    let key = read_public_key(public_key)?;
    verify_with(file, signature, std::slice::from_ref(&key)).map(|good| good.comment)
}

/// A public key file (minisign's box, or the bare base64 line).
pub fn read_public_key(path: &Path) -> Result<PublicKey, VerifyError> {
    let key_text = crate::input::read_to_string(path, crate::input::SMALL_FILE_BYTES)
        .map_err(|source| VerifyError::KeyUnreadable { path: path.to_owned(), source })?;
    let bad_key = |source| VerifyError::NotAPublicKey { path: path.to_owned(), source };
    PublicKey::from_box(PublicKeyBox::from_string(&key_text).map_err(bad_key)?)
        .or_else(|_| PublicKey::from_base64(key_text.trim()))
        .map_err(bad_key)
}

/// A key id as `minisign` prints it: 16 upper-case hex digits.
pub fn key_id(keynum: &[u8]) -> String {
    let bytes: [u8; 8] = keynum.try_into().unwrap_or_default();
    format!("{:016X}", u64::from_le_bytes(bytes))
}

/// The id of the key that signs with `key`.
pub fn secret_key_id(key: &SecretKey) -> Option<String> {
    PublicKey::from_secret_key(key).ok().map(|public| key_id(public.keynum()))
}

/// The key id a signature (text form) names, read without checking it.
pub fn signature_key_id(signature: &str) -> Option<String> {
    SignatureBox::from_string(signature).ok().map(|s| key_id(s.keynum()))
}

/// A signature that matched: its trusted comment and the id of the key that made it.
#[derive(Debug, Clone)]
pub struct Good {
    pub comment: String,
    pub key_id: String,
}

/// Checks `file` against `signature` with whichever of `keys` has the signature's key id.
pub fn verify_with(file: &Path, signature: &Path, keys: &[PublicKey]) -> Result<Good, VerifyError> {
    // A missing signature is a failed check, not a usage error.
    let signature_text = crate::input::read_to_string(signature, crate::input::SMALL_FILE_BYTES)
        .map_err(|source| VerifyError::SignatureUnreadable { path: signature.to_owned(), source })?;
    let signature_box = SignatureBox::from_string(&signature_text)
        .map_err(|source| VerifyError::NotASignature { path: signature.to_owned(), source })?;
    let id = key_id(signature_box.keynum());
    let key = keys
        .iter()
        .find(|k| k.keynum() == signature_box.keynum())
        .ok_or_else(|| VerifyError::UnknownKey { path: signature.to_owned(), key_id: id.clone() })?;
    let data = crate::input::open_regular(file)
        .map_err(|source| VerifyError::ReportUnreadable { path: file.to_owned(), source })?;
    // Legacy signatures (`minisign -S -l`: the file itself signed, not its hash) are what
    // older minisign wrote; `minisign -V` accepts them, and so do we.
    minisign::verify(key, &signature_box, data, true, false, true)
        .map_err(|source| VerifyError::Mismatch { path: file.to_owned(), source })?;
    Ok(Good { comment: signature_box.trusted_comment().unwrap_or_default(), key_id: id })
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
        assert!(matches!(verify(&file, &sig, &public), Err(VerifyError::Mismatch { .. })));
    }

    #[test]
    fn a_key_without_its_checksum_is_taken_only_when_it_holds_together() {
        use base64::Engine as _;
        let pair = KeyPair::generate_unencrypted_keypair().unwrap();
        let mut bytes = pair.sk.to_bytes();
        bytes[CHECKSUM].fill(0);
        let engine = base64::engine::general_purpose::STANDARD;
        let text =
            |bytes: &[u8]| format!("untrusted comment: minisign encrypted secret key\n{}\n", engine.encode(bytes));
        assert!(SecretKey::from_unencrypted_box(SecretKeyBox::from_string(&text(&bytes)).unwrap()).is_err());
        assert!(unencrypted_without_checksum(&text(&bytes)).is_some());
        // A flipped bit in the public half: the key no longer signs what its public half verifies.
        bytes[120] ^= 1;
        assert!(unencrypted_without_checksum(&text(&bytes)).is_none());
    }

    #[test]
    fn an_encrypted_key_needs_its_password() {
        let dir = tempfile::tempdir().unwrap();
        let (secret, _) = keygen(&dir.path().join("k"), Some("pw".into())).unwrap();
        assert!(read_secret_key(&secret, None).unwrap_err().to_string().contains(PASSWORD_ENV));
        assert!(read_secret_key(&secret, Some("pw".into())).is_ok());
        assert!(keygen(&dir.path().join("k"), None).unwrap_err().to_string().contains("already exists"));
    }
}
