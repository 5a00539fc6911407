//! `attests`: a sign-off item vouching for earlier steps fails, naming them,
//! when one failed or errored; it is never skipped, and no answer (file or
//! prompt) passes it over the evidence. `needs` keeps its meaning.

const PLAYBOOK: &str = r#"name: attests
sections:
  - name: health
    steps:
      - id: db
        title: Database up
        shell: { run: 'exit {{vars.db_exit}}' }
        expect: ['exit_code == 0']
      - id: api
        title: API up
        shell: { run: 'true' }
        expect: ['exit_code == 0']
      - id: feeds
        title: Feeds look right
        manual: Look at the feeds.
  - name: sign-off
    steps:
      - id: signoff_health
        title: All health checks passed
        attests: [db, api]
        manual: Confirm the health checks above.
      - id: signoff_feeds
        title: Feeds signed off
        attests: [feeds]
        manual: Confirm the feeds.
      - id: after_db
        title: Runs only after the database
        needs: [db]
        shell: { run: 'true' }
vars:
  db_exit: 0
"#;

fn run(dir: &crate::util::TestDir, db_exit: &str, answers: &str) -> crate::util::Outcome {
    dir.write("p.yaml", PLAYBOOK);
    dir.write("answers.yaml", answers);
    let var = format!("db_exit={db_exit}");
    dir.runbook().args(["run", "p.yaml", "--format", "json", "--var", &var, "--answers", "answers.yaml"]).run()
}

#[test]
fn a_sign_off_attesting_a_failed_step_fails_and_names_it_and_a_pass_answer_is_not_taken() {
    let dir = crate::util::TestDir::new();
    let out = run(&dir, "1", "signoff_health: pass\n");
    assert_eq!(out.code, 1, "{out:?}");
    let item = out.step("signoff_health");
    assert_eq!(item["verdict"], "fail", "{item}");
    let message = item["message"].as_str().unwrap();
    assert!(message.starts_with("blocked by the evidence it attests: `db` failed;"), "{message}");
    assert!(message.contains("the answer `pass` given in the answers file was not taken"), "{message}");
    assert!(!message.contains("`api`"), "only the failed evidence is named: {message}");
    assert_eq!(item["attests"], serde_json::json!(["db", "api"]));
    assert!(
        out.stderr.contains("note: step `signoff_health`: the answer `pass` given in the answers file"),
        "{}",
        out.stderr
    );
    // `needs` keeps its meaning: a step needing the failed one is skipped.
    assert_eq!(out.step("after_db")["verdict"], "skipped");
    let signoff = &out.json()["signoff"];
    assert!(signoff["failed"].as_array().unwrap().iter().any(|id| id == "signoff_health"), "{signoff}");
}

#[test]
fn attesting_an_errored_step_fails_without_any_answer() {
    let dir = crate::util::TestDir::new();
    // Nothing listens on port 1: the probe errors.
    dir.write(
        "p.yaml",
        &PLAYBOOK
            .replace("shell: { run: 'exit {{vars.db_exit}}' }", "http: { url: \"http://127.0.0.1:1/\" }")
            .replace("expect: ['exit_code == 0']\n      - id: api", "expect: ['true']\n      - id: api"),
    );
    let out = dir.runbook().args(["run", "p.yaml", "--format", "json"]).run();
    assert_eq!(out.step("db")["verdict"], "error", "{out:?}");
    let item = out.step("signoff_health");
    assert_eq!(item["verdict"], "fail", "{item}");
    assert_eq!(item["message"], "blocked by the evidence it attests: `db` errored");
}

#[test]
fn attesting_passing_steps_leaves_the_answer_to_the_person() {
    let dir = crate::util::TestDir::new();
    let out = run(&dir, "0", "");
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.step("signoff_health")["verdict"], "pending");
    let out = run(&dir, "0", "signoff_health: pass\n");
    assert_eq!(out.step("signoff_health")["verdict"], "pass", "{out:?}");
    assert!(!out.stderr.contains("note:"), "{}", out.stderr);
    let out = run(&dir, "0", "signoff_health: {verdict: fail, comment: db looked slow}\n");
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.step("signoff_health")["verdict"], "fail");
    assert_eq!(out.step("signoff_health")["answer"]["comment"], "db looked slow");
}

#[test]
fn an_item_attesting_a_manual_step_answered_fail_fails_whatever_its_own_answer() {
    let dir = crate::util::TestDir::new();
    let out = run(&dir, "0", "feeds: fail\nsignoff_feeds: pass\n");
    assert_eq!(out.code, 1, "{out:?}");
    let item = out.step("signoff_feeds");
    assert_eq!(item["verdict"], "fail", "{item}");
    assert!(
        item["message"].as_str().unwrap().starts_with("blocked by the evidence it attests: `feeds` failed"),
        "{item}"
    );
    let out = run(&dir, "0", "feeds: pass\nsignoff_feeds: pass\n");
    assert_eq!(out.step("signoff_feeds")["verdict"], "pass", "{out:?}");
}

#[test]
fn an_unknown_attested_step_is_placed_in_the_file() {
    let dir = crate::util::TestDir::new();
    dir.write("p.yaml", &PLAYBOOK.replace("attests: [db, api]", "attests: [db, apii]"));
    let out = dir.runbook().args(["validate", "p.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("p.yaml:20:23: `attests` names unknown step `apii`; did you mean `api`?"),
        "{}",
        out.stderr
    );
    dir.write("p.yaml", &PLAYBOOK.replace("attests: [feeds]", "attests: [signoff_feeds]"));
    let out = dir.runbook().args(["validate", "p.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("dependency cycle: signoff_feeds → signoff_feeds"), "{}", out.stderr);
}

/// Drives the binary on a pseudo-terminal: answers `feeds` fail, leaves `signoff_health`
/// pending, and records what the prompt showed.
const PTY_SCRIPT: &str =
    r#"[(b"pass / fail / skip?", b"f\n"), (b"comment (optional):", b"\n"), (b"pass / fail / skip?", b"\n")]"#;

#[test]
fn the_prompt_does_not_ask_to_vouch_for_evidence_answered_fail() {
    let dir = crate::util::TestDir::new();
    dir.write("p.yaml", PLAYBOOK);
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(crate::util::pty_driver(PTY_SCRIPT))
        .arg(env!("CARGO_BIN_EXE_runbook"))
        .args(["run", "p.yaml", "--out", "record.json", "--format", "json"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("RUNBOOK_NO_HISTORY", "1")
        .output()
        .expect("run python3");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{screen}");
    assert!(
        screen.contains("[3/3] Feeds signed off  [signoff_feeds]\r\n      fails, not asked: blocked by the evidence it attests: `feeds` failed"),
        "{screen}"
    );
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("record.json")).unwrap()).unwrap();
    let item = record["steps"].as_array().unwrap().iter().find(|s| s["id"] == "signoff_feeds").unwrap();
    assert_eq!(item["verdict"], "fail", "{item}");
}
