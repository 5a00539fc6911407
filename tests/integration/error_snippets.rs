//! Whole rendered errors, byte for byte: `file:line:column: message`, the
//! source line and the caret, for every file of the malformed corpus and for
//! YAML past the reader's limits (too deep, too many aliases) in a playbook,
//! an answers file and a `--notify` file. The other tests look for fragments;
//! these pin the full text, so moving a caret or rewording a message shows.

use std::path::Path;

use crate::util::{Runbook, TestDir};

/// Compares `actual` with `tests/integration/golden/<name>`; `RUNBOOK_BLESS=1`
/// rewrites it. The one place this module compares golden files, to be pointed
/// at the shared helper once there is one in `util.rs`.
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/golden").join(name);
    if std::env::var_os("RUNBOOK_BLESS").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let line = expected.lines().zip(actual.lines()).position(|(a, b)| a != b).map_or(0, |i| i + 1);
        panic!(
            "{name} differs from the golden file (first at line {line}); if the change is intended, run \
             `RUNBOOK_BLESS=1 cargo test --test integration error_snippets` and review the diff.\n--- actual ---\n{actual}"
        );
    }
}

/// One command's exit code and stderr, under a heading, for a golden file.
fn section(out: &mut String, heading: &str, code: i32, stderr: &str) {
    out.push_str(&format!("==== {heading} (exit {code})\n{stderr}"));
    if !stderr.ends_with('\n') {
        out.push('\n');
    }
}

#[test]
fn every_malformed_playbook_renders_its_whole_error_as_before() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(repo.join("tests/malformed"))
        .expect("tests/malformed")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    files.sort();
    let mut all = String::new();
    for name in files {
        let relative = format!("tests/malformed/{name}");
        let out = Runbook::new(repo).args(["validate", &relative]).run();
        section(&mut all, &relative, out.code, &out.stderr);
    }
    golden("errors-malformed.txt", &all);
}

const QUICK: &str =
    "name: q\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: a\n        shell: { run: \"true\" }\n";

/// A step whose `http.json` (which takes any YAML) holds `value`.
fn with_json(value: &str) -> String {
    format!(
        "name: big\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: a\n        \
         http: {{ url: \"http://127.0.0.1:1/\", json: {value} }}\n"
    )
}

#[test]
fn yaml_past_the_readers_limits_renders_its_whole_error_as_before() {
    let dir = TestDir::new();
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let aliases = format!("[&x 1, {}]", vec!["*x"; 50_001].join(", "));
    dir.write("deep.yaml", &with_json(&deep));
    dir.write("aliases.yaml", &with_json(&aliases));
    dir.write("quick.yaml", QUICK);
    dir.write("deep-answers.yaml", &format!("a: {deep}\n"));
    dir.write("alias-answers.yaml", &format!("a: {aliases}\n"));
    dir.write("deep-notify.yaml", &format!("notify: {deep}\n"));
    dir.write("alias-notify.yaml", &format!("notify: {aliases}\n"));
    let runs: [&[&str]; 6] = [
        &["validate", "deep.yaml"],
        &["validate", "aliases.yaml"],
        &["run", "quick.yaml", "--answers", "deep-answers.yaml"],
        &["run", "quick.yaml", "--answers", "alias-answers.yaml"],
        &["run", "quick.yaml", "--dry-run", "--notify", "deep-notify.yaml"],
        &["run", "quick.yaml", "--dry-run", "--notify", "alias-notify.yaml"],
    ];
    let mut all = String::new();
    for args in runs {
        let out = dir.runbook().args(args.iter().copied()).run();
        // The snippet of a 200 KB line is cut by the renderer; keep the golden file small all the same.
        let stderr: String =
            out.stderr.lines().map(|l| format!("{}\n", l.chars().take(300).collect::<String>())).collect();
        section(&mut all, &args.join(" "), out.code, &stderr);
    }
    golden("errors-limits.txt", &all);
}

/// A playbook of one step whose body is `step` (indented under `- `).
fn one_step(step: &str) -> String {
    format!("name: one\nsections:\n  - name: s\n    steps:\n      - {step}\n")
}

