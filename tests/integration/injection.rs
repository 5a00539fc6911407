//! Values never become code: hostile var values interpolated into a shell
//! `run` line stay one quoted word (the command prints them back unchanged
//! and nothing they say runs), and a template in an SQL `query` is refused
//! (values go in `params`, which are bound).

use crate::util::TestDir;

/// Each would create `PWNED` in the working folder if it reached the shell as syntax.
const HOSTILE: [&str; 7] = [
    "'; touch PWNED #",
    "$(touch PWNED)",
    "`touch PWNED`",
    "a\ntouch PWNED",
    "\"; touch PWNED; echo \"",
    "x' && touch PWNED && echo '",
    "${IFS}; touch PWNED | \\",
];

#[test]
fn hostile_values_in_a_shell_line_stay_data() {
    let dir = TestDir::new();
    let mut book = String::from("name: injection\nvars:\n");
    for i in 0..HOSTILE.len() {
        book.push_str(&format!("  v{i}: \"\"\n"));
    }
    book.push_str("sections:\n  - name: s\n    steps:\n");
    for i in 0..HOSTILE.len() {
        book.push_str(&format!(
            "      - id: s{i}\n        title: s{i}\n        shell: {{ run: \"printf %s {{{{vars.v{i}}}}} > out{i}\" }}\n        \
             expect: ['exit_code == 0']\n"
        ));
    }
    dir.write("playbook.yaml", &book);
    let mut command = dir.runbook().args(["run", "playbook.yaml", "--format", "json"]);
    for (i, value) in HOSTILE.iter().enumerate() {
        command = command.args(["--var", &format!("v{i}={value}")]);
    }
    let out = command.run();
    assert_eq!(out.code, 0, "{out:?}");
    for (i, value) in HOSTILE.iter().enumerate() {
        let printed = std::fs::read_to_string(dir.path().join(format!("out{i}"))).expect("the command ran");
        assert_eq!(&printed, value, "value {i} came back changed");
    }
    assert!(!dir.path().join("PWNED").exists(), "a hostile value ran as a command");
}

#[test]
fn a_template_in_an_sql_query_is_refused_in_favour_of_params() {
    let dir = TestDir::new();
    dir.write(
        "playbook.yaml",
        "name: sql\nvars:\n  name: x\nsections:\n  - name: s\n    steps:\n      - id: q\n        title: q\n        \
         sql: { url: \"sqlite::memory:\", query: \"select 1 where 'a' = '{{vars.name}}'\" }\n",
    );
    let out = dir.runbook().args(["validate", "playbook.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("pass the value in `params`"), "{}", out.stderr);
}
