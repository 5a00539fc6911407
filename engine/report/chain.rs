//! A report's chain of sign-offs as files. The operator's report `day.html`
//! and its `day.html.minisig` stay as written; each countersign adds the
//! report rendered again with every sign-off so far, `day.signoff-2.html`,
//! and its own `day.signoff-2.html.minisig`. So every file keeps verifying
//! with the standard `minisign -Vm FILE -p KEY`. A countersign's trusted
//! comment carries `over:` the SHA-256 of the file before it and that file's
//! signature: it vouches for them, and a change to either breaks the link.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minisign::PublicKey;
use sha2::{Digest, Sha256};

use super::sign::{self, VerifyError};

/// Link `seq` (1 = the operator's report itself) of the chain that starts at `base`.
pub fn link_path(base: &Path, seq: u32) -> PathBuf {
    if seq <= 1 {
        return base.to_path_buf();
    }
    let stem = base.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match base.extension() {
        Some(ext) => format!("{stem}.signoff-{seq}.{}", ext.to_string_lossy()),
        None => format!("{stem}.signoff-{seq}"),
    };
    base.with_file_name(name)
}

/// The operator's report a link belongs to: `day.signoff-2.html` → `day.html`; any other file is its own.
pub fn base_of(file: &Path) -> PathBuf {
    let Some(stem) = file.file_stem().map(|s| s.to_string_lossy().into_owned()) else { return file.to_path_buf() };
    let Some((head, seq)) = stem.rsplit_once(".signoff-") else {
        // No extension: the whole name is the stem.
        return match file.file_name().and_then(|n| n.to_str()).and_then(|n| n.rsplit_once(".signoff-")) {
            Some((head, seq)) if seq.parse::<u32>().is_ok_and(|n| n > 1) => file.with_file_name(head),
            _ => file.to_path_buf(),
        };
    };
    if !seq.parse::<u32>().is_ok_and(|n| n > 1) {
        return file.to_path_buf();
    }
    let name = match file.extension() {
        Some(ext) => format!("{head}.{}", ext.to_string_lossy()),
        None => head.to_owned(),
    };
    file.with_file_name(name)
}

/// The links that exist, in order: the base, then `signoff-2`, `signoff-3`, … while they exist.
pub fn links(base: &Path) -> Vec<PathBuf> {
    let mut found = vec![base.to_path_buf()];
    for seq in 2..=crate::record::signoff::MAX_REQUIRED.max(2) * 4 {
        let path = link_path(base, seq);
        if !path.exists() {
            break;
        }
        found.push(path);
    }
    found
}

