//! `runbook keygen` and `runbook verify`: the key pair that signs reports
//! and the check anyone can run later (the standard `minisign -V` works too).

use std::path::{Path, PathBuf};

use super::error::{Outcome as Exit, failed, invalid};
use super::exit;
use crate::report::chain::{self, Outcome};
use crate::report::sign::{self, PASSWORD_ENV};

pub fn keygen(out: &Path) -> Exit {
    let password = std::env::var(PASSWORD_ENV).ok().filter(|p| !p.is_empty());
    let encrypted = password.is_some();
    let (secret, public) = sign::keygen(out, password).map_err(invalid)?;
    let how = if encrypted { "encrypted with RUNBOOK_SIGN_PASSWORD" } else { "unencrypted; keep it private" };
    println!("secret key: {} ({how})", secret.display());
    println!("public key: {}", public.display());
    Ok(exit::CLEAN)
}

/// Checks a report and every countersign after it; `signature` checks that one file alone.
pub fn verify(report: &Path, pubkeys: &[PathBuf], signature: Option<&Path>) -> Exit {
    let keys = pubkeys.iter().map(|p| sign::read_public_key(p)).collect::<Result<Vec<_>, _>>().map_err(invalid)?;
    if let Some(signature) = signature {
        let good =
            sign::verify_with(report, signature, &keys).map_err(|e| if e.is_bad() { failed(e) } else { invalid(e) })?;
        println!("ok: `{}` matches its signature", report.display());
        println!("trusted comment: {}", good.comment);
        return Ok(exit::CLEAN);
    }
    let checked = chain::check(report, &keys).map_err(invalid)?;
    let [only] = checked.links.as_slice() else { return chain_outcome(&checked) };
    // One sign-off: say it as before, with the trusted comment.
    match &only.outcome {
        Outcome::Good { .. } if checked.holds() => {
            let good = sign::verify_with(&only.file, &sign::signature_path(&only.file), &keys).map_err(failed)?;
            println!("ok: `{}` matches its signature", only.file.display());
            println!("trusted comment: {}", good.comment);
            Ok(exit::CLEAN)
        }
        Outcome::Good { .. } => chain_outcome(&checked),
        Outcome::Missing | Outcome::Broken(_) => {
            let e = sign::verify_with(&only.file, &sign::signature_path(&only.file), &keys).err();
            Err(e.map_or_else(
                || failed("the sign-off does not hold"),
                |e| if e.is_bad() { failed(e) } else { invalid(e) },
            ))
        }
    }
}

/// One line per sign-off (whose, good / broken / missing), then the verdict.
fn chain_outcome(checked: &chain::Checked) -> Exit {
    for link in &checked.links {
        let who = link.operator.as_deref().map_or_else(|| "unnamed".to_owned(), |o| format!("`{o}`"));
        let file = link.file.display();
        match &link.outcome {
            Outcome::Good { key_id } => println!("sign-off {} by {who}: good (`{file}`, key {key_id})", link.seq),
            Outcome::Missing => println!("sign-off {} by {who}: missing signature (no `{file}.minisig`)", link.seq),
            Outcome::Broken(why) => println!("sign-off {} by {who}: BROKEN: {why}", link.seq),
        }
    }
    let good = checked.good();
    if checked.holds() {
        println!("ok: {good} of {} required sign-offs, every signature good", checked.required);
        return Ok(exit::CLEAN);
    }
    let bad = checked.links.iter().filter(|l| !matches!(l.outcome, Outcome::Good { .. })).count();
    if bad > 0 {
        eprintln!("error: {bad} sign-off(s) broken or missing");
    }
    if good < checked.required {
        eprintln!("error: awaiting countersign: {good} of {} required sign-offs verified", checked.required);
    }
    Ok(exit::FAILED)
}
