//! Values never become code or structure: hostile values (vars, or captured
//! from a server) reach a shell `run` script as environment variables in every
//! quoting context (printed back unchanged, nothing they say runs); places in a
//! script that cannot hold a value safely are refused before anything runs; a
//! Redis argument stays one argument; URL parts are percent-encoded; a template
//! in an SQL `query` is refused (values go in `params`, which are bound).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::Uri;
use axum::routing::get;

use crate::util::{HttpServer, TestDir};

/// Each would create `PWNED` in the working folder if it reached the shell as syntax.
const HOSTILE: [&str; 10] = [
    "'; touch PWNED #",
    "$(touch PWNED)",
    "`touch PWNED`",
    "a\ntouch PWNED",
    "\"; touch PWNED; echo \"",
    "x' && touch PWNED && echo '",
    "${IFS}; touch PWNED | \\",
    "x\nEOF\ntouch PWNED\ncat <<EOF",
    "') $(touch PWNED) ('",
    "é \\ % & \t end",
];

/// Scripts that print `{{vars.v}}` into `out`, one per quoting context, with
/// what `out` must then hold for a value `v`.
const CONTEXTS: [(&str, &str, &str); 8] = [
    ("unquoted", "printf %s {{vars.v}} > out", ""),
    ("double", "printf %s \"{{vars.v}}\" > out", ""),
    ("single", "printf %s '{{vars.v}}' > out", ""),
    ("mixed", "printf %s \"<\"'{{vars.v}}'\">\" > out", "<>"),
    ("dollar_paren", "x=\"$(printf '%s.' {{vars.v}})\"; printf %s \"${x%.}\" > out", ""),
    ("backtick", "x=`printf '%s.' '{{vars.v}}'`; printf %s \"${x%.}\" > out", ""),
    ("heredoc", "cat <<EOF > out\n{{vars.v}}\nEOF", "\n"),
    ("comment", "printf %s {{vars.v}} > out # not {{vars.v}}", ""),
];

/// What `out` holds for `value` in a context whose marker is `marker`.
fn expected(value: &str, marker: &str) -> String {
    match marker {
        "<>" => format!("<{value}>"),
        "\n" => format!("{value}\n"),
        _ => value.to_owned(),
    }
}

#[test]
fn hostile_values_stay_data_in_every_quoting_context() {
    let dir = TestDir::new();
    let mut book = String::from("name: contexts\nvars: { v: \"\" }\nsections:\n  - name: s\n    steps:\n");
    for (name, script, _) in CONTEXTS {
        let run = serde_json::to_string(&format!("cd {name} && {script}")).expect("json");
        book.push_str(&format!(
            "      - id: {name}\n        title: {name}\n        shell: {{ run: {run} }}\n        expect: ['exit_code == 0']\n"
        ));
    }
    dir.write("playbook.yaml", &book);
    for value in HOSTILE {
        for (name, ..) in CONTEXTS {
            let folder = dir.path().join(name);
            let _ = std::fs::remove_dir_all(&folder);
            std::fs::create_dir(&folder).expect("mkdir");
        }
        let out = dir.runbook().args(["run", "playbook.yaml", "--var", &format!("v={value}")]).run();
        assert_eq!(out.code, 0, "{value:?}: {out:?}");
        for (name, _, marker) in CONTEXTS {
            let folder = dir.path().join(name);
            let printed = std::fs::read_to_string(folder.join("out")).expect("the command ran");
            assert_eq!(printed, expected(value, marker), "{name}: {value:?} came back changed");
            assert!(!folder.join("PWNED").exists(), "{name}: {value:?} ran as a command");
        }
    }
}