#[test]
fn more_mistakes_render_their_whole_error_as_before() {
    let dir = TestDir::new();
    let step = "id: a\n        title: t\n        shell: { run: \"true\" }";
    let books: Vec<(&str, String)> = vec![
        ("bool-yes", one_step(&format!("{step}\n        action: yes"))),
        ("bool-maybe", one_step(&format!("{step}\n        action: maybe"))),
        ("title-list", one_step("id: a\n        title: [x]\n        shell: { run: \"true\" }")),
        ("var-list", format!("vars:\n  v: [1]\n{}", one_step(step))),
        ("two-documents", format!("{}---\nname: b\n", one_step(step))),
        ("tab-in-key", format!("\"a\\tb\": 1\n{}", one_step(step))),
        ("step-duplicate-key", one_step(&format!("{step}\n        title: again"))),
        ("step-key-with-tab", one_step(&format!("{step}\n        \"x\\ty\": 1"))),
        ("step-empty", one_step("{}")),
        ("step-scalar", one_step("5")),
        ("sections-scalar", "name: n\nsections: 5\n".to_owned()),
        ("unclosed-quote", one_step("id: a\n        title: \"abc\n        shell: { run: \"true\" }")),
        (
            "alias-step",
            format!(
                "x: &s {{ id: a, title: t, shel: {{ run: x }} }}\n{}",
                "name: n\nsections:\n  - name: s\n    steps:\n      - *s\n"
            ),
        ),
        ("u8-range", one_step(&format!("{step}\n        retries: 99999999999"))),
        ("bad-secret-kind", format!("secrets:\n  s: {{ vault: x }}\n{}", one_step(step))),
        ("unknown-probe-in-flow", "name: n\nsections: [{name: s, steps: [{id: a, title: t, htp: {}}]}]\n".to_owned()),
    ];
    let mut all = String::new();
    for (name, text) in &books {
        let file = format!("{name}.yaml");
        dir.write(&file, text);
        let out = dir.runbook().args(["validate", &file]).run();
        section(&mut all, &format!("validate {file}"), out.code, &out.stderr);
    }
    dir.write("vars.yaml", &format!("vars:\n  n: 1\n  b: true\n  f: 1.5\n{}", one_step(step)));
    dir.write("bad-target.yaml", "notify:\n  - command: [\"true\"]\n    webhook: http://x/\n");
    let runs: [&[&str]; 6] = [
        &["run", "vars.yaml", "--dry-run", "--var", "n=abc"],
        &["run", "vars.yaml", "--dry-run", "--var", "b=maybe"],
        &["run", "vars.yaml", "--dry-run", "--var", "f=x", "--var", "nope=1"],
        &["run", "vars.yaml", "--dry-run", "--notify", "bad-target.yaml"],
        &["run", "vars.yaml", "--dry-run", "--notify", "missing.yaml"],
        &["validate", "missing.yaml"],
    ];
    for args in runs {
        let out = dir.runbook().args(args.iter().copied()).run();
        section(&mut all, &args.join(" "), out.code, &out.stderr);
    }
    golden("errors-more.txt", &all);
}

#[test]
fn vars_of_no_allowed_kind_render_their_whole_error_as_before() {
    let dir = TestDir::new();
    let step = one_step("id: a\n        title: t\n        shell: { run: \"true\" }");
    let vars = [
        ("null", "vars:\n  v: ~\n"),
        ("empty", "vars:\n  v:\n"),
        ("map", "vars:\n  v: { a: 1 }\n"),
        ("block-list", "vars:\n  v:\n    - 1\n"),
        ("flow", "vars: { v: [1] }\n"),
        ("second", "vars:\n  a: 1\n  v: [x]\n"),
        ("huge", "vars:\n  v: 18446744073709551615\n  w: -99999999999999999999\n  x: [1]\n"),
    ];
    let mut all = String::new();
    for (name, text) in vars {
        let file = format!("{name}.yaml");
        dir.write(&file, &format!("{text}{step}"));
        let out = dir.runbook().args(["validate", &file]).run();
        section(&mut all, &format!("validate {file}"), out.code, &out.stderr);
    }
    golden("errors-vars.txt", &all);
}
