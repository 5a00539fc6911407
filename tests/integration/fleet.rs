//! Fleet runs against a shared history, on SQLite and on the machine's
//! PostgreSQL: runs kept under host names and labels, a host that stopped
//! reporting is missing and fails the fleet, a step's allowance, shards of one
//! group joined back into one run, and records verified per host against
//! trusted keys (an edited record is caught).

use crate::history::store::{Kind, Store, on_both_stores};

on_both_stores!(
    a_host_that_stopped_reporting_is_missing_and_fails_the_fleet,
    a_step_may_fail_on_as_many_hosts_as_the_playbook_allows,
    shards_of_one_group_join_back_into_one_run,
    records_are_verified_per_host_and_an_edited_one_is_caught,
);

/// Three checks; `bad=yes` fails `disk` and `load`.
const PLAYBOOK: &str = r#"
name: fleet check
vars:
  bad: "no"
fleet:
  steps: { load: 1 }
sections:
  - name: Host
    steps:
      - id: ok
        title: Always fine
        shell: { run: 'echo 5' }
        capture: { n: $.stdout }
      - id: disk
        title: Disk has room
        shell: { run: 'test "{{vars.bad}}" != yes' }
        expect: ['exit_code == 0']
      - id: load
        title: Load is low
        shell: { run: 'test "{{vars.bad}}" != yes' }
        expect: ['exit_code == 0']
"#;

fn store_with_playbook(kind: Kind) -> Store {
    let store = Store::new(kind);
    store.dir.write("p.yaml", PLAYBOOK);
    store
}

fn run_as(store: &Store, host: &str, extra: &[&str]) -> crate::util::Outcome {
    store.runbook(["run", "p.yaml", "--host", host]).args(extra).run()
}

fn fleet(store: &Store, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = store.runbook(["fleet", "p.yaml", "--format", "json"]).args(extra).run();
    let view = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    (out.code, view)
}

fn host<'a>(view: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    view["hosts"].as_array().unwrap().iter().find(|h| h["host"] == name).unwrap_or_else(|| panic!("{name}: {view}"))
}

fn a_host_that_stopped_reporting_is_missing_and_fails_the_fleet(kind: Kind) {
    let store = store_with_playbook(kind);
    for name in ["web-1", "web-2", "web-3"] {
        assert_eq!(run_as(&store, name, &["--label", "region=eu"]).code, 0);
    }
    let (code, view) = fleet(&store, &[]);
    assert_eq!(code, 0, "{view}");
    assert_eq!(view["verdict"], "pass");
    assert_eq!(host(&view, "web-2")["labels"]["region"], "eu");
    // web-3's runs fall out of the window: it stopped reporting.
    store.execute("UPDATE runs SET started_at = started_at - 7200000 WHERE host = 'web-3'");
    let (code, view) = fleet(&store, &["--within", "1h"]);
    assert_eq!(code, 1, "{view}");
    assert_eq!(view["verdict"], "fail");
    assert_eq!(host(&view, "web-3")["state"], "missing");
    assert!(host(&view, "web-3")["last_seen"].is_string(), "{view}");
    assert!(view["problems"][0].as_str().unwrap().contains("host `web-3` is missing"), "{view}");
    // An expected host that never ran is missing too.
    store.dir.write("hosts.txt", "web-1\nweb-2 # eu\nweb-4\n");
    let (code, view) = fleet(&store, &["--expect-hosts", "hosts.txt"]);
    assert_eq!(code, 1);
    assert_eq!(host(&view, "web-4")["state"], "missing");
    assert_eq!(host(&view, "web-3")["unexpected"], true, "{view}");
    let text = store.runbook(["fleet", "p.yaml", "--expect-hosts", "hosts.txt"]).run();
    assert_eq!(text.code, 1);
    assert!(text.stdout.contains("web-4") && text.stdout.contains("MISSING"), "{}", text.stdout);
}

fn a_step_may_fail_on_as_many_hosts_as_the_playbook_allows(kind: Kind) {
    let store = store_with_playbook(kind);
    run_as(&store, "a", &[]);
    run_as(&store, "b", &[]);
    store.dir.write("bad.yaml", &PLAYBOOK.replace("bad: \"no\"", "bad: \"yes\""));
    let out = store.runbook(["run", "bad.yaml", "--host", "c"]).run();
    assert_eq!(out.code, 1);
    let (code, view) = fleet(&store, &[]);
    assert_eq!(code, 1, "{view}");
    let steps = view["steps"].as_array().unwrap();
    let step = |id: &str| steps.iter().find(|s| s["id"] == id).unwrap().clone();
    assert_eq!(step("disk")["verdict"], "fail", "no allowance: {view}");
    assert_eq!(step("disk")["failing_hosts"], serde_json::json!(["c"]));
    assert_eq!(step("load")["verdict"], "pass", "one host allowed: {view}");
    assert_eq!(step("ok")["verdict"], "pass");
    assert_eq!(view["problems"].as_array().unwrap().len(), 1, "{view}");
    // The HTML matrix shows the observed message on the failing cell; JUnit fails the rule.
    let html = store.runbook(["fleet", "p.yaml", "--format", "html"]).run();
    assert!(html.stdout.contains("<td class=\"fail\" title=\""), "{}", html.stdout);
    let junit = store.runbook(["fleet", "p.yaml", "--format", "junit", "--out", "fleet.xml"]).run();
    assert_eq!(junit.code, 1);
    let suites = crate::report_junit::parse(&store.dir.path().join("fleet.xml"));
    let rules = suites.as_array().unwrap().iter().find(|s| s["name"] == "fleet").expect("fleet suite").clone();
    assert_eq!(rules["failures"], 1, "{rules}");
}

