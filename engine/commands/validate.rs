//! `runbook validate FILE...`: every problem in every file, then one summary line.
//!
//! `--format json` prints one document, a stable shape for CI and editors:
//! `{"files": <playbooks checked>, "invalid": <playbooks with problems>,
//! "problems": [{"file", "line", "column", "message"}]}`; `line` and `column`
//! are 1-based, and 0 when a problem has no place (an unreadable file).

use std::path::PathBuf;

use super::{env_overrides, exit, print_diagnostics};
use crate::cli::Format;
use crate::playbook::{self, Diagnostic};

pub fn validate(patterns: &[String], format: Format) -> u8 {
    let (files, mut problems) = expand(patterns);
    let mut sources = Vec::new();
    for file in &files {
        match playbook::load(file) {
            Err((diagnostic, source)) => sources.push((vec![diagnostic], source)),
            Ok(loaded) => {
                if let Err(found) = playbook::validate::plan(&loaded, &[], &env_overrides()) {
                    sources.push((found, Some(loaded.source)));
                }
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
    if count == 0 { exit::CLEAN } else { exit::INVALID }
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
