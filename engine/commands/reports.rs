//! The report side of `runbook run`: before the run, everything that can be
//! wrong with the report options is checked (answers file, template, signing
//! key) so a long run never ends in a usage error; after it, manual answers
//! and the operator's sign-off go into the record, then the report file, its
//! signature, the JUnit file and the journal line are written.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::{CliError, failed, invalid};
use super::prompt;
use crate::cli::{ReportArgs, ReportFileArgs};
use crate::playbook::Plan;
use crate::record::{AnswerSource, RunRecord, signoff};
use crate::report::answers::{self, Answer};
use crate::report::format::{self, ReportFormat, Shape};
use crate::report::{journal, render, sign};
use crate::secrets::Redactor;

/// Test-only: pins every time in the record to this RFC 3339 instant, zeroes
/// durations and names the host `test-host`, so golden reports compare.
const FIXED_CLOCK_ENV: &str = "RUNBOOK_FIXED_CLOCK";

/// The report options, checked.
pub struct Prepared {
    answers: BTreeMap<String, Answer>,
    report: Option<(PathBuf, &'static ReportFormat, Option<String>)>,
    key: Option<minisign::SecretKey>,
    /// The plan's waivers (playbook and `--waivers`): a manual `fail` answer is waived too.
    waivers: Vec<crate::record::Waiver>,
}

impl Prepared {
    /// Signs the record the history keeps with the `--sign` key, if one was given.
    pub fn record_signer(&self) -> Option<crate::session::RecordSigner> {
        let key = std::sync::Arc::new(self.key.clone()?);
        Some(crate::session::RecordSigner(std::sync::Arc::new(move |text: &[u8]| {
            minisign::sign(None, &key, text, Some("runbook run record"), None).ok().map(|s| s.into_string())
        })))
    }
}

/// Checks the options against the plan before anything runs.
pub fn prepare(plan: &Plan, args: &ReportArgs) -> Result<Prepared, CliError> {
    let answers = match &args.answers {
        Some(path) => {
            let answers = answers::read(path).map_err(|e| invalid(format!("--answers: {e}")))?;
            let steps: Vec<(&str, &str)> = plan.steps.iter().map(|s| (s.id.as_str(), s.probe.kind())).collect();
            answers::check(&steps, &answers).map_err(|e| invalid(format!("--answers {}: {e}", path.display())))?;
            answers
        }
        None => BTreeMap::new(),
    };
    let report = match report_file(&args.file)? {
        Some((path, format)) => {
            let template = match (&args.file.template, &plan.report_template) {
                (Some(path), _) => Some(read_template(path, "--template", format)?),
                (None, Some(path)) if matches!(format.shape, Shape::Template { .. }) => {
                    Some(read_template(path, "the playbook's report.template", format)?)
                }
                _ => None,
            };
            Some((path, format, template))
        }
        None => None,
    };
    let key = args.sign.as_deref().map(secret_key).transpose()?;
    Ok(Prepared { answers, report, key, waivers: plan.waivers.clone() })
}

/// The `--sign` key, opened with `RUNBOOK_SIGN_PASSWORD` when it is encrypted.
pub fn secret_key(path: &std::path::Path) -> Result<minisign::SecretKey, CliError> {
    let password = std::env::var(sign::PASSWORD_ENV).ok().filter(|p| !p.is_empty());
    sign::read_secret_key(path, password).map_err(|e| invalid(format!("--sign: {e}")))
}

/// `--report` and the format it is written in (`--report-format`, else its extension), if asked for.
pub fn report_file(args: &ReportFileArgs) -> Result<Option<(PathBuf, &'static ReportFormat)>, CliError> {
    let Some(path) = &args.report else { return Ok(None) };
    let format = match &args.report_format {
        Some(name) => format::by_name(name).map_err(|e| invalid(format!("--report-format: {e}")))?,
        None => format::for_path(path),
    };
    Ok(Some((path.clone(), format)))
}

/// A report template, read and compiled; `flag` says where it was named.
pub fn read_template(path: &std::path::Path, flag: &str, format: &ReportFormat) -> Result<String, CliError> {
    let source = crate::playbook::load::read_companion(path).map_err(|e| invalid(format!("{flag}: {e}")))?;
    render::check_template(&source, format).map_err(|e| invalid(format!("{flag} `{}`: {e}", path.display())))?;
    Ok(source)
}

/// Manual answers (file, then the terminal) and the operator's sign-off.
pub fn sign_off(
    record: &mut RunRecord,
    prepared: &Prepared,
    args: &ReportArgs,
    operator: Option<&str>,
    redactor: &Redactor,
) {
    let mut notes = answers::apply(record, &prepared.answers, AnswerSource::AnswersFile, redactor, &prepared.waivers);
    let interactive = prompt::interactive();
    if interactive {
        let asked = prompt::ask_manual(record);
        notes.extend(answers::apply(record, &asked, AnswerSource::Prompt, redactor, &prepared.waivers));
    }
    for note in notes {
        eprintln!("note: {note}");
    }
    let wants_signer = args.file.report.is_some() || args.junit.is_some() || args.journal.is_some();
    let operator = operator
        .filter(|o| !o.trim().is_empty())
        .map(str::to_owned)
        .or_else(|| (interactive && wants_signer).then(prompt::ask_operator).flatten());
    match operator {
        Some(name) => {
            signoff::sign(record, &redactor.redact(name.trim()), chrono::Utc::now());
            record.signoff.key_id = prepared.key.as_ref().and_then(sign::secret_key_id);
        }
        None => signoff::assess(record),
    }
    pin_clock(record);
}

/// Writes the report (and its signature), the JUnit file and the journal line.
pub fn write(record: &RunRecord, prepared: &Prepared, args: &ReportArgs) -> Result<(), CliError> {
    if let Some((path, format, template)) = &prepared.report {
        let text = render::render(record, format, template.as_deref()).map_err(failed)?;
        crate::atomic_file::write(path, text)
            .map_err(|e| failed(format!("cannot write the report `{}`: {e}", path.display())))?;
        match &prepared.key {
            Some(key) => {
                let signature = sign::sign(path, key, &trusted_comment(record, path)).map_err(failed)?;
                eprintln!("report: {} (signed: {})", path.display(), signature.display());
            }
            None => eprintln!("report: {}", path.display()),
        }
    }
    if let Some(path) = &args.junit {
        let junit = format::by_name("junit").map_err(failed)?;
        let xml = render::render(record, junit, None).map_err(failed)?;
        crate::atomic_file::write(path, xml)
            .map_err(|e| failed(format!("cannot write the JUnit file `{}`: {e}", path.display())))?;
    }
    if let Some(path) = &args.journal {
        journal::append(path, record).map_err(failed)?;
    }
    Ok(())
}

/// What the signature vouches for besides the bytes: tab-separated `key:value`.
fn trusted_comment(record: &RunRecord, path: &std::path::Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let signed = record.signoff.signed_utc.clone().unwrap_or_else(|| record.finished.clone());
    let run = record.run_id.map(|id| format!("\trun:{id}")).unwrap_or_default();
    format!(
        "timestamp:{}\tfile:{name}\tplaybook:{}\toperator:{}\tverdict:{}\tsignoff:{}{run}\tsignoffs:{} of {}",
        chrono::DateTime::parse_from_rfc3339(&signed).map(|t| t.timestamp()).unwrap_or(0),
        record.playbook,
        record.signoff.operator.as_deref().unwrap_or("-"),
        record.verdict.name(),
        if record.signoff.clean { "clean" } else { "not-clean" },
        signoff::signers(&record.signoff),
        record.signoff.required.max(1),
    )
}

fn pin_clock(record: &mut RunRecord) {
    let Some(fixed) = std::env::var(FIXED_CLOCK_ENV).ok().filter(|v| !v.is_empty()) else { return };
    let Ok(at) = chrono::DateTime::parse_from_rfc3339(&fixed) else { return };
    let at = at.with_timezone(&chrono::Utc);
    let text = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    record.started.clone_from(&text);
    record.finished = text;
    record.duration_ms = 0;
    record.host = "test-host".to_owned();
    for step in &mut record.steps {
        step.duration_ms = 0;
    }
    if let Some(operator) = record.signoff.operator.clone() {
        signoff::sign(record, &operator, at);
    }
}
