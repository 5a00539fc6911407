//! Secrets: usable in database URLs, required before anything runs, and
//! never shown — not in the checklist, `--format json`, `--dry-run`, the
//! `--out` file, the reports, their signature, JUnit, the journal, stderr,
//! the run history (`history`, `show`), `list`, `validate` or a validation
//! error, the notifications, or `serve`'s page and metrics, even when a
//! driver error or a server echoes the value, in any encoding (JSON-escaped,
//! URL-encoded, HTML-escaped, base64 in a Basic auth header). A secret file
//! others can read gets a warning.

use std::sync::{Arc, Mutex};

use crate::sql::{Cleanup, MY, exec, unique};
use crate::util::{Background, HttpServer, Outcome, TestDir};

/// Distinctive values no output would hold by chance.
const PASSWORD: &str = "Zq8-canary-pass-7731";
const DB_NAME: &str = "zq8_canary_db_4417";
const TOKEN: &str = "Zq8-canary-token-5209";
/// What encoders change: a quote, spaces, `@`, `&`, `<`, `'` and a letter outside ASCII.
const TRICKY: &str = "Zq8 \"canary\" p@ss&<'é-6042";
/// Every secret holds this: JSON-, URL- and HTML-escaped forms keep it, so finding it finds them.
const MARK: &str = "canary";
/// The middle of base64(`ops:` + TRICKY), the `Authorization: Basic` header a client sends.
const TRICKY_BASIC: &str = "OlpxOCAiY2FuYXJ5IiBwQHNzJjwnw6ktNjA0Mg";

/// A server that answers every request with the request: method, URL as sent,
/// Authorization header and body. `/echo` answers JSON as text (so the escapes
/// stay in the run's record), in serde_json's escaping and in ASCII-only
/// escaping, then an HTML paragraph; `/echo.json` answers JSON the engine
/// parses. `/hook` keeps what a notification posts.
fn echo_server(hooks: Arc<Mutex<Vec<String>>>) -> HttpServer {
    use axum::http::{HeaderMap, Method, Uri, header};
    let echoed = |method: Method, uri: Uri, headers: HeaderMap, body: String| {
        let auth = headers.get(header::AUTHORIZATION).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        serde_json::json!({ "method": method.as_str(), "url": uri.to_string(), "authorization": auth, "body": body })
    };
    let text = move |method, uri, headers, body| async move {
        let json = serde_json::to_string(&echoed(method, uri, headers, body)).unwrap_or_default();
        let ascii: String =
            json.chars().map(|c| if c.is_ascii() { c.to_string() } else { format!("\\u{:04x}", c as u32) }).collect();
        let html: String = json
            .chars()
            .map(|c| match c {
                '&' => "&amp;".to_owned(),
                '<' => "&lt;".to_owned(),
                '>' => "&gt;".to_owned(),
                '"' => "&quot;".to_owned(),
                '\'' => "&#39;".to_owned(),
                c => c.to_string(),
            })
            .collect();
        ([(header::CONTENT_TYPE, "text/plain")], format!("{json}\n{ascii}\n<p>{html}</p>\n"))
    };
    let json = move |method, uri, headers, body| async move { axum::Json(echoed(method, uri, headers, body)) };
    let hook = move |body: String| async move {
        hooks.lock().expect("hooks").push(body);
        "ok"
    };
    HttpServer::start(
        axum::Router::new()
            .route("/echo", axum::routing::any(text))
            .route("/echo.json", axum::routing::any(json))
            .route("/hook", axum::routing::post(hook)),
    )
}

