//! The shape of the library, checked from its source: the stages import one
//! way (no circle between engine's top-level modules), nothing that runs or
//! keeps a run reads the renderers, and no function grows past 80 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `engine/`, with its text.
fn sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).expect("engine/ is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                out.push((path, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("engine"), &mut out);
    assert!(out.len() > 50, "engine/ holds the library's sources");
    out
}

/// The top-level module a file belongs to (`runner` for `engine/runner/step.rs`).
fn module_of(path: &Path) -> String {
    let engine = Path::new(env!("CARGO_MANIFEST_DIR")).join("engine");
    let relative = path.strip_prefix(&engine).expect("under engine/");
    let first = relative.components().next().expect("a component").as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The top-level modules a file names as `crate::name`, also inside `use crate::{a, b::c}`.
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let word = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find(';').unwrap_or(group.len())];
            for part in split_top(group) {
                let name = word(part.trim());
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        } else {
            let name = word(rest);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// `a, b::{c, d}, e` split on the commas outside braces.
fn split_top(group: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut from) = (Vec::new(), 0, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                parts.push(&group[from..i]);
                return parts;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&group[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&group[from..]);
    parts
}

/// Edges between top-level modules: who imports whom, and from which files.
fn graph() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let mut edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (path, text) in sources() {
        let from = module_of(&path);
        if from == "lib" || from == "main" {
            continue;
        }
        for to in imports(&text) {
            if to != from {
                let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                edges.entry(from.clone()).or_default().entry(to).or_default().insert(file);
            }
        }
    }
    edges
}

/// A path from `to` back to `from`, if the graph has one.
fn path_back(
    edges: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    from: &str,
    to: &str,
) -> Option<Vec<String>> {
    let mut stack = vec![vec![to.to_owned()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().expect("a node").clone();
        if last == from {
            return Some(path);
        }
        if !seen.insert(last.clone()) {
            continue;
        }
        for next in edges.get(&last).into_iter().flat_map(BTreeMap::keys) {
            let mut longer = path.clone();
            longer.push(next.clone());
            stack.push(longer);
        }
    }
    None
}

#[test]
fn engine_modules_import_one_way() {
    let edges = graph();
    let mut circles = Vec::new();
    for (from, targets) in &edges {
        for (to, files) in targets {
            if let Some(back) = path_back(&edges, from, to) {
                circles.push(format!("{from} -> {} (from {files:?})", back.join(" -> ")));
            }
        }
    }
    assert!(circles.is_empty(), "import circles between engine's modules:\n{}", circles.join("\n"));
}

#[test]
fn what_runs_or_keeps_a_run_does_not_read_the_renderers() {
    let edges = graph();
    for module in ["record", "runner", "history", "notify", "monitor", "session", "probe", "expr", "playbook"] {
        let into_report = edges.get(module).and_then(|t| t.get("report"));
        assert!(into_report.is_none(), "{module}/ imports report/ in {into_report:?}");
    }
}

#[test]
fn the_checker_sees_a_circle_and_a_forbidden_import() {
    // The checks above must be able to fail: the same code on a made-up graph.
    let mut edges: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    edges.entry("a".into()).or_default().entry("b".into()).or_default().insert("a.rs".into());
    edges.entry("b".into()).or_default().entry("a".into()).or_default().insert("b.rs".into());
    assert_eq!(path_back(&edges, "a", "b"), Some(vec!["b".to_owned(), "a".to_owned()]));
    assert_eq!(
        imports("use crate::{x::Y, z, w::{p, q}};\nlet v = crate::r::s();"),
        ["r", "w", "x", "z"].map(String::from).into()
    );
}

/// Functions longer than `limit` lines: from `fn` to the closing brace at the same indent.
fn long_functions(path: &Path, text: &str, limit: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut long = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let body = ["pub ", "pub(crate) ", "pub(super) ", "async ", "const ", "unsafe "]
            .iter()
            .fold(trimmed, |rest, prefix| rest.strip_prefix(prefix).unwrap_or(rest));
        let body = body.strip_prefix("async ").unwrap_or(body);
        if !body.starts_with("fn ") || line.trim_end().ends_with(';') {
            continue;
        }
        let close = format!("{indent}}}");
        if let Some(end) = lines[i + 1..].iter().position(|l| *l == close) {
            let length = end + 2;
            if length > limit {
                long.push(format!("{}:{} is {length} lines", path.display(), i + 1));
            }
        }
    }
    long
}

#[test]
fn no_function_in_the_engine_is_over_80_lines() {
    let long: Vec<String> = sources().iter().flat_map(|(path, text)| long_functions(path, text, 80)).collect();
    assert!(long.is_empty(), "functions over 80 lines:\n{}", long.join("\n"));
    let made_up = format!("fn f() {{\n{}}}\n", "    x();\n".repeat(80));
    assert_eq!(long_functions(Path::new("f.rs"), &made_up, 80).len(), 1, "the measure sees a long one");
}
