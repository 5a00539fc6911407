//! The malformed-playbook corpus (`tests/malformed/`): one mistake per file,
//! as users make them, each saying on its first line where the error must
//! point and what it must say (`# expect: 9:17 unknown field `metod``).
//! `runbook validate` must print exactly that one error and exit 2, and its
//! whole output must equal `tests/integration/golden/malformed/<name>.stderr`
//! (`RUNBOOK_BLESS=1` rewrites those); on the whole folder it must report
//! every file at once. And no input, however nasty, may make the loader panic
//! or hang.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Outcome, Runbook, Test, TestDir, golden, golden_check};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/malformed"))
        .expect("tests/malformed")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// The `line:column` and message fragment a corpus file expects.
fn expectation(path: &Path) -> (String, String) {
    let text = std::fs::read_to_string(path).expect("read corpus file");
    let first = text.lines().next().unwrap_or("");
    let rest = first
        .strip_prefix("# expect: ")
        .unwrap_or_else(|| panic!("{}: the first line must be `# expect: LINE:COLUMN fragment`", path.display()));
    let (place, fragment) = rest.split_once(' ').expect("place and fragment");
    (place.to_owned(), fragment.to_owned())
}

/// The golden file of a corpus file's (or a case's) whole stderr.
fn golden_stderr(name: &str) -> String {
    format!("tests/integration/golden/malformed/{name}.stderr")
}

fn error_lines(out: &Outcome) -> Vec<&str> {
    out.stderr.lines().filter(|l| l.starts_with("error: ")).collect()
}

#[test]
fn the_corpus_has_at_least_thirty_mistakes() {
    assert!(corpus().len() >= 30, "only {} files in tests/malformed", corpus().len());
}

