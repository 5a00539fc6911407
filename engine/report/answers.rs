//! Answers to `manual` steps: from `--answers FILE` (YAML, step id → a
//! verdict, or `{verdict, comment}`) or from the terminal prompt. Applying
//! them turns `pending` steps into `pass`, `fail` or `skipped`; a step that
//! stays unanswered stays `pending` and keeps the sign-off from being clean.
//! An item that attests failed evidence fails, whatever the answer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::input::ReadError;
use crate::record::{AnswerSource, ManualAnswer, RunRecord, Verdict, Waiver, attest, waiver};
use crate::secrets::Redactor;
use crate::suggest::did_you_mean;

/// The largest answers file read.
const MAX_ANSWERS_BYTES: u64 = 1024 * 1024;

/// A word that is not a manual verdict (the terminal prompt shows it and asks again).
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a manual verdict; use `pass`, `fail` or `skip`")]
pub struct NotAVerdict(pub String);

/// Why an answers file was refused.
#[derive(Debug, thiserror::Error)]
pub enum AnswersError {
    #[error("cannot read `{}`: {source}", .path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: ReadError,
    },
    /// A problem in the file's text, named by the file.
    #[error("{}: {source}", .path.display())]
    InFile {
        path: PathBuf,
        #[source]
        source: Box<AnswersError>,
    },
    /// Not YAML of the expected shape; `why` is the parser's message, made plain.
    #[error("not an answers file (step id: pass|fail|skip, or step id: {{verdict, comment}}): {why}")]
    NotAnswers { why: String },
    #[error("step `{id}`: {source}")]
    Verdict {
        id: String,
        #[source]
        source: NotAVerdict,
    },
    #[error("step `{id}` is a `{kind}` step, not a `manual` one")]
    NotManual { id: String, kind: String },
    #[error("no step `{id}` in this run{}", .suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    NoSuchStep { id: String, suggestion: Option<String> },
}

/// One answer before it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub verdict: Verdict,
    pub comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    Verdict(String),
    Full(FullEntry),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FullEntry {
    verdict: String,
    #[serde(default)]
    comment: Option<String>,
}

/// `pass`, `fail` or `skip` (also `skipped`), any case.
pub fn parse_verdict(text: &str) -> Result<Verdict, NotAVerdict> {
    match text.trim().to_ascii_lowercase().as_str() {
        "pass" | "p" => Ok(Verdict::Pass),
        "fail" | "f" => Ok(Verdict::Fail),
        "skip" | "skipped" | "s" => Ok(Verdict::Skipped),
        other => Err(NotAVerdict(other.to_owned())),
    }
}

/// Reads an answers file.
pub fn read(path: &Path) -> Result<BTreeMap<String, Answer>, AnswersError> {
    let text = crate::input::read_to_string(path, MAX_ANSWERS_BYTES)
        .map_err(|source| AnswersError::Unreadable { path: path.to_owned(), source })?;
    parse(&text).map_err(|e| AnswersError::InFile { path: path.to_owned(), source: Box::new(e) })
}

/// Parses answers-file text.
pub fn parse(text: &str) -> Result<BTreeMap<String, Answer>, AnswersError> {
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    let entries: BTreeMap<String, Entry> = serde_saphyr::from_str(text)
        .map_err(|e| AnswersError::NotAnswers { why: crate::playbook::budget::plain(e.without_snippet()) })?;
    entries
        .into_iter()
        .map(|(id, entry)| {
            let (verdict, comment) = match entry {
                Entry::Verdict(v) => (v, None),
                Entry::Full(FullEntry { verdict, comment }) => (verdict, comment),
            };
            let verdict = parse_verdict(&verdict).map_err(|source| AnswersError::Verdict { id: id.clone(), source })?;
            let comment = comment.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
            Ok((id, Answer { verdict, comment }))
        })
        .collect()
}

/// Checks that every answered id is a manual step; `steps` are (id, probe kind) pairs.
pub fn check<'a>(steps: &[(&'a str, &'a str)], answers: &BTreeMap<String, Answer>) -> Result<(), AnswersError> {
    for id in answers.keys() {
        match steps.iter().find(|(step, _)| step == id) {
            Some((_, "manual")) => {}
            Some((_, kind)) => return Err(AnswersError::NotManual { id: id.clone(), kind: (*kind).to_owned() }),
            None => {
                let manual = steps.iter().filter(|(_, kind)| *kind == "manual").map(|(id, _)| *id);
                let suggestion = did_you_mean(id, manual).map(str::to_owned);
                return Err(AnswersError::NoSuchStep { id: id.clone(), suggestion });
            }
        }
    }
    Ok(())
}

/// Applies answers to the pending manual steps they name; comments are redacted. A `fail`
/// answer is waived as an observed failure would be. An item whose attested evidence failed
/// fails whatever it was answered: the evidence verdict wins. Returns one note for each
/// answer that was not taken for that reason.
pub fn apply(
    record: &mut RunRecord,
    answers: &BTreeMap<String, Answer>,
    source: AnswerSource,
    redactor: &Redactor,
    waivers: &[Waiver],
) -> Vec<String> {
    let today = chrono::Local::now().date_naive();
    for step in &mut record.steps {
        if step.verdict != Verdict::Pending {
            continue;
        }
        if let Some(answer) = answers.get(&step.id) {
            step.verdict = answer.verdict;
            step.answer = Some(ManualAnswer {
                verdict: answer.verdict,
                comment: answer.comment.as_deref().map(|c| redactor.redact(c)),
                source,
            });
            *step = waiver::judge(step.clone(), waivers, today);
        }
    }
    attest::enforce(record);
    let notes = overruled(record, answers, source);
    record.recount();
    notes
}

/// The answers (other than `fail`) given to items that failed on their evidence; each
/// such item's message says its answer was not taken.
fn overruled(record: &mut RunRecord, answers: &BTreeMap<String, Answer>, source: AnswerSource) -> Vec<String> {
    let from = match source {
        AnswerSource::Prompt => "at the prompt",
        AnswerSource::AnswersFile => "in the answers file",
    };
    let mut notes = Vec::new();
    for i in 0..record.steps.len() {
        let Some(answer) = answers.get(&record.steps[i].id).filter(|a| a.verdict != Verdict::Fail) else { continue };
        let Some(why) = attest::blocker(record, i) else { continue };
        let step = &mut record.steps[i];
        let note =
            format!("the answer `{}` given {from} was not taken: the evidence verdict wins", answer.verdict.name());
        step.message = format!("{why}; {note}");
        notes.push(format!("step `{}`: {note} ({why})", step.id));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_answers_are_read() {
        let answers = parse("news: pass\nlogs: {verdict: FAIL, comment: ' disk errors '}\nfeeds: skip\n").unwrap();
        assert_eq!(answers["news"], Answer { verdict: Verdict::Pass, comment: None });
        assert_eq!(answers["logs"], Answer { verdict: Verdict::Fail, comment: Some("disk errors".into()) });
        assert_eq!(answers["feeds"].verdict, Verdict::Skipped);
    }

    #[test]
    fn an_unknown_verdict_names_the_step() {
        let error = parse("news: maybe\n").unwrap_err().to_string();
        assert_eq!(error, "step `news`: `maybe` is not a manual verdict; use `pass`, `fail` or `skip`");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let error = parse("news: {verdict: pass, note: x}\n").unwrap_err().to_string();
        assert!(error.starts_with("not an answers file (step id: pass|fail|skip, or step id: {verdict, comment}): "));
    }
}
