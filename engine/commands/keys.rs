//! `runbook keygen` and `runbook verify`: the key pair that signs reports
//! and the check anyone can run later (the standard `minisign -V` works too).

use std::path::Path;

use super::error::{Outcome, failed, invalid};
use super::exit;
use crate::report::sign::{self, PASSWORD_ENV};

pub fn keygen(out: &Path) -> Outcome {
    let password = std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty());
    let encrypted = password.is_some();
    let (secret, public) = sign::keygen(out, password).map_err(invalid)?;
    let how = if encrypted { "encrypted with RUNBOOK_SIGN_PASSWORD" } else { "unencrypted; keep it private" };
    println!("secret key: {} ({how})", secret.display());
    println!("public key: {}", public.display());
    Ok(exit::CLEAN)
}

pub fn verify(report: &Path, pubkey: &Path, signature: Option<&Path>) -> Outcome {
    let signature = signature.map_or_else(|| sign::signature_path(report), Path::to_path_buf);
    let comment =
        sign::verify(report, &signature, pubkey).map_err(|e| if e.is_bad() { failed(e) } else { invalid(e) })?;
    println!("ok: `{}` matches its signature", report.display());
    println!("trusted comment: {comment}");
    Ok(exit::CLEAN)
}