#[test]
fn a_var_in_double_quotes_is_not_run() {
    let dir = TestDir::new();
    dir.write(
        "playbook.yaml",
        "name: q\nvars: { v: \"\" }\nsections:\n  - name: s\n    steps:\n      - id: e\n        title: e\n        \
         shell: { run: 'echo \"x{{vars.v}}y\" > out' }\n        expect: ['exit_code == 0']\n",
    );
    let out = dir.runbook().args(["run", "playbook.yaml", "--var", "v=$(touch pwned)"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(std::fs::read_to_string(dir.path().join("out")).expect("ran"), "x$(touch pwned)y\n");
    assert!(!dir.path().join("pwned").exists(), "the value ran as a command");
}

#[test]
fn a_value_captured_from_a_server_is_not_run() {
    let server = HttpServer::start(Router::new().route(
        "/version",
        get(|| async { axum::Json(serde_json::json!({"version": "1.2$(touch pwned)`touch pwned2`\"; touch pwned3"})) }),
    ));
    let dir = TestDir::new();
    dir.write(
        "playbook.yaml",
        &format!(
            "name: captured\nsections:\n  - name: s\n    steps:\n      - id: version\n        title: version\n        \
             http: {{ url: \"{}/version\" }}\n        capture: {{ version: $.body.version }}\n      \
             - id: log\n        title: log\n        shell: {{ run: 'echo \"version {{{{steps.version.version}}}}\" >> ops.log' }}\n        \
             expect: ['exit_code == 0']\n",
            server.url
        ),
    );
    let out = dir.runbook().args(["run", "playbook.yaml"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    let log = std::fs::read_to_string(dir.path().join("ops.log")).expect("the step wrote the log");
    assert_eq!(log, "version 1.2$(touch pwned)`touch pwned2`\"; touch pwned3\n");
    for file in ["pwned", "pwned2", "pwned3"] {
        assert!(!dir.path().join(file).exists(), "the server's value ran as a command ({file})");
    }
}

#[test]
fn a_place_no_value_can_hold_is_refused_before_anything_runs() {
    let dir = TestDir::new();
    dir.write(
        "playbook.yaml",
        "name: q\nvars: { n: \"1\" }\nsections:\n  - name: s\n    steps:\n      - id: first\n        title: first\n        \
         shell: { run: touch ran }\n      - id: sum\n        title: sum\n        needs: [first]\n        \
         shell: { run: 'echo $(( {{vars.n}} + 1 ))' }\n",
    );
    for command in ["validate", "run"] {
        let out = dir.runbook().args([command, "playbook.yaml"]).run();
        assert_eq!(out.code, 2, "{command}: {out:?}");
        assert!(
            out.stderr.contains("playbook.yaml:12:33: `{{vars.n}}` cannot stand inside `$((…))`")
                && out.stderr.contains("put the value in `env:`"),
            "{command}: {}",
            out.stderr
        );
    }
    assert!(!dir.path().join("ran").exists(), "a step ran although the playbook was refused");
}

#[test]
fn a_value_with_a_nul_byte_is_a_clean_step_error() {
    let dir = TestDir::new();
    dir.write(
        "playbook.yaml",
        "name: q\nvars: { v: \"a\\0b\" }\nsections:\n  - name: s\n    steps:\n      - id: e\n        title: e\n        \
         shell: { run: 'printf %s {{vars.v}}' }\n",
    );
    let out = dir.runbook().args(["run", "playbook.yaml", "--format", "json"]).run();
    let step = out.step("e");
    assert_eq!(step["verdict"], "error", "{out:?}");
    assert!(step["message"].as_str().is_some_and(|m| m.contains("NUL byte")), "{step}");
}

#[test]
fn a_redis_value_with_spaces_is_one_argument() {
    let key = crate::sql::unique("rb_session");
    // Split on its space, the value would name two keys the test set to `wrong`.
    let spaced = format!("{key} {key}_2");
    let url = "redis://127.0.0.1:6379";
    let step = |id: &str, command: &str, write: bool, extra: &str| {
        format!(
            "      - id: {id}\n        title: {id}\n        redis: {{ url: {url:?}, command: {command:?}, write: {write} }}\n{extra}"
        )
    };
    let steps = [
        step("one", "SET {{vars.key}} spaced", true, ""),
        step("two", &format!("MSET {key} wrong {key}_2 wrong"), true, ""),
        step(
            "read",
            "MGET {{vars.key}}",
            false,
            "        needs: [one, two]\n        expect: ['reply == [\"spaced\"]']\n",
        ),
        step("odd", "MGET \"{{vars.odd}}\"", false, "        needs: [one]\n        expect: ['reply == [null]']\n"),
        step("clean", &format!("DEL {{{{vars.key}}}} {key} {key}_2"), true, "        needs: [read, odd]\n"),
    ];
    let book =
        format!("name: r\nvars: {{ key: \"\", odd: \"\" }}\nsections:\n  - name: s\n    steps:\n{}", steps.concat());
    let dir = TestDir::new();
    dir.write("playbook.yaml", &book);
    let odd = format!("{key} \"x\r\nPING\r\n");
    let out = dir
        .runbook()
        .args(["run", "playbook.yaml", "--format", "json", "--var", &format!("key={spaced}"), "--var"])
        .args([format!("odd={odd}")])
        .run();
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_eq!(out.step("clean")["verdict"], "pass", "{}", out.stdout);
}

/// A server that records the raw request target of every request.
fn recording_server() -> (HttpServer, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let router = Router::new().fallback(get(move |uri: Uri| {
        let log = log.clone();
        async move {
            log.lock().expect("log").push(uri.to_string());
            "ok"
        }
    }));
    (HttpServer::start(router), seen)
}

#[test]
fn url_values_are_encoded_for_their_part() {
    let (server, seen) = recording_server();
    let port = server.url.rsplit(':').next().expect("port").to_owned();
    let dir = TestDir::new();
    dir.write(
        "playbook.yaml",
        "name: u\nvars: { base: \"\", seg: \"\", q: \"\", port: \"\" }\nsections:\n  - name: s\n    steps:\n      \
         - id: parts\n        title: parts\n        http: { url: \"{{vars.base}}/items/{{vars.seg}}?q={{vars.q}}&x=1\" }\n      \
         - id: port\n        title: port\n        needs: [parts]\n        http: { url: \"http://127.0.0.1:{{vars.port}}/p/{{vars.q}}\" }\n      \
         - id: bad_port\n        title: bad port\n        http: { url: \"http://127.0.0.1:{{vars.seg}}/x\" }\n      \
         - id: header\n        title: header\n        http: { url: \"{{vars.base}}/h\", headers: { X-A: \"a{{vars.seg}}\" } }\n      \
         - id: not_a_base\n        title: not a base\n        http: { url: \"{{vars.seg}}/x\" }\n",
    );
    let seg = "a/b?c#d %e\r\nX-Evil: 1";
    let q = "x&y=z+w #%é";
    let out = dir
        .runbook()
        .args(["run", "playbook.yaml", "--format", "json"])
        .args(["--var", &format!("base={}", server.url), "--var", &format!("seg={seg}")])
        .args(["--var", &format!("q={q}"), "--var", &format!("port={port}")])
        .run();
    assert_eq!(out.step("parts")["verdict"], "pass", "{}", out.stdout);
    assert_eq!(out.step("port")["verdict"], "pass", "{}", out.stdout);
    let seen = seen.lock().expect("log").clone();
    assert_eq!(
        seen,
        [
            "/items/a%2Fb%3Fc%23d%20%25e%0D%0AX-Evil%3A%201?q=x%26y%3Dz%2Bw%20%23%25%C3%A9&x=1",
            "/p/x%26y%3Dz%2Bw%20%23%25%C3%A9",
        ],
        "the server saw these request targets"
    );
    for (id, says) in [("bad_port", "may hold only"), ("header", "line break"), ("not_a_base", "not an absolute URL")] {
        let step = out.step(id);
        assert_eq!(step["verdict"], "error", "{step}");
        assert!(step["message"].as_str().is_some_and(|m| m.contains(says)), "{id}: {step}");
    }
}

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

/// A probed server's value holding terminal escapes (set the title, ring the
/// bell, clear the screen) reaches the operator's checklist as visible
/// pictures, and so does a playbook's own line in an error snippet.
#[test]
fn terminal_escapes_from_a_server_or_a_playbook_never_reach_the_terminal() {
    let server = HttpServer::start(Router::new().route(
        "/status",
        get(|| async { axum::Json(serde_json::json!({"state": "\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m"})) }),
    ));
    let dir = TestDir::new();
    dir.write(
        "p.yaml",
        &format!(
            "name: escapes\nsections:\n  - name: s\n    steps:\n      - id: status\n        title: status\n        \
             http: {{ url: \"{}/status\" }}\n        capture: {{ state: $.body.state }}\n        \
             expect: ['state == \"ok\"']\n",
            server.url
        ),
    );
    let out = dir.runbook().args(["run", "p.yaml", "--no-history"]).env("NO_COLOR", "1").run();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        !out.stdout.contains(['\u{1b}', '\u{7}', '\u{9b}']),
        "a control character reached stdout: {:?}",
        out.stdout
    );
    assert!(out.stdout.contains("owned") && out.stdout.contains('\u{fffd}'), "{}", out.stdout);

    dir.write("bad.yaml", "name: x\nsections:\n  - name: \"\u{1b}[2J\"\n    stepz: []\n");
    let out = dir.runbook().args(["validate", "bad.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(!out.stderr.contains('\u{1b}'), "a control character reached stderr: {:?}", out.stderr);
    assert!(out.stderr.contains("␛[2J"), "{}", out.stderr);
}
