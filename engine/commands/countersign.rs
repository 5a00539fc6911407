//! `runbook countersign REPORT --operator NAME [--sign KEY]`: a second (or
//! later) person's sign-off over a kept run. The stored record never changes:
//! the countersign goes into the history beside it, and the report is written
//! again with every sign-off as the next link of its chain (`REPORT.signoff-N.EXT`,
//! see `report::chain`), signed with `--sign`. Refused (exit 2): the same
//! person twice (name trimmed, case ignored), the same key twice, a run
//! nobody signed off yet, files that do not match the history.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::{CliError, Outcome, failed, invalid};
use super::{exit, reports};
use crate::cli::CountersignArgs;
use crate::history::{Store, StoredCountersign};
use crate::record::{Countersign, RunRecord, signoff};
use crate::report::{chain, format, render, sign};
use crate::session;

pub fn countersign(args: &CountersignArgs) -> Outcome {
    let operator = args.operator.trim();
    if operator.is_empty() {
        return Err(invalid("--operator: say who countersigns"));
    }
    let key = args.sign.as_deref().map(reports::secret_key).transpose()?;
    let key_id = key.as_ref().and_then(sign::secret_key_id);
    let base = chain::base_of(&args.report);
    if !base.is_file() {
        return Err(invalid(format!("no report `{}`", base.display())));
    }
    let run_id = match args.run_id.or_else(|| run_id_of(&base)) {
        Some(id) => id,
        None => {
            return Err(invalid(format!(
                "cannot tell which run `{}` belongs to (its signature and contents name none): give --run ID",
                base.display()
            )));
        }
    };
    let runtime = session::runtime()?;
    let store = runtime
        .block_on(session::open_to_read(args.store.history.as_deref()))
        .map_err(failed)?
        .ok_or_else(|| invalid("there is no history yet: countersign a run kept in it (`--history`)"))?;
    let (record, kept) = runtime.block_on(kept_run(&store, run_id))?;
    let seq = u32::try_from(kept.countersigns.len()).unwrap_or(u32::MAX) + 2;
    refuse_a_second_signature(&record, &kept, operator, key_id.as_deref())?;
    let previous = chain::link_path(&base, seq - 1);
    if !previous.is_file() {
        return Err(invalid(format!(
            "run {run_id} has {} sign-off(s) but `{}` is missing: countersign next to the files of the sign-offs before",
            seq - 1,
            previous.display()
        )));
    }
    let countersign = Countersign {
        seq,
        operator: operator.to_owned(),
        signed_utc: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        key_id: key_id.clone(),
        over_hash: over_hash(&kept),
    };
    let signature = key.as_ref().and_then(|k| {
        minisign::sign(None, k, crate::history::statement(run_id, &countersign).as_bytes(), None, None)
            .ok()
            .map(|s| s.into_string())
    });
    let mut shown = record;
    shown.run_id = Some(run_id);
    let mut all: Vec<Countersign> = kept.countersigns.iter().map(|c| c.countersign.clone()).collect();
    all.push(countersign.clone());
    signoff::countersigned(&mut shown, all);
    let link = chain::link_path(&base, seq);
    let signed = write_link(&shown, &link, &previous, key.as_ref())?;
    let stored = StoredCountersign { countersign, signature };
    if let Err(e) = runtime.block_on(store.add_countersign(run_id, &stored)) {
        // Nothing half-done: the files go when the history refuses the countersign.
        let _ = std::fs::remove_file(&link);
        let _ = std::fs::remove_file(sign::signature_path(&link));
        return Err(failed(format!("run {run_id} was not countersigned: {e}")));
    }
    let progress = shown.signoff.progress.clone().unwrap_or_default();
    match signed {
        Some(sig) => eprintln!("countersigned: {} (signed: {})", link.display(), sig.display()),
        None => eprintln!("countersigned: {} (not signed: no --sign key)", link.display()),
    }
    println!("run {run_id}: sign-off {seq} by {operator}; {progress}");
    Ok(exit::CLEAN)
}

/// A kept run's record as stored, its signature and its countersigns so far.
struct Kept {
    text: String,
    signature: Option<String>,
    countersigns: Vec<StoredCountersign>,
}

