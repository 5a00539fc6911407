//! The `nagios` probe with real monitoring plugins (Debian's
//! `monitoring-plugins-basic`, installed by `.ci/services.sh`): the plugin's
//! state is the verdict, its perfdata becomes values with units that
//! expressions, captures and history read.

use std::net::TcpListener;

use crate::util::{HttpServer, TestDir, run_playbook};

#[test]
fn each_plugin_state_is_a_verdict() {
    let out = run_playbook(
        r#"
name: plugin states
sections:
  - name: Dummy
    steps:
      - { id: ok, title: OK passes, nagios: { argv: [check_dummy, "0", "all good"] } }
      - { id: warning, title: WARNING warns, nagios: { argv: [check_dummy, "1", "getting full"] } }
      - { id: critical, title: CRITICAL fails, nagios: { argv: [check_dummy, "2", "full"] } }
      - { id: unknown, title: UNKNOWN is an error, nagios: { argv: [check_dummy, "3", "cannot tell"] } }
      - { id: other, title: no state is an error, nagios: { argv: [sh, -c, "echo odd; exit 7"] } }
      - { id: missing, title: a missing plugin is an error, nagios: { argv: [check_no_such_plugin] } }
      - id: stricter
        title: expect adds to an OK state
        nagios: { argv: [check_dummy, "0", "all good"] }
        expect: ['output == "nope"']
"#,
        &["--format", "json"],
    );
    assert_eq!(out.code, 1, "{out:?}");
    let verdict = |id: &str| out.step(id)["verdict"].as_str().unwrap_or_default().to_owned();
    assert_eq!(verdict("ok"), "pass");
    assert_eq!(verdict("warning"), "warn");
    assert_eq!(out.step("warning")["message"], "the plugin said WARNING: WARNING: getting full");
    assert_eq!(verdict("critical"), "fail");
    assert_eq!(out.step("critical")["message"], "the plugin said CRITICAL: CRITICAL: full");
    assert_eq!(verdict("unknown"), "error");
    assert_eq!(out.step("unknown")["message"], "UNKNOWN: UNKNOWN: cannot tell");
    assert_eq!(verdict("other"), "error");
    assert_eq!(out.step("other")["message"], "`sh` exited 7, which is no plugin state (0-3): odd");
    assert_eq!(verdict("missing"), "error");
    assert_eq!(out.step("missing")["error_kind"], "io");
    assert_eq!(verdict("stricter"), "fail");
}

#[test]
fn check_tcp_reports_a_listening_port_with_its_response_time_and_a_closed_one_as_critical() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let open = listener.local_addr().expect("addr").port();
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let out = run_playbook(
        &format!(
            r#"
name: ports
sections:
  - name: TCP
    steps:
      - id: open
        title: The port answers
        nagios: {{ argv: [check_tcp, -H, 127.0.0.1, -p, "{open}", -w, "5", -c, "10"] }}
        capture: {{ connect_s: $.perfdata.time.base }}
        expect: ['state == "OK"', 'perfdata.time.uom == "s"', 'connect_s >= 0.0', 'perf.time < 10.0']
      - id: closed
        title: The port is closed
        nagios: {{ argv: [check_tcp, -H, 127.0.0.1, -p, "{closed}"] }}
"#
        ),
        &["--format", "json"],
    );
    assert_eq!(out.step("open")["verdict"], "pass", "{}", out.stdout);
    assert!(out.step("open")["captured"]["connect_s"].is_f64(), "{}", out.stdout);
    assert_eq!(out.step("closed")["verdict"], "fail", "{}", out.stdout);
    assert!(
        out.step("closed")["message"].as_str().unwrap_or_default().contains("Connection refused"),
        "{}",
        out.stdout
    );
}

