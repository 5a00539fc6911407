//! The `http` probe over TLS against an HTTPS server on 127.0.0.1 whose
//! certificate comes from a CA the test just made, so no system root trusts
//! it: verification is on by default, `insecure: true` turns it off for one
//! step, and every output of the run says so (one field, `insecure`, in the
//! record every format renders).

use crate::tls::{TlsServer, make_ca, make_leaf};
use crate::util::TestDir;

/// An HTTPS server for `localhost` with a certificate signed by a CA the machine does not know.
fn untrusted_server(dir: &TestDir) -> TlsServer {
    make_ca(dir.path());
    make_leaf(dir.path(), "server", "localhost", 30);
    TlsServer::https(&dir.path().join("server.pem"), &dir.path().join("server.key"))
}

/// One step against the server, `http_extra` added to its `http:` map, and a shell step beside it.
fn write_playbook(dir: &TestDir, port: u16, http_extra: &str) {
    dir.write(
        "playbook.yaml",
        &format!(
            r#"name: https
sections:
  - name: Transport
    steps:
      - id: api
        title: API over HTTPS
        http: {{ url: "https://localhost:{port}/health"{http_extra} }}
        timeout: 10s
        expect: ['status == 200', 'body.ok']
      - id: local
        title: A step without TLS
        shell: {{ run: "echo ok" }}
"#
        ),
    );
}

#[test]
fn an_untrusted_certificate_is_an_error_naming_the_failed_verification() {
    let dir = TestDir::new();
    let server = untrusted_server(&dir);
    write_playbook(&dir, server.port, "");
    let out = dir.runbook().args(["run", "playbook.yaml", "--format", "json"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("api");
    assert_eq!(step["verdict"], "error", "{step}");
    let message = step["message"].as_str().unwrap_or_default();
    let expected = format!("GET https://localhost:{}/health: TLS certificate verification failed: ", server.port);
    assert!(message.starts_with(&expected) && message.contains("UnknownIssuer"), "{message}");
    assert!(step.get("insecure").is_none(), "verification was on: {step}");
}

#[test]
fn insecure_true_on_one_step_passes_and_every_output_says_verification_was_off() {
    let dir = TestDir::new();
    let server = untrusted_server(&dir);
    write_playbook(&dir, server.port, ", insecure: true");
    let run = |extra: &[&str]| dir.runbook().args(["run", "playbook.yaml"]).args(extra).run();
    let text = run(&["--out", "run.json", "--format", "json", "--report", "report.md", "--junit", "junit.xml"]);
    assert_eq!(text.code, 0, "{text:?}");
    for report in ["report.html", "report.txt"] {
        let out = run(&["--report", report]);
        assert_eq!(out.code, 0, "{out:?}");
    }

    let record: serde_json::Value = serde_json::from_str(&read(&dir, "run.json")).expect("run.json is JSON");
    let steps = record["steps"].as_array().expect("steps");
    assert_eq!(steps[0]["verdict"], "pass", "{}", steps[0]);
    assert_eq!(steps[0]["insecure"], true, "{}", steps[0]);
    assert!(steps[1].get("insecure").is_none(), "only the step that asked: {}", steps[1]);

    let api_line = |what: &str, text: &str, marker: &str| {
        let line = text.lines().find(|l| l.contains("API over HTTPS")).unwrap_or_default();
        assert!(line.contains(marker), "{what}: the step's line does not say `{marker}`:\n{text}");
        let other = text.lines().find(|l| l.contains("A step without TLS")).unwrap_or_default();
        assert!(!other.contains(marker), "{what}: the other step says `{marker}` too:\n{text}");
    };
    api_line("terminal", &text.stdout, "(TLS verification off)");
    for report in ["report.md", "report.html", "report.txt"] {
        api_line(report, &read(&dir, report), "(TLS verification off)");
    }
    let junit = read(&dir, "junit.xml");
    crate::report_junit::assert_valid(&dir.path().join("junit.xml"));
    let api_case = junit.split("<testcase").find(|c| c.contains("[api]")).unwrap_or_default();
    assert!(api_case.contains("tls_verification: off"), "{junit}");
    assert_eq!(junit.matches("tls_verification").count(), 1, "{junit}");
}

fn read(dir: &TestDir, name: &str) -> String {
    std::fs::read_to_string(dir.path().join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

/// The roots load on the first handshake, not when the client is made, and they are the
/// platform's: a CA named by `SSL_CERT_FILE` is trusted, and the step passes verified.
#[test]
fn a_certificate_from_a_ca_the_platform_trusts_passes_verified() {
    let dir = TestDir::new();
    let server = untrusted_server(&dir);
    write_playbook(&dir, server.port, "");
    let ca = dir.path().join("ca.pem");
    let out = dir
        .runbook()
        .args(["run", "playbook.yaml", "--format", "json"])
        .env("SSL_CERT_FILE", ca.to_str().unwrap())
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let step = out.step("api");
    assert_eq!(step["verdict"], "pass", "{step}");
    assert!(step.get("insecure").is_none(), "verification was on: {step}");
}

/// Without any root certificate, an https step is an error that says so, and a plain
/// http step beside it still runs: the roots are loaded only for a handshake.
#[test]
fn without_root_certificates_https_errors_and_plain_http_still_runs() {
    let dir = TestDir::new();
    let server = untrusted_server(&dir);
    let plain = crate::util::HttpServer::start(axum::Router::new().route("/", axum::routing::get(|| async { "ok" })));
    dir.write(
        "playbook.yaml",
        &format!(
            r#"name: no roots
sections:
  - name: Transport
    steps:
      - id: api
        title: API over HTTPS
        http: {{ url: "https://localhost:{}/health" }}
        expect: ['status == 200']
      - id: plain
        title: API over plain HTTP
        http: {{ url: "{}" }}
        expect: ['status == 200']
"#,
            server.port, plain.url
        ),
    );
    dir.write("empty.pem", "");
    let empty = dir.path().join("empty.pem");
    let out = dir
        .runbook()
        .args(["run", "playbook.yaml", "--format", "json"])
        .env("SSL_CERT_FILE", empty.to_str().unwrap())
        .env("SSL_CERT_DIR", empty.to_str().unwrap())
        .run();
    assert_eq!(out.code, 1, "{out:?}");
    let api = out.step("api");
    assert_eq!(api["verdict"], "error", "{api}");
    assert!(api["message"].as_str().unwrap_or_default().contains("CA certificates"), "{api}");
    assert_eq!(out.step("plain")["verdict"], "pass", "{out:?}");
}