/// SHA-256 (hex) of a link's file followed by its signature file (if any): what the next link vouches for.
pub fn link_hash(file: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(std::fs::read(file)?);
    match std::fs::read(sign::signature_path(file)) {
        Ok(signature) => hasher.update(signature),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    Ok(hex(&hasher.finalize()))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A trusted comment's `key:value` fields (tab-separated).
pub fn fields(comment: &str) -> BTreeMap<&str, &str> {
    comment.split('\t').filter_map(|f| f.split_once(':')).collect()
}

/// `N` of a `signoffs:K of N` field.
fn required_of(fields: &BTreeMap<&str, &str>) -> Option<u32> {
    fields.get("signoffs")?.split_once(" of ")?.1.trim().parse().ok()
}

/// How one link of the chain checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The file matches its signature, by a key given, and vouches for the link before.
    Good { key_id: String },
    /// No signature file.
    Missing,
    /// Why it does not hold: a changed file, a key nobody trusts, a broken link to the one before.
    Broken(String),
}

/// One link, checked.
#[derive(Debug, Clone)]
pub struct Link {
    pub seq: u32,
    pub file: PathBuf,
    /// Who signed it, as its signature says (read even when the signature is broken, to name them).
    pub operator: Option<String>,
    pub outcome: Outcome,
}

/// The whole chain, checked.
#[derive(Debug, Clone)]
pub struct Checked {
    pub links: Vec<Link>,
    /// Sign-offs required, from the good links' trusted comments (1 when none says).
    pub required: u32,
}

impl Checked {
    /// Good links signed by different people.
    pub fn good(&self) -> u32 {
        let mut people: Vec<String> = Vec::new();
        for link in self.links.iter().filter(|l| matches!(l.outcome, Outcome::Good { .. })) {
            let person = crate::record::signoff::person_key(link.operator.as_deref().unwrap_or_default());
            if !people.contains(&person) {
                people.push(person);
            }
        }
        u32::try_from(people.len()).unwrap_or(u32::MAX)
    }

    /// Every link good, and enough of them.
    pub fn holds(&self) -> bool {
        self.links.iter().all(|l| matches!(l.outcome, Outcome::Good { .. })) && self.good() >= self.required
    }
}

/// Checks every link of the chain `report` belongs to with `keys`. Only a report that cannot be
/// read is an error; everything else is an outcome.
pub fn check(report: &Path, keys: &[PublicKey]) -> Result<Checked, VerifyError> {
    let base = base_of(report);
    crate::input::open_regular(&base).map_err(|source| VerifyError::ReportUnreadable { path: base.clone(), source })?;
    let mut checked = Vec::new();
    let mut required = 1;
    let mut signers: Vec<(String, String)> = Vec::new();
    let mut previous: Option<PathBuf> = None;
    for (seq, file) in (1..).zip(links(&base)) {
        let signature = sign::signature_path(&file);
        let claimed = std::fs::read_to_string(&signature)
            .ok()
            .and_then(|text| minisign::SignatureBox::from_string(&text).ok())
            .and_then(|s| s.trusted_comment().ok())
            .and_then(|c| fields(&c).get("operator").map(|o| (*o).to_owned()));
        let outcome = match sign::verify_with(&file, &signature, keys) {
            Err(VerifyError::SignatureUnreadable { .. }) => Outcome::Missing,
            Err(e) => Outcome::Broken(e.to_string()),
            Ok(good) => {
                let fields = fields(&good.comment);
                let operator = fields.get("operator").copied().unwrap_or("-");
                let vouches = match &previous {
                    None => Ok(()),
                    Some(before) => vouches_for(&fields, before),
                };
                let twice = signers
                    .iter()
                    .find(|(name, id)| crate::record::signoff::same_person(name, operator) || *id == good.key_id);
                match (vouches, twice) {
                    (Err(why), _) => Outcome::Broken(why),
                    (Ok(()), Some((name, _))) => {
                        Outcome::Broken(format!("signed by the same person or key as `{name}`'s sign-off"))
                    }
                    (Ok(()), None) => {
                        signers.push((operator.to_owned(), good.key_id.clone()));
                        required = required.max(required_of(&fields).unwrap_or(1));
                        Outcome::Good { key_id: good.key_id }
                    }
                }
            }
        };
        checked.push(Link { seq, file: file.clone(), operator: claimed, outcome });
        previous = Some(file);
    }
    Ok(Checked { links: checked, required })
}

/// Whether a countersign's `over:` is the hash of the link before it.
fn vouches_for(fields: &BTreeMap<&str, &str>, before: &Path) -> Result<(), String> {
    let over = fields.get("over").ok_or("its signature names no earlier sign-off (`over:`)")?;
    let actual = link_hash(before).map_err(|e| format!("cannot read `{}`: {e}", before.display()))?;
    if *over == actual {
        Ok(())
    } else {
        Err(format!(
            "it vouches for another `{}` or signature than the one here (changed after it was countersigned)",
            before.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_named_after_the_report_and_lead_back_to_it() {
        let base = Path::new("out/day.html");
        assert_eq!(link_path(base, 1), base);
        assert_eq!(link_path(base, 2), Path::new("out/day.signoff-2.html"));
        assert_eq!(base_of(Path::new("out/day.signoff-2.html")), base);
        assert_eq!(base_of(base), base);
        assert_eq!(base_of(Path::new("day.signoff-x.html")), Path::new("day.signoff-x.html"));
        assert_eq!(link_path(Path::new("report"), 3), Path::new("report.signoff-3"));
        assert_eq!(base_of(Path::new("report.signoff-3")), Path::new("report"));
        assert_eq!(base_of(Path::new("report.tar.signoff-3.gz")), Path::new("report.tar.gz"));
    }

    #[test]
    fn trusted_comment_fields_are_read() {
        let f = fields("timestamp:1\toperator:bob\tsignoffs:2 of 3\tover:ab");
        assert_eq!(f.get("operator"), Some(&"bob"));
        assert_eq!(required_of(&f), Some(3));
    }
}
