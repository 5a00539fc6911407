//! The `tcp` probe against real listeners on 127.0.0.1.

use crate::util::run_playbook;

fn playbook(port: &str, expect: &str) -> String {
    format!(
        r#"
name: tcp
vars: {{ port: {port} }}
sections:
  - name: ports
    steps:
      - id: probe
        title: port check
        tcp: {{ host: 127.0.0.1, port: "{{{{vars.port}}}}" }}
        timeout: 5s
        expect: ['{expect}']
"#
    )
}

/// A port nothing listens on: bound once, then released.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn a_listening_port_is_open_with_a_templated_port() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = run_playbook(&playbook(&port.to_string(), "open"), &["--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let step = out.step("probe");
    assert_eq!(step["verdict"], "pass");
    let out = run_playbook(&playbook(&port.to_string(), "!open"), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("open = true → expected !open"), "{}", out.stdout);
}

#[test]
fn a_refused_connection_is_a_closed_port_not_an_error() {
    let port = free_port();
    let out = run_playbook(&playbook(&port.to_string(), "!open"), &["--format", "json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.step("probe")["verdict"], "pass");
    let out = run_playbook(&playbook(&port.to_string(), "open"), &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("open = false → expected open"), "{}", out.stdout);
}

#[test]
fn the_address_and_error_are_observed() {
    let port = free_port();
    let out = run_playbook(
        &playbook(&port.to_string(), &format!(r#"address == "127.0.0.1:{port}" && error.contains("refused")"#)),
        &[],
    );
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn a_port_that_is_no_number_is_refused_before_the_run() {
    let out = run_playbook(
        r#"
name: tcp
sections:
  - name: ports
    steps:
      - id: probe
        title: port check
        tcp: { host: 127.0.0.1, port: http }
"#,
        &[],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("`port` is `http`, which is not a valid number here"), "{}", out.stderr);
}
