//! Signatures: ours verify with the standard `minisign -V` and theirs with
//! `runbook verify`; one changed byte fails both tools; an encrypted key
//! needs its password before anything runs; no secret in the signature.
//! Keys and signatures in every form the minisign CLI makes are taken: an
//! unencrypted key from `minisign -G -W`, a legacy signature from `-S -l`.

use std::process::Command;

use crate::report_fixture::{SECRET, daily_dir, read, run_daily};
use crate::util::TestDir;

pub fn minisign(dir: &TestDir, args: &[&str]) -> std::process::Output {
    Command::new("minisign")
        .args(args)
        .current_dir(dir.path())
        .output()
        .expect("run minisign (Debian package `minisign`; `.ci/services.sh` installs it)")
}

pub fn flip_one_byte(dir: &TestDir, name: &str) {
    let path = dir.path().join(name);
    let mut bytes = std::fs::read(&path).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&path, bytes).expect("write");
}

#[test]
fn minisign_verifies_our_signature_and_both_tools_reject_a_changed_byte() {
    let dir = daily_dir();
    let out = dir.runbook().args(["keygen", "--out", "key"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("secret key: key") && out.stdout.contains("public key: key.pub"), "{}", out.stdout);
    let out = run_daily(&dir, &["--report", "out.html", "--sign", "key"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("report: out.html (signed: out.html.minisig)"), "{}", out.stderr);
    let signature = read(&dir, "out.html.minisig");
    assert!(signature.contains("operator:alice") && !signature.contains(SECRET), "{signature}");

    let theirs = minisign(&dir, &["-Vm", "out.html", "-p", "key.pub"]);
    assert!(theirs.status.success(), "minisign -V: {}", String::from_utf8_lossy(&theirs.stderr));
    let ours = dir.runbook().args(["verify", "out.html", "--pubkey", "key.pub"]).run();
    assert_eq!(ours.code, 0, "{ours:?}");
    assert!(ours.stdout.contains("playbook:Daily ops\toperator:alice"), "{}", ours.stdout);

    flip_one_byte(&dir, "out.html");
    let theirs = minisign(&dir, &["-Vm", "out.html", "-p", "key.pub"]);
    assert!(!theirs.status.success(), "minisign accepted a changed report");
    let ours = dir.runbook().args(["verify", "out.html", "--pubkey", "key.pub"]).run();
    assert_eq!(ours.code, 1, "{ours:?}");
    assert!(ours.stderr.contains("does not match its signature"), "{}", ours.stderr);
}

#[test]
fn runbook_verify_accepts_a_minisign_signature_and_rejects_a_missing_one() {
    let dir = TestDir::new();
    dir.write("notes.md", "# shift notes\nall quiet\n");
    let keys = minisign(&dir, &["-G", "-W", "-p", "m.pub", "-s", "m.key"]);
    assert!(keys.status.success(), "minisign -G: {}", String::from_utf8_lossy(&keys.stderr));
    let signed = minisign(&dir, &["-S", "-s", "m.key", "-m", "notes.md"]);
    assert!(signed.status.success(), "minisign -S: {}", String::from_utf8_lossy(&signed.stderr));
    let ours = dir.runbook().args(["verify", "notes.md", "--pubkey", "m.pub"]).run();
    assert_eq!(ours.code, 0, "{ours:?}");
    flip_one_byte(&dir, "notes.md");
    assert_eq!(dir.runbook().args(["verify", "notes.md", "--pubkey", "m.pub"]).run().code, 1);
    std::fs::remove_file(dir.path().join("notes.md.minisig")).expect("rm");
    let missing = dir.runbook().args(["verify", "notes.md", "--pubkey", "m.pub"]).run();
    assert_eq!(missing.code, 1, "{missing:?}");
    let no_key = dir.runbook().args(["verify", "notes.md", "--pubkey", "nope.pub"]).run();
    assert_eq!(no_key.code, 2, "{no_key:?}");
}

#[test]
fn an_encrypted_key_signs_with_its_password_and_refuses_without_it() {
    let dir = daily_dir();
    let out = dir.runbook().args(["keygen", "--out", "."]).env("RUNBOOK_SIGN_PASSWORD", "hunter2").run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("runbook.key (encrypted"), "{}", out.stdout);
    let again = dir.runbook().args(["keygen", "--out", "."]).run();
    assert_eq!(again.code, 2, "keygen never overwrites: {again:?}");

    let refused = run_daily(&dir, &["--report", "r.md", "--sign", "runbook.key"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(refused.stderr.contains("RUNBOOK_SIGN_PASSWORD"), "{}", refused.stderr);
    assert!(refused.stdout.is_empty(), "nothing ran: {}", refused.stdout);

    let signed = dir
        .runbook()
        .args(["run", "playbook.yaml", "--report", "r.md", "--sign", "runbook.key"])
        .env("RB_TEST_TOKEN", SECRET)
        .env("RUNBOOK_SIGN_PASSWORD", "hunter2")
        .run();
    assert_eq!(signed.code, 1, "{signed:?}");
    assert_eq!(dir.runbook().args(["verify", "r.md"]).run().code, 0, "default key runbook.pub");
    assert!(minisign(&dir, &["-Vm", "r.md", "-p", "runbook.pub"]).status.success());
}

#[test]
fn a_key_from_minisign_g_w_signs_and_both_tools_verify() {
    let dir = daily_dir();
    let keys = minisign(&dir, &["-G", "-W", "-p", "m.pub", "-s", "m.key"]);
    assert!(keys.status.success(), "minisign -G -W: {}", String::from_utf8_lossy(&keys.stderr));
    let out = run_daily(&dir, &["--report", "r.md", "--sign", "m.key"]);
    assert_eq!(out.code, 1, "the fixture fails, the report is still signed: {out:?}");
    assert!(out.stderr.contains("report: r.md (signed: r.md.minisig)"), "{}", out.stderr);
    let theirs = minisign(&dir, &["-Vm", "r.md", "-p", "m.pub"]);
    assert!(theirs.status.success(), "minisign -V: {}", String::from_utf8_lossy(&theirs.stderr));
    assert_eq!(dir.runbook().args(["verify", "r.md", "--pubkey", "m.pub"]).run().code, 0);
}

#[test]
fn a_damaged_unencrypted_key_is_still_refused() {
    let dir = daily_dir();
    assert!(minisign(&dir, &["-G", "-W", "-p", "m.pub", "-s", "m.key"]).status.success());
    // One character of the key line changed (inside the secret key, away from the padding).
    let text = read(&dir, "m.key");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut key: Vec<char> = lines[1].chars().collect();
    key[150] = if key[150] == 'A' { 'B' } else { 'A' };
    lines[1] = key.into_iter().collect();
    dir.write("m.key", &(lines.join("\n") + "\n"));
    let refused = run_daily(&dir, &["--report", "r.md", "--sign", "m.key"]);
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(refused.stderr.contains("cannot open the secret key `m.key`"), "{}", refused.stderr);
}

#[test]
fn a_legacy_minisign_signature_verifies_and_a_changed_byte_still_fails() {
    let dir = TestDir::new();
    dir.write("notes.md", "# shift notes\nall quiet\n");
    assert!(minisign(&dir, &["-G", "-W", "-p", "m.pub", "-s", "m.key"]).status.success());
    let signed = minisign(&dir, &["-S", "-l", "-s", "m.key", "-m", "notes.md"]);
    assert!(signed.status.success(), "minisign -S -l: {}", String::from_utf8_lossy(&signed.stderr));
    let ours = dir.runbook().args(["verify", "notes.md", "--pubkey", "m.pub"]).run();
    assert_eq!(ours.code, 0, "{ours:?}");
    flip_one_byte(&dir, "notes.md");
    let changed = dir.runbook().args(["verify", "notes.md", "--pubkey", "m.pub"]).run();
    assert_eq!(changed.code, 1, "{changed:?}");
    assert!(changed.stderr.contains("does not match its signature"), "{}", changed.stderr);
}
