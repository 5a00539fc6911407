//! `runbook run FILE --rerun-failed RUN_ID`, SQLite and PostgreSQL: a run with two of five
//! steps failing (an HTTP peer on 127.0.0.1 answering 500, a file with a bad value), one cause
//! fixed, then a follow-up that runs exactly those two steps and what they need (the peer
//! counts its requests), kept linked to the first run, which every report format shows.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::routing::get;

use crate::history::store::{Kind, Store, on_both_stores};
use crate::util::HttpServer;

on_both_stores!(a_follow_up_runs_only_what_failed_and_what_it_needs, a_follow_up_of_an_unknown_run_is_refused);

/// Answers `GET /{name}` with `{"ok": true}`, counting requests per name; `/orders` answers
/// 500 until `orders_fixed` is set.
struct Peer {
    server: HttpServer,
    hits: Arc<Mutex<BTreeMap<String, usize>>>,
    orders_fixed: Arc<AtomicBool>,
}

impl Peer {
    fn start() -> Self {
        let hits = Arc::new(Mutex::new(BTreeMap::new()));
        let orders_fixed = Arc::new(AtomicBool::new(false));
        let (h, fixed) = (hits.clone(), orders_fixed.clone());
        let router = Router::new().route(
            "/{name}",
            get(move |Path(name): Path<String>| async move {
                *h.lock().unwrap().entry(name.clone()).or_insert(0) += 1;
                let broken = name == "orders" && !fixed.load(Ordering::SeqCst);
                let status = if broken { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
                (status, [(header::CONTENT_TYPE, "application/json")], "{\"ok\": true, \"token\": \"t-1\"}")
            }),
        );
        Self { server: HttpServer::start(router), hits, orders_fixed }
    }

    fn hits(&self) -> BTreeMap<String, usize> {
        self.hits.lock().unwrap().clone()
    }
}

/// Five steps: `orders` needs `token` (and reads its capture); `disk` reads `disk.txt`.
fn playbook(url: &str) -> String {
    format!(
        r#"
name: rerun
vars: {{ url: "{url}" }}
defaults: {{ retries: 0, timeout: 5s }}
sections:
  - name: Services
    steps:
      - id: token
        title: A session token is issued
        http: {{ url: "{{{{vars.url}}}}/token" }}
        capture: {{ token: $.body.token }}
        expect: ['status == 200']
      - id: orders
        title: The order gateway answers
        http: {{ url: "{{{{vars.url}}}}/orders" }}
        needs: [token]
        expect: ['status == 200', 'steps.token.token == "t-1"']
      - id: feeds
        title: Market feeds answer
        http: {{ url: "{{{{vars.url}}}}/feeds" }}
        expect: ['status == 200']
      - id: clock
        title: The clock service answers
        http: {{ url: "{{{{vars.url}}}}/clock" }}
        expect: ['status == 200']
  - name: Host
    steps:
      - id: disk
        title: Disk use is under 90%
        shell: {{ run: "echo read >> disk_reads.txt; cat disk.txt", json: true }}
        capture: {{ used: $.json }}
        expect: ['used < 90']
"#
    )
}

fn latest_run(store: &Store) -> i64 {
    let listed = store.runbook(["history", "rerun", "--format", "json", "--limit", "1"]).run();
    listed.json()[0]["id"].as_i64().expect("a stored run")
}

fn a_follow_up_runs_only_what_failed_and_what_it_needs(kind: Kind) {
    let store = Store::new(kind);
    let peer = Peer::start();
    store.dir.write("p.yaml", &playbook(&peer.server.url));
    store.dir.write("disk.txt", "95");
    let first = store.run("p.yaml");
    assert_eq!(first.code, 1, "{first:?}");
    assert_eq!(first.step("orders")["verdict"], "fail");
    assert_eq!(first.step("disk")["verdict"], "fail");
    let first_id = latest_run(&store);
    let one_each: BTreeMap<String, usize> = ["clock", "feeds", "orders", "token"].map(|n| (n.to_owned(), 1)).into();
    assert_eq!(peer.hits(), one_each);

    // One cause fixed (the gateway), one not (the disk).
    peer.orders_fixed.store(true, Ordering::SeqCst);
    let id = first_id.to_string();
    let follow = store.runbook(["run", "p.yaml", "--rerun-failed", &id, "--format", "json"]).run();
    assert_eq!(follow.code, 1, "the follow-up's own result: the disk still fails: {follow:?}");
    let record = follow.json();
    let ran: Vec<&str> = record["steps"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ran, ["token", "orders", "disk"], "the failed steps and what they need, nothing else");
    let hits = peer.hits();
    assert_eq!((hits["token"], hits["orders"], hits["feeds"], hits["clock"]), (2, 2, 1, 1), "{hits:?}");
    let disk_reads = std::fs::read_to_string(store.dir.path().join("disk_reads.txt")).unwrap();
    assert_eq!(disk_reads.lines().count(), 2, "the disk is read again");
    assert_eq!(follow.step("orders")["verdict"], "pass");
    assert_eq!(follow.step("disk")["verdict"], "fail");
    let link = &record["follow_up_of"];
    assert_eq!(link["run"], first_id);
    assert_eq!(link["verdict"], "fail");
    assert_eq!(link["started_at"], first.json()["started"]);
    assert_eq!(link["was"], serde_json::json!({"orders": "fail", "disk": "fail"}));

    // Kept, linked both ways.
    let follow_id = latest_run(&store);
    assert_ne!(follow_id, first_id);
    let listed = store.runbook(["history", "rerun", "--format", "json"]).run().json();
    assert_eq!(listed[0]["follow_up_of"], first_id, "{listed}");
    assert!(listed[1].get("follow_up_of").is_none(), "{listed}");
    let table = store.runbook(["history", "rerun"]).run().stdout;
    assert!(table.contains("FOLLOW-UP OF") && table.contains(&format!("run {first_id}")), "{table}");
    let shown = store.runbook(["show", &id]).run();
    assert!(
        shown.stdout.contains(&format!("followed up by run {follow_id} (runbook run --rerun-failed {first_id})")),
        "{shown:?}"
    );

    // Every report format shows the link; the human ones also what each step run again was.
    let note = format!("follow-up of run {first_id} (started ");
    let counted = "2 of its steps run again, 1 now passes";
    let was = format!("was fail in run {first_id}");
    for format in ["text", "markdown", "html", "junit", "tap", "nagios", "json"] {
        let out = format!("report.{format}");
        let made = store.runbook(["show", &follow_id.to_string(), "--report", &out, "--report-format", format]).run();
        assert_eq!(made.code, 0, "{format}: {made:?}");
        let report = std::fs::read_to_string(store.dir.path().join(&out)).unwrap();
        if format == "json" {
            let json: serde_json::Value = serde_json::from_str(&report).unwrap();
            assert_eq!(json["follow_up_of"]["run"], first_id);
            continue;
        }
        assert!(report.contains(&note) && report.contains(counted), "{format}: {report}");
        if format != "nagios" {
            assert!(report.contains(&was), "{format}: {report}");
        }
    }
    let checklist = store.runbook(["show", &follow_id.to_string()]).run().stdout;
    assert!(checklist.contains(&note) && checklist.contains(&was), "{checklist}");
}

fn a_follow_up_of_an_unknown_run_is_refused(kind: Kind) {
    let store = Store::new(kind);
    let peer = Peer::start();
    store.dir.write("p.yaml", &playbook(&peer.server.url));
    store.dir.write("disk.txt", "10");
    let unknown = store.runbook(["run", "p.yaml", "--rerun-failed", "999999"]).run();
    assert_eq!(unknown.code, 2, "{unknown:?}");
    assert!(unknown.stderr.contains("no run 999999 in the history"), "{unknown:?}");
    assert!(peer.hits().is_empty(), "nothing ran");

    peer.orders_fixed.store(true, Ordering::SeqCst);
    assert_eq!(store.run("p.yaml").code, 0);
    let clean = latest_run(&store).to_string();
    let nothing = store.runbook(["run", "p.yaml", "--rerun-failed", &clean]).run();
    assert_eq!(nothing.code, 2, "a clean run leaves nothing to run again: {nothing:?}");
    assert!(nothing.stderr.contains("nothing to run again"), "{nothing:?}");

    store.dir.write(
        "other.yaml",
        "name: other\nsections:\n  - name: s\n    steps:\n      - { id: token, title: T, shell: { run: 'false' } }\n",
    );
    let other = store.runbook(["run", "other.yaml", "--rerun-failed", &clean]).run();
    assert_eq!(other.code, 2, "{other:?}");
    assert!(other.stderr.contains("is of playbook `rerun`, not `other`"), "{other:?}");

    // A run still going (or killed) has no verdicts to follow up.
    store.execute(&format!("UPDATE runs SET status = 'incomplete' WHERE id = {clean}"));
    let running = store.runbook(["run", "p.yaml", "--rerun-failed", &clean]).run();
    assert_eq!(running.code, 2, "{running:?}");
    assert!(running.stderr.contains("has not finished"), "{running:?}");
}
