//! The smallest end-to-end check: a passing and a failing shell step.

use crate::util::run_playbook;

#[test]
fn a_failing_expectation_exits_1_and_shows_the_observed_value() {
    let out = run_playbook(
        r#"
name: smoke
sections:
  - name: s
    steps:
      - id: ok
        title: echo works
        shell: { run: "echo hi" }
        expect: ['stdout == "hi"']
      - id: bad
        title: forty-two
        shell: { run: "echo 41" }
        capture: { n: $.stdout }
        expect: ['int(n) == 42']
"#,
        &[],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("n = \"41\" → expected int(n) == 42"), "{}", out.stdout);
}
