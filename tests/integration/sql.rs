//! The `sql` probe against the machine's PostgreSQL (5432, trust auth),
//! MariaDB (3306, root without password) and SQLite files. Every test makes
//! its own uniquely named tables (and users) and drops them afterwards, so
//! tests run in parallel.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{Outcome, TestDir, run_playbook};

pub const PG: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const MY: &str = "mysql://root@127.0.0.1:3306/test";

/// A name no other test (or test process) uses.
pub fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A playbook of one section; `steps` is its YAML list of steps, indented by 6.
pub fn playbook(steps: &str) -> String {
    format!("name: sql test\nsections:\n  - name: s\n    steps:\n{steps}")
}

/// Runs `statements` one after another with `write: true`, each needing the one before; all must pass.
pub fn exec(url: &str, statements: &[&str]) {
    let mut steps = String::new();
    for (i, statement) in statements.iter().enumerate() {
        let needs = if i == 0 { String::new() } else { format!("\n        needs: [s{}]", i - 1) };
        steps.push_str(&format!(
            "      - id: s{i}\n        title: setup {i}\n        sql: {{ url: {url:?}, query: {statement:?}, write: true }}{needs}\n"
        ));
    }
    let out = run_playbook(&playbook(&steps), &["--format", "json"]);
    assert_eq!(out.code, 0, "setup failed: {statements:?}\n{}", out.stdout);
}

/// Drops what a test made, even when it fails.
pub struct Cleanup(pub &'static str, pub Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let statements: Vec<&str> = self.1.iter().map(String::as_str).collect();
        let _ = std::panic::catch_unwind(|| exec(self.0, &statements));
    }
}

/// Runs one `sql` step (plus `extra` YAML lines) and returns the outcome, capturing the first row as `row`.
fn query(url: &str, sql: &str, extra: &str) -> Outcome {
    let steps = format!(
        "      - id: q\n        title: query\n        sql: {{ url: {url:?}, query: {sql:?} }}\n        capture: {{ row: '$.rows[0]', count: '$.row_count' }}\n{extra}"
    );
    run_playbook(&playbook(&steps), &["--format", "json"])
}

fn row(out: &Outcome) -> Value {
    let step = out.step("q");
    assert_eq!(step["verdict"], "pass", "{}", out.stdout);
    step["captured"]["row"].clone()
}

#[test]
fn postgres_values_come_out_as_json_types() {
    let table = unique("rb_pg_types");
    let _cleanup = Cleanup(PG, vec![format!("drop table if exists {table}")]);
    exec(
        PG,
        &[
            &format!(
                "create table {table} (i int, big bigint, n numeric(10,2), f float8, t text, ok bool, \
                 ts timestamptz, d date, b bytea, j jsonb, nothing text)"
            ),
            &format!(
                "insert into {table} values (7, 9007199254740993, 12.34, 0.5, 'it''s', true, \
                 '2024-05-01 12:00:00+00', '2024-05-01', '\\xdead01', '{{\"k\": [1, 2]}}', null)"
            ),
        ],
    );
    let out = query(PG, &format!("select * from {table}"), "        expect: ['i == 7', 'n == 12.34', 'ok']\n");
    assert_eq!(
        row(&out),
        json!({"i": 7, "big": 9007199254740993_i64, "n": 12.34, "f": 0.5, "t": "it's", "ok": true,
               "ts": "2024-05-01T12:00:00Z", "d": "2024-05-01", "b": "dead01", "j": {"k": [1, 2]}, "nothing": null})
    );
}

#[test]
fn mariadb_values_come_out_as_json_types() {
    let table = unique("rb_my_types");
    let _cleanup = Cleanup(MY, vec![format!("drop table if exists {table}")]);
    exec(
        MY,
        &[
            &format!(
                "create table {table} (i int, u int unsigned, n decimal(10,2), f double, t varchar(20), ok boolean, \
                 ts timestamp null, dt datetime, d date, b varbinary(8), nothing text)"
            ),
            &format!(
                "insert into {table} values (-7, 4000000000, 12.34, 0.5, 'it''s', true, \
                 '2024-05-01 12:00:00', '2024-05-01 12:00:00', '2024-05-01', x'dead01', null)"
            ),
        ],
    );
    let out = query(MY, &format!("select * from {table}"), "        expect: ['i == -7', 'ok']\n");
    let row = row(&out);
    assert_eq!(row["i"], -7);
    assert_eq!(row["u"], 4_000_000_000_u64);
    assert_eq!(row["n"], 12.34);
    assert_eq!(row["f"], 0.5);
    assert_eq!(row["t"], "it's");
    assert_eq!(row["ok"], true);
    assert!(row["ts"].as_str().is_some_and(|t| t.starts_with("2024-05-01T") && t.ends_with('Z')), "{row}");
    assert_eq!(row["dt"], "2024-05-01T12:00:00");
    assert_eq!(row["d"], "2024-05-01");
    assert_eq!(row["b"], "dead01");
    assert_eq!(row["nothing"], Value::Null);
}

