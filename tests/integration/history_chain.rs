//! The tamper-evident history: runs linked into one chain per playbook and
//! host, `runbook history verify` naming by id each run edited, deleted or
//! moved by hand with the real `sqlite3` and `psql` clients, pruning and
//! concurrent runs leaving the chain whole, and a signed report carrying its
//! link (checked with the real `minisign`). Each against SQLite and PostgreSQL.

use crate::history::store::{Kind, Store, on_both_stores};

on_both_stores!(
    an_edited_run_is_named_by_id,
    a_deleted_run_is_named_with_the_gap,
    reordered_runs_are_named,
    runs_before_the_chain_unfinished_and_stripped_runs_are_told_apart,
    pruning_leaves_an_anchor_and_the_chain_verifies,
    concurrent_runs_all_join_one_chain,
    the_signed_report_carries_the_chain_head,
);

const PLAYBOOK: &str = r#"
name: chained
sections:
  - name: Checks
    steps:
      - id: one
        title: One is one
        shell: { run: "echo 1", json: true }
        capture: { n: $.json }
        expect: ["n == 1"]
"#;

/// A store with `runs` runs of the playbook; returns their ids, oldest first.
fn store_with_runs(kind: Kind, runs: usize) -> (Store, Vec<i64>) {
    let store = Store::new(kind);
    store.dir.write("chained.yaml", PLAYBOOK);
    let mut ids = Vec::new();
    for _ in 0..runs {
        let out = store.run("chained.yaml");
        assert_eq!(out.code, 0, "{out:?}");
        ids.push(out.json()["chain"]["seq"].as_i64().expect("the record carries its chain link"));
    }
    let stored: Vec<i64> =
        store.texts("SELECT CAST(id AS TEXT) FROM runs ORDER BY id").iter().map(|t| t.parse().unwrap()).collect();
    assert_eq!(ids, (1..=runs as i64).collect::<Vec<_>>(), "seq counts up in finishing order");
    (store, stored)
}

fn verify(store: &Store, extra: &[&str]) -> crate::util::Outcome {
    let mut args = vec!["history", "verify"];
    args.extend_from_slice(extra);
    store.dir.runbook().with_history().args(args).args(["--history", &store.location]).run()
}

fn assert_intact(store: &Store) -> crate::util::Outcome {
    let out = verify(store, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("history intact"), "{}", out.stdout);
    out
}

/// The breaks `verify --format json` lists, as (kind, run) pairs.
fn breaks(store: &Store) -> Vec<(String, i64)> {
    let out = verify(store, &["--format", "json"]);
    assert_eq!(out.code, 1, "{out:?}");
    let json = out.json();
    assert_eq!(json["intact"], false);
    json["chains"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["breaks"].as_array().unwrap().clone())
        .map(|b| {
            let run = b["run"].as_i64().or_else(|| b["before"].as_i64()).unwrap_or(-1);
            (b["kind"].as_str().unwrap().to_owned(), run)
        })
        .collect()
}

fn an_edited_run_is_named_by_id(kind: Kind) {
    let (store, ids) = store_with_runs(kind, 4);
    let out = assert_intact(&store);
    assert!(out.stdout.contains("`chained` on ") && out.stdout.contains(": 4 run(s), head #4"), "{}", out.stdout);
    // A failed step rewritten as passed, straight in the database.
    store.by_hand(&format!("UPDATE runs SET record = replace(record, '\"n\":1', '\"n\":2') WHERE id = {}", ids[1]));
    let out = verify(&store, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains(&format!("BROKEN run {}: edited", ids[1])), "{}", out.stdout);
    assert!(out.stdout.contains("history BROKEN: 1 problem(s)"), "{}", out.stdout);
    // A column the record does not hold: the verdict.
    store.by_hand(&format!("UPDATE runs SET verdict = 'fail' WHERE id = {}", ids[2]));
    assert_eq!(breaks(&store), [("edited".into(), ids[1]), ("edited".into(), ids[2])]);
    // Only the named playbook, and an unknown one is a bad argument, not "intact".
    assert_eq!(verify(&store, &["chained"]).code, 1);
    assert_eq!(verify(&store, &["nope"]).code, 2);
    assert_eq!(verify(&store, &["chained", "--host", "elsewhere"]).code, 2);
}