#[test]
fn check_http_perfdata_carries_units_normalised_to_seconds_and_bytes() {
    let body = "x".repeat(1000);
    let server = HttpServer::start(axum::Router::new().route("/", axum::routing::get(move || async move { body })));
    let port = server.url.rsplit(':').next().unwrap_or_default().to_owned();
    let out = run_playbook(
        &format!(
            r#"
name: web
sections:
  - name: HTTP
    steps:
      - id: page
        title: The page answers
        nagios: {{ argv: [check_http, -H, 127.0.0.1, -p, "{port}", -u, /, -s, xxxx] }}
        capture: {{ bytes: $.perfdata.size.base, seconds: $.perfdata.time.base }}
        expect: ['perfdata.size.uom == "B"', 'bytes > 1000.0', 'perfdata.time.base_uom == "s"', 'seconds >= 0.0']
"#
        ),
        &["--format", "json"],
    );
    assert_eq!(out.step("page")["verdict"], "pass", "{}", out.stdout);
    assert_eq!(out.step("page")["checks"].as_array().map(Vec::len), Some(4));
}

#[test]
fn check_disk_and_check_load_values_reach_expressions_and_history() {
    let dir = TestDir::new();
    let history = dir.path().join("history.db");
    dir.write(
        "host.yaml",
        r#"
name: host
sections:
  - name: Host
    steps:
      - id: root_disk
        title: Root file system has room
        nagios: { argv: [check_disk, -w, "1%", -c, "0%", -p, /] }
        capture: { used: "$.perfdata['/'].base" }
        expect: ['used > 0.0', 'perfdata["/"].max > 0.0', 'prev("used") > 0.0']
        on_no_history: pass
      - id: load
        title: Load is reported
        nagios: { argv: [check_load, -w, "1000,1000,1000", -c, "2000,2000,2000"] }
        capture: { load1: $.perf.load1 }
        expect: ['load1 >= 0.0', 'size(perfdata) == 3']
"#,
    );
    let run = || {
        dir.runbook()
            .with_history()
            .args(["run", "host.yaml", "--format", "json", "--history", history.to_str().unwrap_or_default()])
            .run()
    };
    let first = run();
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.step("root_disk")["not_judged"].is_object(), "{}", first.stdout);
    let second = run();
    assert_eq!(second.code, 0, "{second:?}");
    assert!(second.step("root_disk")["not_judged"].is_null(), "{}", second.stdout);
    assert!(second.step("load")["captured"]["load1"].is_f64(), "{}", second.stdout);
}

#[test]
fn long_text_and_perfdata_on_later_lines_are_read() {
    let dir = TestDir::new();
    let plugin = dir.write(
        "check_multi",
        "#!/bin/sh\nprintf '%s\\n' \"MULTI OK - 2 queues | 'queue depth'=3;10;20\" 'orders: 3 waiting' \"fills: 0 waiting | 'it''s late'=250ms;;;0\" 'lag=2KB'\n",
    );
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    dir.write(
        "p.yaml",
        r#"
name: multi
sections:
  - name: Queues
    steps:
      - id: queues
        title: Queues drain
        nagios: { argv: [./check_multi] }
        expect:
          - 'output == "MULTI OK - 2 queues"'
          - 'long_output == "orders: 3 waiting\nfills: 0 waiting"'
          - 'perf["queue depth"] == 3.0'
          - 'perfdata["it''s late"].base == 0.25'
          - 'perfdata.lag.base == 2048.0'
          - 'size(perfdata_problems) == 0'
"#,
    );
    let out = dir.runbook().args(["run", "p.yaml", "--format", "json"]).run();
    assert_eq!(out.step("queues")["verdict"], "pass", "{}", out.stdout);
}

#[test]
fn a_plugin_past_the_step_timeout_is_an_error() {
    let out = run_playbook(
        r#"
name: slow
sections:
  - name: s
    steps:
      - { id: slow, title: A hung plugin, timeout: 1s, nagios: { argv: [sleep, "30"] } }
"#,
        &["--format", "json"],
    );
    assert_eq!(out.step("slow")["verdict"], "error", "{}", out.stdout);
    assert_eq!(out.step("slow")["error_kind"], "timeout", "{}", out.stdout);
}
