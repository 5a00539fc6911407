//! Four eyes: `runbook countersign` adds a second person's sign-off to a kept
//! run, every report format shows both, `runbook verify` checks each signature
//! in the chain (and so does the real `minisign -V`, file by file), the same
//! person or key never signs twice, and a playbook with `signoff: { required: 2 }`
//! is "awaiting countersign" until someone else signs. On SQLite and PostgreSQL.

use crate::history::count;
use crate::history::store::{Kind, Store, on_both_stores};
use crate::report_sign::{flip_one_byte, minisign};
use crate::util::Outcome;

on_both_stores!(
    a_countersigned_report_verifies_with_runbook_and_with_minisign,
    the_same_person_or_key_never_signs_twice,
    a_changed_report_names_whose_signature_is_broken,
    every_format_shows_both_sign_offs_and_the_history_says_so,
);

const FOUR_EYES: &str = r#"
name: close of day
signoff: { required: 2 }
sections:
  - name: Books
    steps:
      - id: balanced
        title: Books balance
        shell: { run: "echo 0" }
        expect: ['stdout == "0"']
"#;

/// A store with the four-eyes playbook, keys `alice.key` and `bob.key`, and one run signed by alice.
fn signed_run(kind: Kind, report: &str) -> Store {
    let store = Store::new(kind);
    store.dir.write("close.yaml", FOUR_EYES);
    for who in ["alice", "bob"] {
        let out = store.dir.runbook().args(["keygen", "--out", &format!("{who}.key")]).run();
        assert_eq!(out.code, 0, "{out:?}");
    }
    let out =
        store.runbook(["run", "close.yaml", "--operator", "alice", "--sign", "alice.key", "--report", report]).run();
    assert_eq!(out.code, 0, "{out:?}");
    store
}

fn countersign(store: &Store, report: &str, args: &[&str]) -> Outcome {
    store.runbook(["countersign", report]).args(args).run()
}

fn verify(store: &Store, report: &str) -> Outcome {
    store.dir.runbook().args(["verify", report, "--pubkey", "alice.pub", "--pubkey", "bob.pub"]).run()
}