fn a_deleted_run_is_named_with_the_gap(kind: Kind) {
    let (store, ids) = store_with_runs(kind, 5);
    store.by_hand(&format!("DELETE FROM runs WHERE id = {}", ids[2]));
    let out = verify(&store, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let gap = format!("BROKEN run {}: deleted: 1 run(s) missing between run {} and run {}", ids[3], ids[1], ids[3]);
    assert!(out.stdout.contains(&gap), "{}", out.stdout);
    // The newest run too: only the chain's head knows it was there.
    store.by_hand(&format!("DELETE FROM runs WHERE id = {}", ids[4]));
    let out = verify(&store, &[]);
    assert!(out.stdout.contains(&format!("the newest 1 run(s) after run {} are missing", ids[3])), "{}", out.stdout);
    assert_eq!(breaks(&store), [("deleted".into(), ids[3]), ("deleted".into(), -1)]);
}

fn reordered_runs_are_named(kind: Kind) {
    let (store, ids) = store_with_runs(kind, 4);
    // Swap the places of the second and third runs.
    store.by_hand(&format!(
        "UPDATE runs SET chain_seq = CASE id WHEN {a} THEN 3 ELSE 2 END WHERE id IN ({a}, {b})",
        a = ids[1],
        b = ids[2]
    ));
    let out = verify(&store, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    let moved = format!("BROKEN run {}: reordered (it links to run {}", ids[2], ids[1]);
    assert!(out.stdout.contains(&moved), "{}", out.stdout);
    let found = breaks(&store);
    assert!(
        found.contains(&("reordered".into(), ids[1])) && found.contains(&("reordered".into(), ids[2])),
        "{found:?}"
    );
}

fn runs_before_the_chain_unfinished_and_stripped_runs_are_told_apart(kind: Kind) {
    let (store, ids) = store_with_runs(kind, 1);
    // The first run as a run stored before the chain existed: no links, no head.
    store.execute(&format!(
        "UPDATE runs SET record_hash = NULL, prev_hash = NULL, chain_hash = NULL, chain_seq = NULL WHERE id = {}; \
         DELETE FROM run_chains; DELETE FROM run_chain_anchors",
        ids[0]
    ));
    for _ in 0..3 {
        assert_eq!(store.run("chained.yaml").code, 0);
    }
    // A run that was killed: its "started" marker only.
    store.execute("INSERT INTO runs (playbook, file, host, status, started_at) VALUES ('chained', 'c.yaml', 'h', 'incomplete', 1)");
    let out = assert_intact(&store);
    assert!(out.stdout.contains("1 run(s) stored before the chain began"), "{}", out.stdout);
    assert!(out.stdout.contains("1 unfinished run(s)"), "{}", out.stdout);
    // Stripping a later run's links does not make it look older than the chain.
    let second = ids[0] + 2;
    store.by_hand(&format!("UPDATE runs SET chain_seq = NULL, chain_hash = NULL WHERE id = {second}"));
    let found = breaks(&store);
    assert!(found.contains(&("unlinked".into(), second)), "{found:?}");
}

fn pruning_leaves_an_anchor_and_the_chain_verifies(kind: Kind) {
    let (store, ids) = store_with_runs(kind, 5);
    let out = store.runbook(["history", "prune", "chained", "--keep-runs", "2"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("3 runs"), "{}", out.stdout);
    let out = assert_intact(&store);
    assert!(
        out.stdout.contains(": 2 run(s), head #5") && out.stdout.contains("starts after 3 pruned run(s) (anchor #3")
    );
    // A run after pruning still links, and a deletion after the anchor is still found.
    assert_eq!(store.run("chained.yaml").code, 0);
    assert_intact(&store);
    store.by_hand(&format!("DELETE FROM runs WHERE id = {}", ids[3]));
    assert_eq!(breaks(&store), [("deleted".into(), ids[4])]);
}

fn concurrent_runs_all_join_one_chain(kind: Kind) {
    let store = Store::new(kind);
    store.dir.write("chained.yaml", PLAYBOOK);
    assert_eq!(store.run("chained.yaml").code, 0, "the store exists before the race");
    let children: Vec<_> = (0..4)
        .map(|_| {
            let mut command = store.runbook(["run", "chained.yaml", "--format", "json"]).command();
            command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
            command.spawn().expect("start runbook")
        })
        .collect();
    let mut seqs: Vec<i64> = children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("wait");
            assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
            let record: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
            record["chain"]["seq"].as_i64().expect("a link")
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, [2, 3, 4, 5], "each run has its own place");
    let out = assert_intact(&store);
    assert!(out.stdout.contains(": 5 run(s), head #5"), "{}", out.stdout);
}

fn the_signed_report_carries_the_chain_head(kind: Kind) {
    let (store, _) = store_with_runs(kind, 2);
    assert_eq!(store.dir.runbook().args(["keygen", "--out", "key"]).run().code, 0);
    let out = store
        .runbook([
            "run",
            "chained.yaml",
            "--format",
            "json",
            "--report",
            "day.txt",
            "--sign",
            "key",
            "--operator",
            "al",
        ])
        .run();
    assert_eq!(out.code, 0, "{out:?}");
    let head = store.texts("SELECT head_hash FROM run_chains")[0].clone();
    let before_last = store.texts("SELECT chain_hash FROM runs WHERE chain_seq = 2")[0].clone();
    let record = out.json();
    assert_eq!(record["chain"]["seq"], 3);
    assert_eq!(record["chain"]["prev"], before_last.as_str(), "the report vouches for the run before it");
    let text = std::fs::read_to_string(store.dir.path().join("day.txt")).unwrap();
    assert!(text.contains(&format!("History:    chain #3 after {before_last}")), "{text}");
    let theirs = std::process::Command::new("minisign")
        .args(["-Vm", "day.txt", "-p", "key.pub"])
        .current_dir(store.dir.path())
        .output()
        .expect("run minisign");
    assert!(theirs.status.success(), "minisign -V: {}", String::from_utf8_lossy(&theirs.stderr));
    assert_eq!(store.dir.runbook().args(["verify", "day.txt", "--pubkey", "key.pub"]).run().code, 0);
    // Every report format shows the link, here of the stored run (`runbook show`).
    for (file, format) in
        [("r.md", "markdown"), ("r.html", "html"), ("r.xml", "junit"), ("r.tap", "tap"), ("r.n", "nagios")]
    {
        let out = store.runbook(["show", "3", "--report", file, "--report-format", format]).run();
        assert_eq!(out.code, 0, "{out:?}");
        let shown = std::fs::read_to_string(store.dir.path().join(file)).unwrap();
        assert!(shown.contains("chain #3 after ") && shown.contains(&before_last), "{format}: {shown}");
    }
    // The stored record was signed too, link included, and the chain still verifies.
    assert_eq!(store.texts("SELECT CAST(COUNT(*) AS TEXT) FROM runs WHERE signature IS NOT NULL"), ["1"]);
    let out = assert_intact(&store);
    assert!(out.stdout.contains(&format!("head #3 (run 3) {head}")), "{}", out.stdout);
    // Stripping the stored signature is an edit.
    store.by_hand("UPDATE runs SET signature = NULL WHERE chain_seq = 3");
    assert_eq!(breaks(&store), [("edited".into(), 3)]);
}
