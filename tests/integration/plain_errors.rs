//! Errors said for the person reading them: a playbook that is not UTF-8 is
//! reported at the line and column of its first bad byte, and no library's
//! debug text (`Depth { depth: 65 }`, `String("a")`) reaches a message.

use crate::util::TestDir;

/// Debug text of a Rust value: a type name followed by ` {` or `(`.
fn debug_text(text: &str) -> Option<&str> {
    ["Depth {", "budget breached", "String(", "Int(", "Float(", "Some(", "Error {"]
        .into_iter()
        .find(|d| text.contains(d))
}

#[test]
fn a_playbook_that_is_not_utf8_is_reported_at_its_first_bad_byte() {
    let dir = TestDir::new();
    let mut bytes = b"name: bad bytes\nsections:\n  - name: \xc3\xa9t\xff\xfe\n".to_vec();
    bytes.extend_from_slice(b"    steps: []\n");
    std::fs::write(dir.path().join("bad.yaml"), bytes).expect("write");
    for command in ["validate", "run", "list"] {
        let out = dir.runbook().args([command, "bad.yaml"]).run();
        assert_eq!(out.code, 2, "{command}: {out:?}");
        // Line 3; column 13 counts `é` as one character, as an editor does.
        assert!(
            out.stderr.contains("error: bad.yaml:3:13: the byte 0xff is not UTF-8; a playbook is UTF-8 text"),
            "{command}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("3 |   - name: ét"), "{command}: the line is shown: {}", out.stderr);
    }
}

#[test]
fn a_yaml_past_the_readers_limits_is_refused_in_words() {
    let dir = TestDir::new();
    // `json` takes any YAML, so only the reader's depth limit stops this.
    let nested = format!(
        "name: deep\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: a\n        \
         http: {{ url: \"http://127.0.0.1:1/\", json: {}{} }}\n",
        "[".repeat(200),
        "]".repeat(200)
    );
    dir.write("deep.yaml", &nested);
    let out = dir.runbook().args(["validate", "deep.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("the YAML is past what the reader accepts: it nests"), "{}", out.stderr);
    assert_eq!(debug_text(&out.stderr), None, "{}", out.stderr);

    // The same reader takes answers files (and notify files, whose typed fields refuse nesting first).
    dir.write("quick.yaml", "name: q\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: a\n        shell: { run: \"true\" }\n");
    dir.write("deep-answers.yaml", &format!("a: {}{}\n", "[".repeat(200), "]".repeat(200)));
    let out = dir.runbook().args(["run", "quick.yaml", "--answers", "deep-answers.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("the YAML is past what the reader accepts"), "{}", out.stderr);
    assert_eq!(debug_text(&out.stderr), None, "{}", out.stderr);
}

#[test]
fn an_expression_given_the_wrong_type_names_the_value_not_its_debug_text() {
    let dir = TestDir::new();
    dir.write(
        "playbook.yaml",
        r#"
name: types
sections:
  - name: s
    steps:
      - id: words
        title: a number that is words
        shell: { run: "echo lots" }
        capture: { said: $.stdout }
        expect: ['num(said) > 1']
"#,
    );
    let out = dir.runbook().args(["run", "playbook.yaml", "--format", "json"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    let message = out.step("words")["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains(r#"needs a number, got "lots"#), "{message}");
    assert_eq!(debug_text(&message), None, "{message}");
}