fn a_countersigned_report_verifies_with_runbook_and_with_minisign(kind: Kind) {
    let store = signed_run(kind, "day.html");
    let before = verify(&store, "day.html");
    assert_eq!(before.code, 1, "one of two sign-offs is not enough: {before:?}");
    assert!(before.stdout.contains("sign-off 1 by `alice`: good"), "{}", before.stdout);
    assert!(before.stderr.contains("awaiting countersign: 1 of 2"), "{}", before.stderr);

    let out = countersign(&store, "day.html", &["--operator", "bob", "--sign", "bob.key"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("sign-off 2 by bob; signed off (2 of 2)"), "{}", out.stdout);
    assert!(out.stderr.contains("day.signoff-2.html (signed: day.signoff-2.html.minisig)"), "{}", out.stderr);

    let after = verify(&store, "day.html");
    assert_eq!(after.code, 0, "{after:?}");
    assert!(after.stdout.contains("sign-off 2 by `bob`: good"), "{}", after.stdout);
    assert!(after.stdout.contains("ok: 2 of 2 required sign-offs"), "{}", after.stdout);
    // The latest link names the same chain.
    assert_eq!(verify(&store, "day.signoff-2.html").code, 0);
    // Alice's key alone cannot vouch for bob's sign-off.
    let alone = store.dir.runbook().args(["verify", "day.html", "--pubkey", "alice.pub"]).run();
    assert_eq!(alone.code, 1, "{alone:?}");
    assert!(
        alone.stdout.contains("sign-off 2 by `bob`: BROKEN") && alone.stdout.contains("no --pubkey holds"),
        "{}",
        alone.stdout
    );

    // The real minisign CLI verifies each file with its signer's key, and not with the other's.
    for (file, key) in [("day.html", "alice.pub"), ("day.signoff-2.html", "bob.pub")] {
        let theirs = minisign(&store.dir, &["-Vm", file, "-p", key]);
        assert!(theirs.status.success(), "minisign -V {file}: {}", String::from_utf8_lossy(&theirs.stderr));
    }
    assert!(!minisign(&store.dir, &["-Vm", "day.signoff-2.html", "-p", "alice.pub"]).status.success());
    // And runbook verifies a signature minisign itself made (a third person, a key of minisign's own).
    let keys = minisign(&store.dir, &["-G", "-W", "-p", "carol.pub", "-s", "carol.key"]);
    assert!(keys.status.success(), "minisign -G: {}", String::from_utf8_lossy(&keys.stderr));
    let out = countersign(&store, "day.html", &["--operator", "carol", "--sign", "carol.key"]);
    assert_eq!(out.code, 0, "{out:?}");
    let theirs = minisign(&store.dir, &["-Vm", "day.signoff-3.html", "-p", "carol.pub"]);
    assert!(theirs.status.success(), "minisign -V: {}", String::from_utf8_lossy(&theirs.stderr));
    let three = store
        .dir
        .runbook()
        .args(["verify", "day.html", "--pubkey", "alice.pub", "--pubkey", "bob.pub", "--pubkey", "carol.pub"])
        .run();
    assert_eq!(three.code, 0, "{three:?}");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM signoffs WHERE signature IS NOT NULL"), 2);
}

fn the_same_person_or_key_never_signs_twice(kind: Kind) {
    let store = signed_run(kind, "day.md");
    let again = countersign(&store, "day.md", &["--operator", "  Alice ", "--sign", "bob.key"]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("`alice` already signed this run off (sign-off 1)"), "{}", again.stderr);
    let same_key = countersign(&store, "day.md", &["--operator", "bob", "--sign", "alice.key"]);
    assert_eq!(same_key.code, 2, "{same_key:?}");
    assert!(same_key.stderr.contains("already signed this run off (sign-off 1, `alice`)"), "{}", same_key.stderr);
    assert_eq!(count(&store, "SELECT COUNT(*) FROM signoffs"), 0);
    assert!(!store.dir.path().join("day.signoff-2.md").exists());

    assert_eq!(countersign(&store, "day.md", &["--operator", "bob", "--sign", "bob.key"]).code, 0);
    let twice = countersign(&store, "day.signoff-2.md", &["--operator", "BOB"]);
    assert_eq!(twice.code, 2, "{twice:?}");
    assert!(twice.stderr.contains("`bob` already signed this run off (sign-off 2)"), "{}", twice.stderr);
    // The database refuses it too, whatever the command checked.
    let run = store.texts("SELECT CAST(run_id AS TEXT) FROM signoffs")[0].clone();
    let sql = format!(
        "INSERT INTO signoffs (run_id, seq, operator, operator_key, at, over_hash) VALUES ({run}, 9, 'Bob', 'bob', 0, 'x')"
    );
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| store.execute(&sql)));
    assert!(refused.is_err(), "a second sign-off by bob was stored");
}

fn a_changed_report_names_whose_signature_is_broken(kind: Kind) {
    let store = signed_run(kind, "day.txt");
    assert_eq!(countersign(&store, "day.txt", &["--operator", "bob", "--sign", "bob.key"]).code, 0);
    let original = std::fs::read(store.dir.path().join("day.signoff-2.txt")).expect("read");

    flip_one_byte(&store.dir, "day.signoff-2.txt");
    let out = verify(&store, "day.txt");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("sign-off 1 by `alice`: good"), "{}", out.stdout);
    assert!(
        out.stdout.contains("sign-off 2 by `bob`: BROKEN") && out.stdout.contains("does not match"),
        "{}",
        out.stdout
    );
    std::fs::write(store.dir.path().join("day.signoff-2.txt"), original).expect("restore");
    assert_eq!(verify(&store, "day.txt").code, 0);

    // A changed first report breaks alice's signature and the countersign that vouched for it.
    flip_one_byte(&store.dir, "day.txt");
    let out = verify(&store, "day.txt");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("sign-off 1 by `alice`: BROKEN"), "{}", out.stdout);
    assert!(
        out.stdout.contains("sign-off 2 by `bob`: BROKEN") && out.stdout.contains("vouches for another"),
        "{}",
        out.stdout
    );

    // A missing countersignature is named too.
    flip_one_byte(&store.dir, "day.txt");
    std::fs::remove_file(store.dir.path().join("day.signoff-2.txt.minisig")).expect("rm");
    let out = verify(&store, "day.txt");
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("sign-off 2 by unnamed: missing signature"), "{}", out.stdout);
}