async fn kept_run(store: &Store, run_id: i64) -> Result<(RunRecord, Kept), CliError> {
    let mut found = store.signed_records(&[run_id]).await.map_err(failed)?;
    let Some(stored) = found.remove(&run_id) else {
        return Err(invalid(format!("no finished run {run_id} in the history")));
    };
    let record: RunRecord = serde_json::from_str(&stored.record)
        .map_err(|e| failed(format!("run {run_id}'s stored record cannot be read: {e}")))?;
    let countersigns = store.countersigns(&[run_id]).await.map_err(failed)?.remove(&run_id).unwrap_or_default();
    Ok((record, Kept { text: stored.record, signature: stored.signature, countersigns }))
}

/// Four eyes means two people and two keys: refuse anyone, or any key, that signed before.
fn refuse_a_second_signature(
    record: &RunRecord,
    kept: &Kept,
    operator: &str,
    key_id: Option<&str>,
) -> Result<(), CliError> {
    let Some(first) = record.signoff.operator.as_deref() else {
        return Err(invalid("nobody signed this run off yet: the operator signs with `runbook run --operator NAME`"));
    };
    let mut before = vec![(1, first.to_owned(), kept.signature.as_deref().and_then(sign::signature_key_id))];
    before.extend(
        kept.countersigns
            .iter()
            .map(|c| (c.countersign.seq, c.countersign.operator.clone(), c.countersign.key_id.clone())),
    );
    for (seq, name, id) in before {
        if signoff::same_person(&name, operator) {
            return Err(invalid(format!(
                "`{name}` already signed this run off (sign-off {seq}); someone else must countersign"
            )));
        }
        if key_id.is_some() && id.as_deref() == key_id {
            return Err(invalid(format!(
                "key {} already signed this run off (sign-off {seq}, `{name}`); countersign with your own key",
                id.unwrap_or_default()
            )));
        }
    }
    Ok(())
}

/// SHA-256 of the record as stored and the signature before this sign-off (none: nothing).
fn over_hash(kept: &Kept) -> String {
    let before = match kept.countersigns.last() {
        Some(last) => last.signature.as_deref(),
        None => kept.signature.as_deref(),
    };
    let mut hasher = Sha256::new();
    hasher.update(kept.text.as_bytes());
    hasher.update(before.unwrap_or_default().as_bytes());
    chain::hex(&hasher.finalize())
}

/// Writes the report again with every sign-off as `link`, and signs it (vouching for `previous`).
fn write_link(
    record: &RunRecord,
    link: &Path,
    previous: &Path,
    key: Option<&minisign::SecretKey>,
) -> Result<Option<PathBuf>, CliError> {
    let text = render::render(record, format::for_path(link), None).map_err(failed)?;
    let over = chain::link_hash(previous).map_err(|e| failed(format!("cannot read `{}`: {e}", previous.display())))?;
    crate::atomic_file::write(link, text).map_err(|e| failed(format!("cannot write `{}`: {e}", link.display())))?;
    let Some(key) = key else { return Ok(None) };
    let last = record.signoff.countersigns.last();
    let comment = format!(
        "timestamp:{}\tfile:{}\tplaybook:{}\trun:{}\toperator:{}\tverdict:{}\tsignoffs:{} of {}\tover:{over}",
        chrono::Utc::now().timestamp(),
        link.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        record.playbook,
        record.run_id.map_or_else(|| "-".to_owned(), |id| id.to_string()),
        last.map_or("-", |c| c.operator.as_str()),
        record.verdict.name(),
        signoff::signers(&record.signoff),
        record.signoff.required.max(1),
    );
    sign::sign(link, key, &comment).map(Some).map_err(failed)
}

/// The run a report names: the `run:` of its chain's newest signature, else a JSON report's `run_id`.
fn run_id_of(base: &Path) -> Option<i64> {
    let from_signature = chain::links(base).iter().rev().find_map(|link| {
        let text = std::fs::read_to_string(sign::signature_path(link)).ok()?;
        let comment = minisign::SignatureBox::from_string(&text).ok()?.trusted_comment().ok()?;
        chain::fields(&comment).get("run")?.parse().ok()
    });
    from_signature.or_else(|| {
        let text = crate::input::read_to_string(base, crate::input::SMALL_FILE_BYTES * 64).ok()?;
        serde_json::from_str::<RunRecord>(&text).ok()?.run_id
    })
}