#[test]
fn sqlite_values_and_writes_on_a_file_next_to_the_playbook() {
    let dir = TestDir::new();
    let steps = r#"
      - id: create
        title: create
        sql: { url: "sqlite:data.db?mode=rwc", write: true, query: "create table t (i integer, r real, s text, b blob, ok boolean, z text)" }
      - id: insert
        title: insert
        needs: [create]
        sql: { url: "sqlite:data.db?mode=rwc", write: true, query: "insert into t values (?, ?, ?, x'dead', 1, ?)", params: [42, 2.5, "it's \"quoted\"", null] }
      - id: q
        title: read
        needs: [insert]
        sql: { url: "sqlite:data.db", query: "select * from t where s = ?", params: ["it's \"quoted\""] }
        capture: { row: '$.rows[0]' }
        expect: ['row_count == 1', 'i == 42']
      - id: refused
        title: a read-only step cannot write
        needs: [q]
        sql: { url: "sqlite:data.db", query: "delete from t" }
"#;
    dir.write("playbook.yaml", &playbook(steps));
    let out = dir.runbook().args(["run", "playbook.yaml", "--format", "json"]).run();
    assert!(dir.path().join("data.db").exists(), "the database is made next to the playbook");
    assert_eq!(
        out.step("q")["captured"]["row"],
        json!({"i": 42, "r": 2.5, "s": "it's \"quoted\"", "b": "dead", "ok": true, "z": null}),
        "{}",
        out.stdout
    );
    let refused = out.step("refused");
    assert_eq!(refused["verdict"], "error", "{}", out.stdout);
    assert!(refused["message"].as_str().is_some_and(|m| m.contains("readonly")), "{refused}");
}