#[test]
fn each_malformed_playbook_gets_one_precise_error() {
    let mut failures = Vec::new();
    for path in corpus() {
        let (place, fragment) = expectation(&path);
        let relative = path.strip_prefix(repo()).expect("in the repo");
        let out = Runbook::new(repo()).args(["validate"]).args([relative]).run();
        let errors = error_lines(&out);
        let prefix = format!("error: {}:{place}: ", relative.display());
        let ok = out.code == 2
            && errors.len() == 1
            && errors[0].starts_with(&prefix)
            && errors[0].contains(&fragment)
            && !out.stderr.contains("panicked");
        if !ok {
            failures.push(format!(
                "{}: expected exit 2 and one `{prefix}…{fragment}…`, got exit {}:\n{}",
                relative.display(),
                out.code,
                out.stderr
            ));
        }
        let stem = path.file_stem().expect("a file name").to_string_lossy();
        if let Err(why) = golden_check(&golden_stderr(&stem), &out.stderr) {
            failures.push(format!("{}: {why}\n--- stderr ---\n{}", relative.display(), out.stderr));
        }
        if !out.stdout.is_empty() {
            failures.push(format!("{}: stdout is not empty:\n{}", relative.display(), out.stdout));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_text_error_shows_the_source_line_and_a_caret_under_the_spot() {
    Test::new()
        .current_dir(repo())
        .args(["validate", "tests/malformed/unknown-probe-param.yaml"])
        .stderr(
            "error: tests/malformed/unknown-probe-param.yaml:10:11: unknown field `metod`; did you mean `method`? \
             (expected one of `url`, `method`, `headers`, `body`, `json`, `basic_auth`, `insecure`, `max_body`)
   |
10 |           metod: POST
   |           ^

1 problem(s) in 1 of 1 playbook
",
        )
        .status(2)
        .run();
}

#[test]
fn validating_the_folder_reports_every_file_at_once() {
    let files = corpus();
    let out = Runbook::new(repo()).args(["validate", "tests/malformed/"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    let errors = error_lines(&out);
    for path in &files {
        let relative = path.strip_prefix(repo()).expect("in the repo").display().to_string();
        let count = errors.iter().filter(|e| e.starts_with(&format!("error: {relative}:"))).count();
        assert_eq!(count, 1, "{relative} reported {count} times");
    }
    assert_eq!(errors.len(), files.len());
    let summary = format!("{n} problem(s) in {n} of {n} playbooks", n = files.len());
    assert!(out.stderr.trim_end().ends_with(&summary), "no `{summary}` at the end:\n{}", out.stderr);
    golden(&golden_stderr("all"), &out.stderr);

    let json = Runbook::new(repo()).args(["validate", "--format", "json", "tests/malformed"]).run();
    assert_eq!(json.code, 2);
    let doc = json.json();
    assert_eq!(doc["files"], files.len());
    assert_eq!(doc["invalid"], files.len());
    let problems = doc["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), files.len());
    for problem in problems {
        let (place, fragment) = expectation(&repo().join(problem["file"].as_str().expect("file")));
        assert_eq!(format!("{}:{}", problem["line"], problem["column"]), place, "{problem}");
        assert!(problem["message"].as_str().expect("message").contains(&fragment), "{problem}");
    }
    golden("tests/integration/golden/malformed/all.json", &json.stdout);
}

#[test]
fn valid_playbooks_exit_0_with_one_summary_line() {
    let dir = TestDir::new();
    let book = "name: ok\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: t\n        sysinfo: {}\n";
    dir.write("a.yaml", book);
    dir.write("sub/b.yml", book);
    let out = dir.runbook().args(["validate", "a.yaml", "sub"]).run();
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), (0, "2 playbooks valid\n", ""));
    let json = dir.runbook().args(["validate", "--format", "json", "*.yaml"]).run();
    assert_eq!(json.code, 0);
    assert_eq!(json.json(), serde_json::json!({"files": 1, "invalid": 0, "problems": []}));
}

/// Runs `runbook validate` on `file` with a generous deadline: a hang fails the test instead of stalling it.
fn validate_within(dir: &TestDir, file: &str, deadline: Duration) -> Outcome {
    let mut command: Command = dir.runbook().args(["validate", file]).command();
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn runbook");
    // Drain both pipes while waiting, so a long output cannot block the child.
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            panic!("`runbook validate {file}` still running after {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (stdout.join().expect("stdout reader"), stderr.join().expect("stderr reader"));
    Outcome { code: status.code().unwrap_or(-1), stdout, stderr }
}

#[test]
fn nasty_inputs_never_panic_or_hang() {
    let dir = TestDir::new();
    let step = "name: n\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: t\n        sysinfo: {}\n";
    // Ten levels of ten aliases each: 10^10 strings if anything expanded them all.
    let laughs =
        (1..10).fold(String::from("name: n\nvars:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"), |mut doc, i| {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            doc.push_str(&format!("  a{i}: &a{i} [{refs}]\n"));
            doc
        });
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("deep-lists", format!("name: {}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes()),
        ("deep-maps", format!("name: n\nsections: {}1{}", "{a: ".repeat(50_000), "}".repeat(50_000)).into_bytes()),
        ("deep-block", (0..1_500).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect::<String>().into_bytes()),
        (
            "deep-param-bad-method",
            step.replace(
                "sysinfo: {}",
                &format!("http: {{ url: 'http://x', method: POTS, json: {}1{} }}", "{a: ".repeat(60), "}".repeat(60)),
            )
            .into_bytes(),
        ),
        (
            "huge-int",
            step.replace("sysinfo: {}", "sysinfo: {}\n        retries: 123456789012345678901234567890").into_bytes(),
        ),
        ("huge-float", step.replace("sysinfo: {}", "sysinfo: {}\n        retries: 1e400").into_bytes()),
        (
            "huge-timeout",
            step.replace("sysinfo: {}", "sysinfo: {}\n        timeout: 99999999999999999999h").into_bytes(),
        ),
        ("billion-laughs", format!("{laughs}sections: []\n").into_bytes()),
        ("unknown-alias", b"name: *nothing\nsections: []\n".to_vec()),
        ("binary", (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()),
        ("nul-bytes", b"name: \0\0\0\nsections: []\n".to_vec()),
        ("control-chars", "name: \u{1b}[31mred\u{7}\nsections: [\u{2028}]\n".as_bytes().to_vec()),
        ("long-line-valid", format!("name: {}\nsections: []\n", "x".repeat(1_000_000)).into_bytes()),
        ("too-big", vec![b'#'; 5 * 1024 * 1024]),
        ("only-bom", "\u{feff}".as_bytes().to_vec()),
        ("bom-valid", format!("\u{feff}{step}").into_bytes()),
        ("tags-valid", b"name: !!binary aGVsbG8=\nsections: !custom []\n".to_vec()),
        (
            "multi-line-expression",
            step.replace(
                "sysinfo: {}",
                "sysinfo: {}\n        expect:\n          - |\n            cpus >\n              = 1",
            )
            .into_bytes(),
        ),
        ("crlf-valid", step.replace('\n', "\r\n").into_bytes()),
    ];
    for (name, bytes) in cases {
        let file = format!("{name}.yaml");
        std::fs::write(dir.path().join(&file), &bytes).expect("write case");
        let out = validate_within(&dir, &file, Duration::from_secs(60));
        let expected = if name.ends_with("-valid") { 0 } else { 2 };
        assert_eq!(out.code, expected, "{name}: {out:?}");
        assert!(!out.stderr.contains("panicked"), "{name} panicked: {}", out.stderr);
        if expected == 2 {
            assert!(
                error_lines(&out).first().is_some_and(|l| l.contains(&file)),
                "{name}: no error line: {}",
                out.stderr
            );
            golden(&golden_stderr(&format!("nasty-{name}")), &out.stderr);
        }
    }
}

#[test]
fn every_semantic_problem_of_a_file_is_reported_together() {
    let dir = TestDir::new();
    dir.write(
        "many.yaml",
        r#"name: many
vars: { limit: 5 }
sections:
  - name: s
    steps:
      - id: a
        title: first
        shell: { run: "echo {{vars.limt}}" }
        needs: [b]
        expect: ['exit_code = 0']
      - id: b
        title: second
        sysinfo: {}
        needs: [a]
        timeout: soon
        expect: ['cpu < vars.limit']
      - id: b
        title: third
        tcp: { host: localhost, port: 1 }
"#,
    );
    Test::new()
        .current_dir(dir.path())
        .args(["validate", "many.yaml"])
        .stderr(
            r#"error: many.yaml:6:13: dependency cycle: a → b → a
  |
6 |       - id: a
  |             ^

error: many.yaml:8:29: `vars.limt` is not defined in `vars`; did you mean `limit`?
  |
8 |         shell: { run: "echo {{vars.limt}}" }
  |                             ^

error: many.yaml:10:29: bad expression `exit_code = 0`: unexpected `=`; compare with `==`
   |
10 |         expect: ['exit_code = 0']
   |                             ^

error: many.yaml:15:18: `soon` is not a duration; write a number and a unit, e.g. `5s`, `250ms`, `2m`
   |
15 |         timeout: soon
   |                  ^

error: many.yaml:16:19: `cpu` in `cpu < vars.limit` is not defined: a `sysinfo` step observes `cpu_pct`, `mem_used_pct`, `mem_total`, `mem_used`, `swap_used_pct`, `load1`, `load5`, `load15`, `cpus`, `uptime_s`, `disks`, `min_disk_free_pct` and captures nothing; did you mean `cpus`?
   |
16 |         expect: ['cpu < vars.limit']
   |                   ^

error: many.yaml:17:13: duplicate step id `b`
   |
17 |       - id: b
   |             ^

6 problem(s) in 1 of 1 playbook
"#,
        )
        .status(2)
        .run();
}

/// Where each `error:` line of `validate` points, as `line:column`.
fn places(out: &Outcome) -> Vec<String> {
    error_lines(out).iter().map(|l| l.split(':').skip(2).take(2).collect::<Vec<_>>().join(":")).collect()
}

#[test]
fn every_structural_problem_of_a_file_is_reported_in_one_round() {
    let dir = TestDir::new();
    // Top level, sections, flow lists, flow maps over two lines, flow and block steps.
    dir.write(
        "many.yaml",
        r#"name: many
colour: blue
vars:
  - not a map
sections:
  - name: A
    steps: [{id: a, title: A, shell: {run: x}, bogus: 1}, {id: b, title: B, shell: {runn: x}}]
  - name: B
    steps:
      - {id: c, title: C, shell: {run: x},
         bogus: 2}
      - id: d
        title: D
        shell: { run: x }
        expekt: [x]
      - {id: e, title: E, http: {url: "http://127.0.0.1:1", methd: GET}}
  - name: C
    stepz: []
  - nam: D
    steps:
      - {id: f, title: F, shell: {run: y}, retries: many}
      - id: g
        title: G
        tcp: { hots: x }
"#,
    );
    let out = dir.runbook().args(["validate", "many.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    let expected = ["2:1", "4:3", "7:48", "7:85", "11:10", "15:9", "16:61", "18:5", "19:5", "21:53", "24:16"];
    assert_eq!(places(&out), expected, "{}", out.stderr);
    assert!(out.stderr.ends_with("11 problem(s) in 1 of 1 playbook\n"), "{}", out.stderr);
    assert!(!out.stderr.contains("missing field"), "no problem the set-aside made: {}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn past_an_unknown_top_level_key_and_flow_steps_the_later_checks_still_report() {
    let dir = TestDir::new();
    dir.write(
        "some.yaml",
        r#"name: some
colour: blue
vars: { limit: 5 }
sections:
  - name: A
    steps: [{id: a, title: A, shell: {run: x}, bogus: 1}, {id: b, title: B, shell: {run: "echo {{vars.limt}}"}}]
"#,
    );
    let out = dir.runbook().args(["validate", "some.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(places(&out), ["2:1", "6:48", "6:96"], "{}", out.stderr);
    assert!(out.stderr.contains("`vars.limt` is not defined in `vars`"), "{}", out.stderr);
}