fn leaky_playbook() -> String {
    r#"
name: secret leak
secrets:
  pg_password: { env: RB_TEST_PG_PASSWORD }
  db_name: { file: db_name.txt }
  token: { env: RB_TEST_TOKEN }
  tricky: { env: RB_TEST_TRICKY }
vars: { echo: ECHO_URL }
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
      - id: flatten
        title: an action whose request carries the token, shown by a dry run
        action: true
        http: { url: "http://127.0.0.1:1/flatten", method: POST, headers: { Authorization: "Bearer {{secrets.token}}" } }
      - id: echo_text
        title: a server echoes the request, escapes and all, shown in a failed expectation
        http: { url: "{{vars.echo}}/echo?pw={{secrets.tricky}}", method: POST, basic_auth: "ops:{{secrets.tricky}}", json: { pw: "{{secrets.tricky}}" } }
        capture: { said: $.body }
        expect: ['said.size() < 0']
      - id: echo_json
        title: a server echoes the request as JSON, each part captured
        http: { url: "{{vars.echo}}/echo.json?pw={{secrets.tricky}}", method: POST, basic_auth: "ops:{{secrets.tricky}}", json: { pw: "{{secrets.tricky}}" } }
        capture: { auth: $.body.authorization, url: $.body.url, body: $.body.body }
        expect: ['auth == "none"', 'url == "none"']
"#
    .to_owned()
}

/// A mistake on the line that references a secret.
const BROKEN_PLAYBOOK: &str = r#"
name: secret leak
secrets: { token: { env: RB_TEST_TOKEN } }
sections:
  - name: s
    steps:
      - id: echo
        title: uses the token
        shell: { run: 'echo "$T"', env: { T: "{{secrets.token}}" }, timout: 3s }
"#;

/// Every text the commands below leave behind, by where it was seen.
#[derive(Default)]
struct Outputs(Vec<(String, String)>);

impl Outputs {
    fn command(&mut self, what: &str, out: &Outcome) {
        self.0.push((format!("`{what}` stdout"), out.stdout.clone()));
        self.0.push((format!("`{what}` stderr"), out.stderr.clone()));
    }

    fn file(&mut self, dir: &TestDir, name: &str) {
        let bytes = std::fs::read(dir.path().join(name)).unwrap_or_else(|e| panic!("{name} was not written: {e}"));
        self.0.push((name.to_owned(), String::from_utf8_lossy(&bytes).into_owned()));
    }

    /// The names of the outputs that show a secret value, with the value.
    fn leaks(&self) -> Vec<String> {
        let mut found = Vec::new();
        for (what, text) in &self.0 {
            for value in [PASSWORD, DB_NAME, TOKEN, TRICKY, MARK, TRICKY_BASIC].into_iter().filter(|v| text.contains(v))
            {
                let at = text.find(value).unwrap_or(0);
                let from = (0..=at.saturating_sub(40)).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
                let around: String = text[from..].chars().take(100).collect();
                found.push(format!("{what} shows `{value}`: …{around}…"));
            }
        }
        found
    }
}

