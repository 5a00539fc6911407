//! The Titan runbook's checklist cannot drift from the playbooks: every `□`
//! item of `playbooks/source/` (the seed runbook, copied verbatim) must be in
//! `playbooks/COVERAGE.md` under its heading, every step mapped there must
//! exist, and its `title` must be the item's text. Every playbook also takes
//! exactly the vars `playbooks/README.md` lists (the contract's table).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// `(heading, item text)` for every `□` line, under its nearest `##`/`###` heading.
fn checklist_items(runbook: &str) -> Vec<(String, String)> {
    let mut heading = String::new();
    let mut items = Vec::new();
    for line in runbook.lines() {
        if let Some(h) = line.strip_prefix("### ").or_else(|| line.strip_prefix("## ")) {
            heading = h.trim().to_owned();
        }
        if let Some((_, text)) = line.split_once('□') {
            items.push((heading.clone(), text.trim().to_owned()));
        }
    }
    items
}

/// `(section, item) → ["playbook:step-id", ...]` from the coverage table.
fn coverage_rows(coverage: &str) -> BTreeMap<(String, String), Vec<String>> {
    let mut rows = BTreeMap::new();
    for line in coverage.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| Section")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        assert!(cells.len() >= 3, "coverage row has too few cells: {line}");
        let steps = cells[2].split(',').map(|s| s.trim().trim_matches('`').to_owned()).collect();
        let key = (cells[0].to_owned(), cells[1].to_owned());
        assert!(rows.insert(key, steps).is_none(), "duplicate coverage row: {line}");
    }
    rows
}

/// Every playbook in `playbooks/`, parsed, by file stem.
fn playbooks() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(repo().join("playbooks")).expect("playbooks/") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let value: Value =
                serde_saphyr::from_str(&read(&path)).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()));
            out.insert(stem, value);
        }
    }
    out
}

/// `"playbook:step-id" → title`.
fn step_titles(books: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    let mut titles = BTreeMap::new();
    for (stem, book) in books {
        for section in book["sections"].as_array().expect("sections") {
            for step in section["steps"].as_array().expect("steps") {
                let id = step["id"].as_str().expect("step id");
                titles.insert(format!("{stem}:{id}"), step["title"].as_str().expect("title").to_owned());
            }
        }
    }
    titles
}

#[test]
fn every_runbook_checklist_item_maps_to_a_step_with_its_text_as_title() {
    let items = checklist_items(&read(&repo().join("playbooks/source/titan-daily-operations-runbook.md")));
    assert_eq!(items.len(), 95, "the seed runbook has 95 checklist items");
    let rows = coverage_rows(&read(&repo().join("playbooks/COVERAGE.md")));
    let titles = step_titles(&playbooks());
    let mut problems = Vec::new();
    for (heading, text) in &items {
        let Some(steps) = rows.get(&(heading.clone(), text.clone())) else {
            problems.push(format!("not in COVERAGE.md: [{heading}] {text}"));
            continue;
        };
        for step in steps {
            match titles.get(step) {
                None => problems.push(format!("COVERAGE.md maps [{heading}] {text} to `{step}`, which does not exist")),
                Some(title) if title != text => {
                    problems.push(format!("`{step}` is titled {title:?}, but the runbook item is {text:?}"))
                }
                Some(_) => {}
            }
        }
    }
    let known: BTreeSet<(String, String)> = items.iter().cloned().collect();
    for key in rows.keys().filter(|k| !known.contains(*k)) {
        problems.push(format!("COVERAGE.md row matches no runbook item: [{}] {}", key.0, key.1));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_playbook_takes_exactly_the_contract_vars() {
    let readme = read(&repo().join("playbooks/README.md"));
    let mut expected = serde_json::Map::new();
    // The first table whose header starts `| var |`, row by row.
    let table = readme.lines().skip_while(|l| !l.starts_with("| var |")).skip(2).take_while(|l| l.starts_with('|'));
    for line in table {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let (name, default) = (cells[0].trim_matches('`'), cells[1].trim_matches('`'));
        let value = match default {
            "true" | "false" => Value::Bool(default == "true"),
            _ => Value::String(default.to_owned()),
        };
        expected.insert(name.to_owned(), value);
    }
    assert_eq!(expected.len(), 13, "README's vars table lists the 13 contract vars");
    let books = playbooks();
    assert_eq!(books.len(), 11, "one playbook per procedure: {:?}", books.keys().collect::<Vec<_>>());
    for (stem, book) in &books {
        assert_eq!(book["vars"], Value::Object(expected.clone()), "vars of {stem}.yaml");
        let source = read(&repo().join(format!("playbooks/{stem}.yaml")));
        assert!(
            source.starts_with("# yaml-language-server: $schema=../schemas/playbook.schema.json\n"),
            "{stem}.yaml must start with the schema header"
        );
    }
}
