//! The `redis` probe against the machine's Redis on 127.0.0.1:6379. Keys are
//! unique per test and deleted afterwards.

use std::time::{Duration, Instant};

use crate::sql::{playbook, unique};
use crate::util::run_playbook;

const URL: &str = "redis://127.0.0.1:6379";

fn step(id: &str, command: &str, extra: &str) -> String {
    format!("      - id: {id}\n        title: {id}\n        redis: {{ url: {URL:?}, command: {command:?} }}\n{extra}")
}

fn write_step(id: &str, command: &str, extra: &str) -> String {
    format!(
        "      - id: {id}\n        title: {id}\n        redis: {{ url: {URL:?}, command: {command:?}, write: true }}\n{extra}"
    )
}

#[test]
fn ping_info_and_reads_of_keys_the_test_wrote() {
    let key = unique("rb_key");
    let list = unique("rb_list");
    let steps = [
        step("ping", "PING", "        expect: ['reply == \"PONG\"']\n"),
        step(
            "info",
            "INFO memory",
            "        capture: { used: $.used_memory, human: $.used_memory_human }\n        expect: ['used_memory > 0', 'reply.contains(\"used_memory:\")']\n",
        ),
        write_step("set", &format!("SET {key} \"hello world\""), "        expect: ['reply == \"OK\"']\n"),
        write_step("push", &format!("RPUSH {list} a b c"), "        expect: ['reply == 3']\n"),
        step("get", &format!("GET {key}"), "        needs: [set]\n        expect: ['reply == \"hello world\"']\n"),
        step("len", &format!("LLEN {list}"), "        needs: [push]\n        expect: ['reply == 3']\n"),
        step(
            "range",
            &format!("LRANGE {list} 0 -1"),
            "        needs: [push]\n        expect: ['reply == [\"a\", \"b\", \"c\"]']\n",
        ),
        write_step(
            "cleanup",
            &format!("DEL {key} {list}"),
            "        needs: [get, len, range]\n        expect: ['reply == 2']\n",
        ),
    ];
    let out = run_playbook(&playbook(&steps.concat()), &["--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let info = out.step("info");
    assert!(info["captured"]["used"].as_i64().is_some_and(|n| n > 0), "used_memory is a number: {info}");
    assert!(info["captured"]["human"].as_str().is_some_and(|h| h.ends_with(['K', 'M', 'G', 'B'])), "{info}");
}

#[test]
fn a_write_command_needs_write_true() {
    let key = unique("rb_refused");
    let out = run_playbook(&playbook(&step("w", &format!("SET {key} x"), "")), &[]);
    assert_eq!(out.code, 2, "refused when the playbook is checked: {out:?}");
    assert!(
        out.stderr.contains("`SET` is not a read-only command") && out.stderr.contains("write: true"),
        "{}",
        out.stderr
    );
    // Templated, it is refused when the step runs.
    let text = playbook(&step("w", "{{vars.cmd}}", ""))
        .replace("sections:", &format!("vars: {{ cmd: \"SET {key} x\" }}\nsections:"));
    let out = run_playbook(&text, &["--format", "json"]);
    let w = out.step("w");
    assert_eq!(w["verdict"], "error", "{}", out.stdout);
    assert!(w["message"].as_str().is_some_and(|m| m.contains("not a read-only command")), "{w}");
    let check = run_playbook(&playbook(&step("e", &format!("EXISTS {key}"), "        expect: ['reply == 0']\n")), &[]);
    assert_eq!(check.code, 0, "nothing was written: {}", check.stdout);
}

#[test]
fn a_blocked_command_ends_at_the_deadline_and_later_steps_still_run() {
    let key = unique("rb_block");
    let steps = [
        write_step("block", &format!("BLPOP {key} 0"), "        timeout: 1s\n"),
        step("after", "PING", "        needs: []\n        expect: ['reply == \"PONG\"']\n"),
    ];
    let started = Instant::now();
    let out = run_playbook(&playbook(&steps.concat()), &["--format", "json", "--jobs", "1"]);
    let took = started.elapsed();
    let block = out.step("block");
    assert_eq!(block["verdict"], "error", "{}", out.stdout);
    assert!(block["message"].as_str().is_some_and(|m| m.contains("timed out after 1s")), "{block}");
    assert_eq!(out.step("after")["verdict"], "pass", "{}", out.stdout);
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn a_closed_port_and_a_server_error_are_errors() {
    let steps = format!(
        "      - id: down\n        title: down\n        timeout: 3s\n        redis: {{ url: \"redis://:pw-secret-2@127.0.0.1:1\", command: PING }}\n{}",
        step("bad", "GET", "")
    );
    let started = Instant::now();
    let out = run_playbook(&playbook(&steps), &["--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(started.elapsed() < Duration::from_secs(13));
    let down = out.step("down");
    assert_eq!(down["verdict"], "error");
    let message = down["message"].as_str().unwrap_or_default();
    assert!(message.contains("cannot connect to `redis://127.0.0.1:1`") && message.contains("refused"), "{message}");
    assert!(!out.stdout.contains("pw-secret-2"));
    let bad = out.step("bad");
    assert_eq!(bad["verdict"], "error");
    assert!(bad["message"].as_str().is_some_and(|m| m.contains("wrong number of arguments")), "{bad}");
}