#[test]
fn no_output_shows_a_secret_value() {
    let dir = TestDir::new();
    let hooks = Arc::new(Mutex::new(Vec::new()));
    let echo = echo_server(hooks.clone());
    dir.write("playbook.yaml", &leaky_playbook().replace("ECHO_URL", &echo.url));
    dir.write("broken.yaml", BROKEN_PLAYBOOK);
    dir.write("sendmail.sh", "#!/bin/sh\ncat >> mail.txt\n");
    set_mode(&dir, "sendmail.sh", 0o700);
    dir.write(
        "notify.yaml",
        &format!(
            "notify:\n  - webhook: {}/hook\n    on: [always]\n  - command: [\"sh\", \"-c\", \"cat >> notified.txt\"]\n    \
             on: [always]\n  - sendmail: {{ to: [ops@example.com], path: {} }}\n    on: [always]\n",
            echo.url,
            dir.path().join("sendmail.sh").display()
        ),
    );
    dir.write("db_name.txt", &format!("{DB_NAME}\n"));
    set_mode(&dir, "db_name.txt", 0o600);
    assert_eq!(dir.runbook().args(["keygen", "--out", "key"]).run().code, 0);
    let runbook = || {
        dir.runbook()
            .with_history()
            .env("RUNBOOK_HISTORY", "history.db")
            .env("RB_TEST_PG_PASSWORD", PASSWORD)
            .env("RB_TEST_TOKEN", TOKEN)
            .env("RB_TEST_TRICKY", TRICKY)
    };
    let mut outputs = Outputs::default();
    let mut command = |args: &[&str]| {
        let out = runbook().args(args).run();
        let shown: Vec<&str> = args.iter().map(|a| if a.contains(TOKEN) { "…" } else { a }).collect();
        outputs.command(&shown.join(" "), &out);
        out
    };
    // The operator's name quotes the token: it lands in the sign-off, the history and the signature.
    let operator = format!("ops {TOKEN}");
    let reports = "--out run.json --format json --report report.html --sign key --junit junit.xml \
                   --journal journal.log --notify notify.yaml";
    let mut with_reports: Vec<&str> = ["run", "playbook.yaml"].into_iter().chain(reports.split(' ')).collect();
    with_reports.extend(["--operator", &operator]);
    let text = command(&with_reports);
    let json = command(&["run", "playbook.yaml", "--format", "json"]);
    let dry_text = command(&["run", "playbook.yaml", "--dry-run"]);
    let dry_json = command(&["run", "playbook.yaml", "--dry-run", "--format", "json"]);
    let runs = command(&["history", "--format", "json"]);
    for args in [
        &["history"][..],
        &["history", "secret leak", "--step", "echo"],
        &["show", "1"],
        &["show", "1", "--format", "json"],
        &["list", "playbook.yaml"],
        &["validate", "playbook.yaml"],
    ] {
        let out = command(args);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
    }
    for args in [&["validate", "broken.yaml"][..], &["run", "broken.yaml"], &["list", "broken.yaml"]] {
        let out = command(args);
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains("unknown field `timout`"), "{args:?}: {}", out.stderr);
    }
    let markdown = command(&["show", "1", "--report", "report.md"]);
    assert_eq!(markdown.code, 0, "{markdown:?}");
    for file in [
        "run.json",
        "report.html",
        "report.html.minisig",
        "junit.xml",
        "journal.log",
        "report.md",
        "notified.txt",
        "mail.txt",
    ] {
        outputs.file(&dir, file);
    }
    let posted = hooks.lock().expect("hooks").clone();
    assert_eq!(posted.len(), 1, "one webhook notification: {posted:?}");
    outputs.0.push(("the webhook notification".to_owned(), posted.join("\n")));
    let (page, metrics) = served(&runbook);
    outputs.0.push(("`serve` GET /".to_owned(), page));
    outputs.0.push(("`serve` GET /metrics".to_owned(), metrics));
    for entry in std::fs::read_dir(dir.path()).expect("list the test folder").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("history.db") {
            outputs.file(&dir, &name);
        }
    }
    let leaks = outputs.leaks();
    assert!(leaks.is_empty(), "{} outputs checked; secret values shown:\n{}", outputs.0.len(), leaks.join("\n"));

    // The steps did reach the values: the errors, the capture and the rendered action are there, masked.
    assert_eq!((text.code, json.code, dry_text.code, dry_json.code), (1, 1, 1, 1), "{}", json.stdout);
    assert!(json.step("no_db")["message"].as_str().is_some_and(|m| m.contains("does not exist")), "{}", json.stdout);
    assert_eq!(json.step("echo")["captured"]["t"], "••••••", "{}", json.stdout);
    assert!(json.step("down")["message"].as_str().is_some_and(|m| m.contains("cannot connect")), "{}", json.stdout);
    assert!(json.step("redis_down")["message"].as_str().is_some_and(|m| m.contains("cannot connect")));
    assert_eq!(
        dry_json.step("flatten")["message"],
        "dry run: would POST http://127.0.0.1:1/flatten [Authorization: Bearer ••••••]",
        "{}",
        dry_json.stdout
    );
    assert!(dry_text.stdout.contains("[Authorization: Bearer ••••••]"), "{}", dry_text.stdout);
    assert_eq!(runs.json().as_array().map(Vec::len), Some(2), "the two runs that are not dry: {}", runs.stdout);
    assert!(
        std::fs::read_to_string(dir.path().join("report.html.minisig"))
            .is_ok_and(|s| s.contains("operator:ops ••••••"))
    );
    // The echo reached the record in every form, masked.
    let said = json.step("echo_text")["captured"]["said"].as_str().unwrap_or_default().to_owned();
    assert!(said.contains(r#""authorization":"Basic ••••••""#), "{said}");
    assert!(said.contains(r#""url":"/echo?pw=••••••"#), "{said}");
    assert!(said.contains(r#"pw\":\"••••••\"#), "{said}");
    assert!(said.contains("&quot;authorization&quot;:&quot;Basic ••••••&quot;"), "{said}");
    let captured = &json.step("echo_json")["captured"];
    assert_eq!(captured["auth"], "Basic ••••••", "{}", json.stdout);
    assert_eq!(captured["url"], "/echo.json?pw=••••••", "{}", json.stdout);
    assert_eq!(captured["body"], r#"{"pw":"••••••"}"#, "{}", json.stdout);
}

/// `serve`'s page and metrics once it has run the playbook.
fn served(runbook: &dyn Fn() -> crate::util::Runbook) -> (String, String) {
    let serve = Background::spawn(runbook().env("RUNBOOK_NO_HISTORY", "1").args([
        "serve",
        "playbook.yaml",
        "--listen",
        "127.0.0.1:0",
        "--every",
        "1h",
    ]));
    serve.wait_until("the address", |_, err| err.contains("serving on http://"));
    let url = crate::scrape::served_url(&serve.stderr());
    let deadline = std::time::Instant::now() + crate::util::BACKGROUND_DEADLINE;
    loop {
        let (_, page) = crate::sim::http("GET", &format!("{url}/"), None);
        let page = page.as_str().unwrap_or_default().to_owned();
        if page.contains("echo_json") {
            let (_, metrics) = crate::sim::http("GET", &format!("{url}/metrics"), None);
            return (page, metrics.as_str().unwrap_or_default().to_owned());
        }
        assert!(std::time::Instant::now() < deadline, "serve never showed a run:\n{page}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

fn set_mode(dir: &TestDir, name: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path().join(name), std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn a_secret_file_others_can_open_gets_a_warning_naming_it_and_the_run_goes_on() {
    let dir = TestDir::new();
    dir.write(
        "playbook.yaml",
        r#"
name: secret file
secrets: { token: { file: token.txt } }
sections:
  - name: s
    steps:
      - id: echo
        title: the command gets the token
        shell: { run: 'echo "$T"', env: { T: "{{secrets.token}}" } }
        capture: { said: $.stdout }
"#,
    );
    dir.write("token.txt", &format!("{TOKEN}\n"));
    for (mode, warned) in [(0o644, true), (0o640, true), (0o604, true), (0o600, false), (0o400, false)] {
        set_mode(&dir, "token.txt", mode);
        let out = dir.runbook().args(["run", "playbook.yaml", "--format", "json"]).run();
        assert_eq!(out.code, 0, "mode {mode:o}: {out:?}");
        assert_eq!(out.step("echo")["captured"]["said"], "••••••", "mode {mode:o}: the token was read and masked");
        let warning = format!(
            "warning: secret `token`: `./token.txt` is accessible to users other than its owner (mode {mode:o}); \
             run `chmod 600 ./token.txt`\n"
        );
        assert_eq!(out.stderr.contains(&warning), warned, "mode {mode:o}: {}", out.stderr);
        assert_eq!(out.stderr.contains("warning"), warned, "mode {mode:o}: {}", out.stderr);
        assert!(!out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN), "mode {mode:o}: {out:?}");
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
    let mut outputs = Outputs::default();
    outputs.command("run", &out);
    assert_eq!(outputs.leaks(), Vec::<String>::new());
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