fn shards_of_one_group_join_back_into_one_run(kind: Kind) {
    let store = store_with_playbook(kind);
    let mut ran = Vec::new();
    for shard in ["0/3", "1/3", "2/3"] {
        let out = store
            .runbook(["run", "p.yaml", "--host", "cluster", "--group", "g7", "--shard", shard, "--format", "json"])
            .run();
        assert_eq!(out.code, 0, "{out:?}");
        ran.extend(out.json()["steps"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()));
    }
    ran.sort();
    assert_eq!(ran, ["disk", "load", "ok"], "every step ran in exactly one shard");
    let (code, view) = fleet(&store, &[]);
    assert_eq!(code, 0, "{view}");
    let cluster = host(&view, "cluster");
    assert_eq!(cluster["runs"].as_array().unwrap().len(), 3, "{view}");
    assert_eq!(cluster["cells"].as_object().unwrap().len(), 3, "{view}");
    // A group whose shard 2/3 never came is not a whole run.
    for shard in ["0/3", "1/3"] {
        store.runbook(["run", "p.yaml", "--host", "cluster", "--group", "g8", "--shard", shard]).run();
    }
    let (code, view) = fleet(&store, &[]);
    assert_eq!(code, 1, "{view}");
    assert_eq!(host(&view, "cluster")["missing_shards"], serde_json::json!(["2/3"]));
}

fn records_are_verified_per_host_and_an_edited_one_is_caught(kind: Kind) {
    let store = store_with_playbook(kind);
    for (name, key) in [("a", "a.key"), ("b", "b.key")] {
        assert_eq!(store.dir.runbook().args(["keygen", "--out", key]).run().code, 0);
        assert_eq!(run_as(&store, name, &["--sign", key]).code, 0);
    }
    std::fs::create_dir(store.dir.path().join("trusted")).unwrap();
    for key in ["a.pub", "b.pub"] {
        std::fs::copy(store.dir.path().join(key), store.dir.path().join("trusted").join(key)).unwrap();
    }
    store.dir.write("hosts.txt", "a\nb\n");
    let (code, view) = fleet(&store, &["--trusted-keys", "trusted", "--expect-hosts", "hosts.txt"]);
    assert_eq!(code, 0, "{view}");
    assert_eq!(host(&view, "a")["signature"], serde_json::json!({"state": "verified", "key": "a.pub"}));
    assert_eq!(host(&view, "b")["signature"]["key"], "b.pub");
    // A rogue host writes into the shared history, signed with a key nobody trusts.
    assert_eq!(store.dir.runbook().args(["keygen", "--out", "rogue.key"]).run().code, 0);
    assert_eq!(run_as(&store, "rogue", &["--sign", "rogue.key"]).code, 0);
    let (code, view) = fleet(&store, &["--trusted-keys", "trusted"]);
    assert_eq!(code, 1);
    assert_eq!(host(&view, "rogue")["signature"]["state"], "unverified", "{view}");
    // Someone turns b's failure-free record into something else in the database.
    store.execute("UPDATE runs SET record = REPLACE(record, '\"Always fine\"', '\"Always fine!\"') WHERE host = 'b'");
    store.execute("DELETE FROM runs WHERE host = 'rogue'");
    let (code, view) = fleet(&store, &["--trusted-keys", "trusted", "--expect-hosts", "hosts.txt"]);
    assert_eq!(code, 1, "{view}");
    assert_eq!(host(&view, "b")["signature"]["state"], "unverified", "{view}");
    assert_eq!(host(&view, "a")["signature"]["state"], "verified");
}

#[test]
fn serve_shows_the_fleet_view_of_every_host_sharing_its_history() {
    let store = store_with_playbook(Kind::Sqlite);
    assert_eq!(run_as(&store, "batch-host", &[]).code, 0);
    let mut serve = crate::util::Background::spawn(store.runbook([
        "serve",
        "p.yaml",
        "--listen",
        "127.0.0.1:0",
        "--every",
        "1h",
        "--host",
        "serving-host",
    ]));
    serve.wait_until("the address", |_, err| err.contains("serving on http://"));
    let url = crate::scrape::served_url(&serve.stderr());
    crate::scrape::wait_for(&url, "the first run", &|s| {
        s.contains_key(r#"runbook_runs_total{playbook="fleet check"}"#)
    });
    let (status, page) = crate::sim::http("GET", &format!("{url}/fleet/1"), None);
    let page = page.as_str().map(str::to_owned).unwrap_or_else(|| page.to_string());
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<h1>Fleet fleet check: PASS</h1>"), "{page}");
    assert!(page.contains("<th>batch-host") && page.contains("<th>serving-host"), "{page}");
    let (status, _) = crate::sim::http("GET", &format!("{url}/fleet/2"), None);
    assert_eq!(status, 404);
    assert_eq!(serve.terminate(), 0, "{}", serve.stderr());
}
