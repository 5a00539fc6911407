//! Errors said for the person reading them: a playbook that is not UTF-8 is
//! reported at the line and column of its first bad byte, and no library's
//! debug text (`Depth { depth: 65 }`, `String("a")`) reaches a message.

use crate::util::{Test, TestDir};

/// Debug text of a Rust value: a type name followed by ` {` or `(`.
fn debug_text(text: &str) -> Option<&str> {
    ["Depth {", "budget breached", "String(", "Int(", "Float(", "Some(", "Error {"]
        .into_iter()
        .find(|d| text.contains(d))
}

#[test]
fn a_playbook_that_is_not_utf8_is_reported_at_its_first_bad_byte() {
    let mut bytes = b"name: bad bytes\nsections:\n  - name: \xc3\xa9t\xff\xfe\n".to_vec();
    bytes.extend_from_slice(b"    steps: []\n");
    // Line 3; column 13 counts `é` as one character, as an editor does; the
    // line is shown with the bad bytes replaced.
    let error = "error: bad.yaml:3:13: the byte 0xff is not UTF-8; a playbook is UTF-8 text
  |
3 |   - name: ét\u{fffd}\u{fffd}
  |             ^

";
    for command in ["validate", "run", "list"] {
        let summary = if command == "validate" { "1 problem(s) in 1 of 1 playbook\n" } else { "" };
        Test::new()
            .bytes("bad.yaml", &bytes)
            .args([command, "bad.yaml"])
            .stderr(format!("{error}{summary}"))
            .status(2)
            .run();
    }
}

#[test]
fn a_yaml_past_the_readers_limits_is_refused_in_words() {
    // `json` takes any YAML, so only the reader's depth limit stops this.
    let head = "        http: { url: \"http://127.0.0.1:1/\", json: ";
    let nested = format!(
        "name: deep\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: a\n{head}{}{} }}\n",
        "[".repeat(200),
        "]".repeat(200)
    );
    // The snippet shows the first 200 characters of the line, the caret under column 109.
    let shown = format!("{head}{}", "[".repeat(200 - head.len()));
    let out = Test::new()
        .file("deep.yaml", &nested)
        .args(["validate", "deep.yaml"])
        .stderr(format!(
            "error: deep.yaml:7:109: the YAML is past what the reader accepts: it nests 65 levels deep\n  |\n7 | {shown}\n  | {caret}^\n\n1 problem(s) in 1 of 1 playbook\n",
            caret = " ".repeat(108),
        ))
        .status(2)
        .run();
    assert_eq!(debug_text(&out.stderr), None, "{}", out.stderr);

    // The same reader takes answers files (and notify files, whose typed fields refuse nesting first).
    let out = Test::new()
        .file("quick.yaml", "name: q\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: a\n        shell: { run: \"true\" }\n")
        .file("deep-answers.yaml", &format!("a: {}{}\n", "[".repeat(200), "]".repeat(200)))
        .args(["run", "quick.yaml", "--answers", "deep-answers.yaml"])
        .stderr(
            "error: --answers: deep-answers.yaml: not an answers file (step id: pass|fail|skip, or step id: \
             {verdict, comment}): the YAML is past what the reader accepts: it nests 65 levels deep at line 1, column 67\n",
        )
        .status(2)
        .run();
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
    assert_eq!(message, r#"`num(said) > 1` could not be evaluated: num(): needs a number, got "lots""#);
    assert_eq!(debug_text(&message), None, "{message}");
}