fn every_format_shows_both_sign_offs_and_the_history_says_so(kind: Kind) {
    let store = signed_run(kind, "day.json");
    let history = store.runbook(["history"]).run();
    assert!(history.stdout.contains("awaiting countersign (1 of 2)"), "{}", history.stdout);
    let first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(store.dir.path().join("day.json")).unwrap()).unwrap();
    assert_eq!(first["signoff"]["progress"], "awaiting countersign (1 of 2)");
    assert_eq!(first["signoff"]["required"], 2);
    let run_id = first["run_id"].as_i64().expect("the report names its run");

    // The JSON report (no signature needed to find the run: it names it), then other formats.
    assert_eq!(countersign(&store, "day.json", &["--operator", "bob", "--sign", "bob.key"]).code, 0);
    let second: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(store.dir.path().join("day.signoff-2.json")).unwrap()).unwrap();
    assert_eq!(second["signoff"]["progress"], "signed off (2 of 2)");
    assert_eq!(second["signoff"]["operator"], "alice");
    assert_eq!(second["signoff"]["countersigns"][0]["operator"], "bob");
    assert!(second["signoff"]["countersigns"][0]["key_id"].as_str().is_some_and(|k| k.len() == 16));

    let history = store.runbook(["history"]).run();
    assert!(history.stdout.contains("signed off (2 of 2), countersigned by bob"), "{}", history.stdout);
    let listed = store.runbook(["history", "--format", "json"]).run();
    assert!(listed.stdout.contains("\"signoff\": \"signed off (2 of 2)\""), "{}", listed.stdout);
    let id = run_id.to_string();
    let shown = store.runbook(["show", &id]).run();
    assert!(shown.stdout.contains("Sign-off: signed off (2 of 2)"), "{}", shown.stdout);
    assert!(
        shown.stdout.contains("sign-off 1: alice at") && shown.stdout.contains("sign-off 2: bob at"),
        "{}",
        shown.stdout
    );

    // Every format `show --report` writes shows both sign-offs and the state.
    for (file, want) in [
        ("again.html", "Four eyes: signed off (2 of 2)"),
        ("again.txt", "Four eyes:  signed off (2 of 2)"),
        ("again.md", "| Four eyes | **signed off (2 of 2)** |"),
        ("again.xml", "name=\"signoff\" value=\"signed off (2 of 2)\""),
        ("again.tap", "# sign-off: signed off (2 of 2)"),
        ("again.json", "\"progress\": \"signed off (2 of 2)\""),
    ] {
        let out = store.runbook(["show", &id, "--report", file]).run();
        assert_eq!(out.code, 0, "{out:?}");
        let text = std::fs::read_to_string(store.dir.path().join(file)).unwrap();
        assert!(text.contains(want) && text.contains("alice") && text.contains("bob"), "{file}: {text}");
    }
    let out = store.runbook(["show", &id, "--report", "again.nagios", "--report-format", "nagios"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    let text = std::fs::read_to_string(store.dir.path().join("again.nagios")).unwrap();
    assert!(text.contains("sign-off: signed off (2 of 2)") && text.contains("sign-off 2: bob at"), "{text}");
}
