//! `runbook validate FILE...`: every problem in every file, then one summary line.
//!
//! `--format json` prints one document, a stable shape for CI and editors:
//! `{"files": <playbooks checked>, "invalid": <playbooks with problems>,
//! "problems": [{"file", "line", "column", "message"}]}`; `line` and `column`
//! are 1-based, and 0 when a problem has no place (an unreadable file).
//!
//! Answers and waivers files often sit beside the playbooks they serve: a file
//! that is not a playbook but has one of their shapes is skipped with a note
//! (and not counted), so `validate DIR` checks a whole repository.

use std::path::PathBuf;

use super::error::Outcome;
use super::{env_overrides, exit, print_diagnostics};
use crate::cli::Format;
use crate::playbook::{self, Diagnostic};

pub fn validate(patterns: &[String], format: Format) -> Outcome {
    let (found, mut problems) = expand(patterns);
    let mut files = Vec::with_capacity(found.len());
    let mut sources: Vec<(Vec<Diagnostic>, Option<String>)> = Vec::new();
    for (file, checked) in found.iter().zip(check_all(&found)) {
        match checked {
            Checked::Companion(what) => eprintln!("note: skipped `{}`: {what}, not a playbook", file.display()),
            Checked::Valid => files.push(file),
            Checked::Invalid(found, source) => {
                files.push(file);
                sources.push((found, source));
            }
        }
    }
    let count: usize = problems.len() + sources.iter().map(|(p, _)| p.len()).sum::<usize>();
    match format {
        Format::Json => {
            for (found, _) in &sources {
                problems.extend(found.iter().cloned());
            }
            let invalid = sources.len();
            let doc = serde_json::json!({ "files": files.len(), "invalid": invalid, "problems": problems });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Text => {
            print_diagnostics(&problems, None);
            for (found, source) in &sources {
                print_diagnostics(found, source.as_deref());
            }
            let files_word = if files.len() == 1 { "playbook" } else { "playbooks" };
            if count == 0 {
                println!("{} {files_word} valid", files.len());
            } else {
                let bad = sources.len();
                eprintln!("{count} problem(s) in {bad} of {} {files_word}", files.len());
            }
        }
    }
    Ok(if count == 0 { exit::CLEAN } else { exit::INVALID })
}

/// What checking one file found.
enum Checked {
    Valid,
    /// Its problems, and its text for the snippets.
    Invalid(Vec<Diagnostic>, Option<String>),
    /// Not a playbook but a file that serves one (`an answers file`).
    Companion(&'static str),
}

/// The problems of each file (in file order), checked on every core: files
/// are independent, and CI validates whole folders.
fn check_all(files: &[PathBuf]) -> Vec<Checked> {
    let env = env_overrides();
    let check = |file: &PathBuf| match playbook::load(file) {
        Err(playbook::error::LoadError { diagnostic, source }) => {
            match source.as_deref().and_then(|text| companion(file, text)) {
                Some(what) => Checked::Companion(what),
                None => match &source {
                    Some(text) => Checked::Invalid(every_problem(file, text, diagnostic, &env), source),
                    None => Checked::Invalid(vec![diagnostic], source),
                },
            }
        }
        Ok(loaded) => match playbook::validate::plan(&loaded, &[], &env) {
            Ok(_) => Checked::Valid,
            Err(found) => Checked::Invalid(found, Some(loaded.source)),
        },
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(files.len()).max(1);
    let chunk = files.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                // The parsers recurse; give workers the main thread's stack size.
                let worker = std::thread::Builder::new().stack_size(8 << 20);
                worker.spawn_scoped(scope, move || part.iter().map(check).collect::<Vec<_>>())
            })
            .collect();
        let mut results = Vec::with_capacity(files.len());
        for worker in workers {
            match worker {
                Ok(handle) => results.extend(handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))),
                Err(e) => results.push(Checked::Invalid(
                    vec![Diagnostic::new("runbook", 0, 0, format!("cannot start a worker: {e}"))],
                    None,
                )),
            }
        }
        results
    })
}

/// Files from paths, folders (their `*.yaml` and `*.yml`, recursively) and glob patterns.
fn expand(patterns: &[String]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for pattern in patterns {
        let path = PathBuf::from(pattern);
        if path.is_dir() {
            collect_dir(&path, &mut files);
        } else if path.exists() {
            files.push(path);
        } else {
            match glob::glob(pattern) {
                Ok(paths) => {
                    let before = files.len();
                    for p in paths.flatten() {
                        if p.is_dir() { collect_dir(&p, &mut files) } else { files.push(p) }
                    }
                    if files.len() == before {
                        problems.push(Diagnostic::new(pattern, 0, 0, "no such file"));
                    }
                }
                Err(e) => problems.push(Diagnostic::new(pattern, 0, 0, format!("bad pattern: {e}"))),
            }
        }
    }
    (files, problems)
}

fn collect_dir(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_dir(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

/// Every problem of a playbook that does not load: the reader's, step by
/// step, then the checks of what loads without the steps at fault.
pub fn every_problem(
    file: &std::path::Path,
    text: &str,
    first: Diagnostic,
    env: &[(String, String)],
) -> Vec<Diagnostic> {
    let (mut found, rest) = playbook::load_all::problems(file, text, first);
    if let Some(Err(more)) = rest.map(|loaded| playbook::validate::plan(&loaded, &[], env)) {
        found.extend(more);
    }
    found.sort_by_key(|d| (d.line, d.column));
    found
}

/// Which companion file `text` is, judged by its shape (only asked of a file
/// that did not load as a playbook): a map whose one key is `waivers`, or a
/// map of step ids to manual verdicts. A broken one still counts when its
/// name says what it is and it has no `sections`, as a playbook would.
fn companion(path: &std::path::Path, text: &str) -> Option<&'static str> {
    let doc: serde_json::Value = serde_saphyr::from_str(text).ok()?;
    let map = doc.as_object()?;
    if map.len() == 1 && map.contains_key("waivers") {
        return Some("a waivers file");
    }
    if crate::report::answers::parse(text).is_ok_and(|answers| !answers.is_empty()) {
        return Some("an answers file");
    }
    let name = path.file_name()?.to_string_lossy().to_lowercase();
    let named = |word| name.contains(word) && !map.contains_key("sections");
    if named("waivers") {
        Some("a waivers file")
    } else if named("answers") {
        Some("an answers file")
    } else {
        None
    }
}