#[test]
fn params_are_bound_not_spliced() {
    let table = unique("rb_params");
    let _cleanup = Cleanup(PG, vec![format!("drop table if exists {table}")]);
    exec(PG, &[&format!("create table {table} (name text)"), &format!("insert into {table} values ('o''brien')")]);
    // Spliced into the text, this value would be a syntax error or match every row.
    let steps = format!(
        "      - id: q\n        title: q\n        sql: {{ url: {PG:?}, query: \"select count(*) as n from {table} where name = $1\", params: [\"o'brien\"] }}\n        expect: ['n == 1']\n      - id: sneaky\n        title: sneaky\n        sql: {{ url: {PG:?}, query: \"select count(*) as n from {table} where name = $1\", params: [\"x' or '1'='1\"] }}\n        expect: ['n == 0']\n"
    );
    let out = run_playbook(&playbook(&steps), &["--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let steps = format!(
        "      - id: q\n        title: q\n        sql: {{ url: {MY:?}, query: \"select ? as v, ? + 1 as n\", params: [\"it's\", 41] }}\n        expect: ['v == \"it''s\"', 'n == 42']\n"
    );
    let out = run_playbook(&playbook(&steps), &["--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn reads_are_read_only_unless_the_step_says_write() {
    let table = unique("rb_ro");
    let _pg = Cleanup(PG, vec![format!("drop table if exists {table}")]);
    let _my = Cleanup(MY, vec![format!("drop table if exists {table}")]);
    exec(PG, &[&format!("create table {table} (x int)")]);
    exec(MY, &[&format!("create table {table} (x int)")]);
    let steps = format!(
        "      - id: pg\n        title: pg\n        sql: {{ url: {PG:?}, query: \"insert into {table} values (1)\" }}\n      - id: my\n        title: my\n        sql: {{ url: {MY:?}, query: \"insert into {table} values (1)\" }}\n      - id: count\n        title: count\n        needs: []\n        sql: {{ url: {PG:?}, query: \"select count(*) as n from {table}\" }}\n"
    );
    let out = run_playbook(&playbook(&steps), &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let pg = out.step("pg");
    assert_eq!(pg["verdict"], "error");
    assert!(pg["message"].as_str().is_some_and(|m| m.contains("read-only transaction")), "{pg}");
    let my = out.step("my");
    assert_eq!(my["verdict"], "error");
    assert!(my["message"].as_str().is_some_and(|m| m.to_lowercase().contains("read only")), "{my}");
    let count = query(PG, &format!("select count(*) as n from {table}"), "        expect: ['n == 0']\n");
    assert_eq!(count.code, 0, "nothing was written: {}", count.stdout);
    let count = query(MY, &format!("select count(*) as n from {table}"), "        expect: ['n == 0']\n");
    assert_eq!(count.code, 0, "nothing was written: {}", count.stdout);
}

#[test]
fn too_many_rows_is_a_clear_error() {
    let out = query(PG, "select generate_series(1, 10) as n", "        expect: ['n == 1']\n        timeout: 5s\n");
    assert_eq!(out.code, 0, "{}", out.stdout);
    let steps = format!(
        "      - id: q\n        title: q\n        sql: {{ url: {PG:?}, query: \"select generate_series(1, 10) as n\", max_rows: 3 }}\n"
    );
    let out = run_playbook(&playbook(&steps), &["--format", "json"]);
    let step = out.step("q");
    assert_eq!(step["verdict"], "error");
    assert!(
        step["message"].as_str().is_some_and(|m| m.contains("more than 3 rows") && m.contains("max_rows")),
        "{step}"
    );
}

fn error_of(url: &str, sql: &str, timeout: &str) -> (String, Duration, i32) {
    let started = Instant::now();
    let steps = format!(
        "      - id: q\n        title: q\n        timeout: {timeout}\n        sql: {{ url: {url:?}, query: {sql:?} }}\n"
    );
    let out = run_playbook(&playbook(&steps), &["--format", "json"]);
    let step = out.step("q");
    assert_eq!(step["verdict"], "error", "{}", out.stdout);
    (step["message"].as_str().unwrap_or_default().to_owned(), started.elapsed(), out.code)
}

#[test]
fn a_closed_port_is_an_error_naming_the_target_within_the_timeout() {
    for url in ["postgres://postgres:pw-secret-1@127.0.0.1:1/test", "mysql://root:pw-secret-1@127.0.0.1:1/test"] {
        let (message, took, code) = error_of(url, "select 1", "3s");
        assert_eq!(code, 1);
        assert!(message.contains("cannot connect to") && message.contains("@127.0.0.1:1/test"), "{message}");
        assert!(message.to_lowercase().contains("refused"), "{message}");
        assert!(!message.contains("pw-secret-1"), "the password is taken out: {message}");
        assert!(took < Duration::from_secs(3 + 10), "took {took:?}");
    }
}

#[test]
fn unknown_database_and_syntax_errors_say_so() {
    let (message, _, _) = error_of("postgres://postgres@127.0.0.1:5432/rb_no_such_db", "select 1", "10s");
    assert!(message.contains("rb_no_such_db") && message.contains("does not exist"), "{message}");
    let (message, _, _) = error_of("mysql://root@127.0.0.1:3306/rb_no_such_db", "select 1", "10s");
    assert!(message.contains("Unknown database"), "{message}");
    let (message, _, _) = error_of(PG, "selec 1", "10s");
    assert!(message.contains("syntax error"), "{message}");
    let (message, _, _) = error_of(MY, "selec 1", "10s");
    assert!(message.contains("error in your SQL syntax"), "{message}");
    assert!(!message.contains('\n'));
}

/// PostgreSQL here trusts every connection from 127.0.0.1 (pg_hba.conf), so
/// a wrong password cannot be refused there; MariaDB checks it.
#[test]
fn a_wrong_password_is_refused_by_mariadb() {
    let user = unique("rb_user");
    let _cleanup = Cleanup(MY, vec![format!("drop user if exists '{user}'@'%'")]);
    exec(MY, &[&format!("create user '{user}'@'%' identified by 'right-password-1'")]);
    let good = query(&format!("mysql://{user}:right-password-1@127.0.0.1:3306/"), "select 1 as one", "");
    assert_eq!(good.code, 0, "{}", good.stdout);
    let (message, _, code) = error_of(&format!("mysql://{user}:wrong-password-1@127.0.0.1:3306/"), "select 1", "10s");
    assert_eq!(code, 1);
    assert!(message.contains("Access denied") && message.contains(&user), "{message}");
    assert!(!message.contains("wrong-password-1"), "{message}");
}

#[test]
fn a_slow_query_is_cut_at_the_deadline_and_its_connection_not_reused() {
    let steps = format!(
        "      - id: slow\n        title: slow\n        timeout: 1s\n        sql: {{ url: {PG:?}, query: \"select pg_sleep(60)\" }}\n      - id: after\n        title: after\n        needs: []\n        sql: {{ url: {PG:?}, query: \"select 1 as one\" }}\n        expect: ['one == 1']\n"
    );
    let started = Instant::now();
    // `--jobs 1`: the second step runs after the first on the same pool.
    let out = run_playbook(&playbook(&steps), &["--format", "json", "--jobs", "1"]);
    let took = started.elapsed();
    let slow = out.step("slow");
    assert_eq!(slow["verdict"], "error", "{}", out.stdout);
    assert!(slow["message"].as_str().is_some_and(|m| m.contains("timed out after 1s")), "{slow}");
    assert_eq!(out.step("after")["verdict"], "pass", "{}", out.stdout);
    assert!(took < Duration::from_secs(10), "the run took {took:?}");
}
