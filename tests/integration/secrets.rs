//! Secrets: usable in database URLs, required before anything runs, and
//! never shown — not in the checklist, `--format json`, the `--out` file,
//! stderr, the run history, `list` or `validate`, even when a driver error
//! echoes the value.

use crate::sql::{Cleanup, MY, exec, unique};
use crate::util::TestDir;

/// Distinctive values no output would hold by chance.
const PASSWORD: &str = "Zq8-canary-pass-7731";
const DB_NAME: &str = "zq8_canary_db_4417";
const TOKEN: &str = "Zq8-canary-token-5209";

fn leaky_playbook() -> String {
    r#"
name: secret leak
secrets:
  pg_password: { env: RB_TEST_PG_PASSWORD }
  db_name: { file: db_name.txt }
  token: { env: RB_TEST_TOKEN }
sections:
  - name: s
    steps:
      - id: down
        title: a closed port, the password in the URL
        timeout: 3s
        sql: { url: "postgres://postgres:{{secrets.pg_password}}@127.0.0.1:1/test", query: "select 1" }
      - id: no_db
        title: the server echoes the database name
        sql: { url: "postgres://postgres:{{secrets.pg_password}}@127.0.0.1:5432/{{secrets.db_name}}", query: "select 1" }
      - id: echo
        title: the query echoes the token, captured and shown in a failed expectation
        sql: { url: "postgres://postgres:{{secrets.pg_password}}@127.0.0.1:5432/test", query: "select $1::text as t", params: ["{{secrets.token}}"] }
        capture: { t: $.t }
        expect: ['t == "something else"']
      - id: redis_down
        title: a closed Redis port, the password in the URL
        timeout: 3s
        redis: { url: "redis://:{{secrets.pg_password}}@127.0.0.1:1", command: PING }
"#
    .to_owned()
}

fn assert_clean(what: &str, text: &str) {
    for value in [PASSWORD, DB_NAME, TOKEN] {
        assert!(!text.contains(value), "{what} shows the secret `{value}`:\n{text}");
    }
}

#[test]
fn no_output_shows_a_secret_value() {
    let dir = TestDir::new();
    dir.write("playbook.yaml", &leaky_playbook());
    dir.write("db_name.txt", &format!("{DB_NAME}\n"));
    let _ =
        std::fs::set_permissions(dir.path().join("db_name.txt"), std::os::unix::fs::PermissionsExt::from_mode(0o600));
    let run = |args: &[&str]| {
        dir.runbook()
            .with_history()
            .args(["run", "playbook.yaml", "--history", "history.db"])
            .args(args)
            .env("RB_TEST_PG_PASSWORD", PASSWORD)
            .env("RB_TEST_TOKEN", TOKEN)
            .run()
    };
    let text = run(&["--out", "report.json", "--format", "json"]);
    let json = run(&["--format", "json"]);
    assert_eq!(json.code, 1, "{}", json.stdout);
    assert_clean("text output", &text.stdout);
    assert_clean("text stderr", &text.stderr);
    assert_clean("JSON output", &json.stdout);
    assert_clean("JSON stderr", &json.stderr);
    let report = std::fs::read_to_string(dir.path().join("report.json")).expect("the --out file");
    assert!(report.contains("\"no_db\""), "{report}");
    assert_clean("the --out file", &report);
    let history: Vec<u8> = std::fs::read_dir(dir.path())
        .expect("list the test folder")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("history.db"))
        .flat_map(|e| std::fs::read(e.path()).unwrap_or_default())
        .collect();
    assert_clean("the history store", &String::from_utf8_lossy(&history));
    // The steps did reach the values: the errors and the capture are there, masked.
    assert!(json.step("no_db")["message"].as_str().is_some_and(|m| m.contains("does not exist")), "{}", json.stdout);
    assert_eq!(json.step("echo")["captured"]["t"], "••••••", "{}", json.stdout);
    assert!(json.step("down")["message"].as_str().is_some_and(|m| m.contains("cannot connect")), "{}", json.stdout);
    assert!(json.step("redis_down")["message"].as_str().is_some_and(|m| m.contains("cannot connect")));
    for command in [["list", "playbook.yaml"], ["validate", "playbook.yaml"]] {
        let out = dir.runbook().args(command).env("RB_TEST_PG_PASSWORD", PASSWORD).env("RB_TEST_TOKEN", TOKEN).run();
        assert_eq!(out.code, 0, "{out:?}");
        assert_clean(command[0], &out.stdout);
        assert_clean(command[0], &out.stderr);
    }
}

#[test]
fn a_secret_password_in_a_url_logs_in() {
    let user = unique("rb_secret_user");
    let _cleanup = Cleanup(MY, vec![format!("drop user if exists '{user}'@'%'")]);
    exec(MY, &[&format!("create user '{user}'@'%' identified by '{PASSWORD}'")]);
    let dir = TestDir::new();
    dir.write(
        "playbook.yaml",
        &format!(
            r#"
name: secret url
secrets: {{ my_password: {{ env: RB_TEST_MY_PASSWORD }} }}
sections:
  - name: s
    steps:
      - id: login
        title: logs in with the secret
        sql: {{ url: "mariadb://{user}:{{{{secrets.my_password}}}}@127.0.0.1:3306/", query: "select current_user() as who" }}
        expect: ['who.startsWith("{user}@")']
"#
        ),
    );
    let out = dir.runbook().args(["run", "playbook.yaml"]).env("RB_TEST_MY_PASSWORD", PASSWORD).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_clean("output", &out.stdout);
}

#[test]
fn a_missing_secret_stops_the_run_before_any_probe() {
    let dir = TestDir::new();
    let marker = dir.path().join("ran");
    dir.write(
        "playbook.yaml",
        &format!(
            r#"
name: missing
secrets: {{ pw: {{ env: RB_TEST_NOT_SET_ANYWHERE }} }}
sections:
  - name: s
    steps:
      - id: first
        title: would leave a mark
        shell: {{ run: "touch {}" }}
      - id: db
        title: uses the secret
        sql: {{ url: "postgres://postgres:{{{{secrets.pw}}}}@127.0.0.1:5432/test", query: "select 1" }}
"#,
            marker.display()
        ),
    );
    let out = dir.runbook().args(["run", "playbook.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("secret `pw`") && out.stderr.contains("RB_TEST_NOT_SET_ANYWHERE"), "{}", out.stderr);
    assert!(!marker.exists(), "no step ran");
}
