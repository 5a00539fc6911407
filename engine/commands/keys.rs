//! `runbook keygen` and `runbook verify`: the key pair that signs reports
//! and the check anyone can run later (the standard `minisign -V` works too).

use std::path::Path;

use super::exit;
use crate::report::sign::{self, PASSWORD_ENV, VerifyError};

pub fn keygen(out: &Path) -> u8 {
    let password = std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty());
    let encrypted = password.is_some();
    match sign::keygen(out, password) {
        Ok((secret, public)) => {
            let how = if encrypted { "encrypted with RUNBOOK_SIGN_PASSWORD" } else { "unencrypted; keep it private" };
            println!("secret key: {} ({how})", secret.display());
            println!("public key: {}", public.display());
            exit::CLEAN
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::INVALID
        }
    }
}

pub fn verify(report: &Path, pubkey: &Path, signature: Option<&Path>) -> u8 {
    let signature = signature.map_or_else(|| sign::signature_path(report), Path::to_path_buf);
    match sign::verify(report, &signature, pubkey) {
        Ok(comment) => {
            println!("ok: `{}` matches its signature", report.display());
            println!("trusted comment: {comment}");
            exit::CLEAN
        }
        Err(VerifyError::Bad(e)) => {
            eprintln!("error: {e}");
            exit::FAILED
        }
        Err(VerifyError::Unreadable(e)) => {
            eprintln!("error: {e}");
            exit::INVALID
        }
    }
}
