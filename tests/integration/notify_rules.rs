//! A playbook's own `notify:` section next to a `--notify` file: both apply.
//! The playbook's target is an email through a fake `sendmail` (a real
//! script that keeps what it was given) that only critical failures reach;
//! the file's target is a command that hears every failure. Each hears once
//! when its kind of fault starts and once when it ends, and no secret
//! reaches either.

use crate::util::{Background, TestDir};

const SECRET: &str = "tok-n0tify-rules-4711";

const PLAYBOOK: &str = r#"
name: Severities
secrets:
  token: { env: NOTIFY_RULES_TOKEN }
sections:
  - name: Alerts
    steps:
      - id: breaker
        title: Circuit breaker not triggered
        shell: { run: 'printf "%s %s" "$(cat breaker)" "$TOKEN"', env: { TOKEN: "{{secrets.token}}" } }
        capture: { state: $.stdout }
        expect: ['state.startsWith("off")']
      - id: latency
        title: Signal latency < 200ms
        severity: warning
        shell: { run: "cat latency", json: true }
        capture: { p99: $.json }
        expect: ['p99 < 200']
notify:
  - sendmail:
      to: [ops@titan.example, risk@titan.example]
      from: runbook <runbook@titan.example>
      subject: "[{{upper event}}] {{playbook}}"
      path: SENDMAIL
    min_severity: critical
"#;

/// What a fake program was given, one entry per call.
fn calls(dir: &TestDir, file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.path().join(file)).unwrap_or_default();
    text.split("--END--\n").filter(|m| !m.is_empty()).map(str::to_owned).collect()
}

fn runs(stdout: &str) -> usize {
    stdout.matches("Severities  (").count()
}

#[test]
fn a_critical_only_email_and_an_every_failure_command_each_hear_their_own_faults_once() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TestDir::new();
    let mails = dir.path().join("mails.txt");
    let sendmail = dir.write(
        "bin/sendmail",
        &format!("#!/bin/sh\n{{ echo \"ARGS: $*\"; cat; echo \"--END--\"; }} >> '{}'\n", mails.display()),
    );
    std::fs::set_permissions(&sendmail, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir.write("severities.yaml", &PLAYBOOK.replace("SENDMAIL", sendmail.to_str().unwrap()));
    dir.write(
        "notify.yaml",
        "notify:\n  - command: [\"sh\", \"-c\", \"cat >> commands.txt; echo --END-- >> commands.txt\"]\n",
    );
    dir.write("breaker", "off");
    dir.write("latency", "45");
    let mut watch = Background::spawn(dir.runbook().env("NOTIFY_RULES_TOKEN", SECRET).args([
        "watch",
        "severities.yaml",
        "--every",
        "1s",
        "--notify",
        "notify.yaml",
    ]));
    let mails = || calls(&dir, "mails.txt");
    let commands = || calls(&dir, "commands.txt");
    let after = |more: usize| {
        let from = runs(&watch.stdout());
        watch.wait_until(&format!("{more} more runs"), |out, _| runs(out) >= from + more);
    };
    after(2);
    assert!(mails().is_empty() && commands().is_empty(), "a clean start sends nothing");

    // A warning-level fault: the command hears it, the critical-only email does not.
    dir.write("latency", "350");
    watch.wait_until("the command's failure message", |_, _| !commands().is_empty());
    after(2);
    assert!(mails().is_empty(), "a warning-level failure reached the critical-only email: {:?}", mails());
    assert_eq!(commands().len(), 1, "{:?}", commands());
    assert!(
        commands()[0].contains("- fail (warning) [latency] Signal latency < 200ms: p99 = 350 → expected p99 < 200")
    );

    // A critical fault on top: the email hears it; for the command the run was already failing.
    dir.write("breaker", "on");
    watch.wait_until("the failure email", |_, _| !mails().is_empty());
    after(2);
    // The critical step recovers while the warning-level one still fails: the email hears a recovery.
    dir.write("breaker", "off");
    watch.wait_until("the recovery email", |_, _| mails().len() >= 2);
    assert_eq!(commands().len(), 1, "the command heard a run that was already failing: {:?}", commands());
    // Everything recovers: now the command hears it too.
    dir.write("latency", "45");
    watch.wait_until("the command's recovery message", |_, _| commands().len() >= 2);
    after(2);
    assert_eq!(watch.terminate(), 0, "{}", watch.stderr());

    let (mails, commands) = (mails(), commands());
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(commands.len(), 2, "{commands:?}");
    let (head, body) = mails[0].split_once("\n\n").expect("headers, a blank line, the body");
    let headers: Vec<&str> = head.lines().collect();
    assert_eq!(headers[0], "ARGS: -t -i", "{head}");
    for header in [
        "From: runbook <runbook@titan.example>",
        "To: ops@titan.example, risk@titan.example",
        "Subject: [FAILURE] Severities",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "X-Runbook-Event: failure",
    ] {
        assert!(headers.contains(&header), "no `{header}` in:\n{head}");
    }
    let date = headers.iter().find_map(|h| h.strip_prefix("Date: ")).expect("a Date header");
    chrono::DateTime::parse_from_rfc2822(date).expect("an RFC 5322 date");
    assert!(body.starts_with("runbook: Severities on "), "{body}");
    assert!(body.contains("FAILED (2 fail, 0 error of 2 steps: 1 critical, 1 warning)"), "{body}");
    assert!(
        body.contains("- fail (critical) [breaker] Circuit breaker not triggered: state = \"on ••••••\""),
        "{body}"
    );
    assert!(!body.contains("[latency]"), "the critical-only email lists a warning-level step:\n{body}");
    assert!(mails[1].contains("Subject: [RECOVERY] Severities\n"), "{}", mails[1]);
    assert!(mails[1].contains("recovered"), "{}", mails[1]);
    assert!(commands[1].contains("runbook: Severities on ") && commands[1].contains("recovered"), "{}", commands[1]);
    for text in mails.iter().chain(&commands).chain([&watch.stdout(), &watch.stderr()]) {
        assert!(!text.contains(SECRET), "the secret leaked:\n{text}");
    }
}

#[test]
fn a_bad_target_in_the_playbook_is_refused_where_it_stands() {
    let dir = TestDir::new();
    dir.write(
        "bad.yaml",
        "name: Bad\nsections:\n  - name: S\n    steps:\n      - id: up\n        title: Up\n        shell: { run: \"true\" }\n\
         notify:\n  - sendmail: { to: [ops] }\n",
    );
    let out = dir.runbook().args(["watch", "bad.yaml", "--every", "1s"]).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("bad.yaml:9:5: notify: `ops` is not an email address"), "{}", out.stderr);
}
