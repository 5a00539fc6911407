//! `runbook serve`'s HTML: with several playbooks `GET /` is the status page
//! that links to each; each playbook's page is byte for byte the report `runbook
//! show --report x.html` renders for the same stored run plus one link back to
//! the status page, and a playbook's own `report.template` is used as `runbook
//! run --report` would.

use crate::scrape::{served_url, wait_for};
use crate::sim::http;
use crate::util::{Background, TestDir};

const ALPHA: &str = r#"
name: Alpha
report: { template: alpha.html.hbs }
sections:
  - name: Checks
    steps:
      - id: up
        title: Up
        shell: { run: "true" }
"#;

const BETA: &str = r#"
name: Beta <b>
sections:
  - name: Alerts
    steps:
      - id: latency
        title: Signal latency < 200ms
        severity: warning
        shell: { run: "echo 350", json: true }
        capture: { p99: $.json }
        expect: ["p99 < 200"]
"#;

/// `runbook serve alpha.yaml beta.yaml` every `every` with a history in `dir`, once it
/// listens: the server, its URL and the history's path.
fn serve_both(dir: &TestDir, every: &str) -> (Background, String, String) {
    let history = dir.path().join("history.db").display().to_string();
    let serve = Background::spawn(dir.runbook().with_history().args([
        "serve",
        "alpha.yaml",
        "beta.yaml",
        "--listen",
        "127.0.0.1:0",
        "--every",
        every,
        "--history",
        &history,
    ]));
    serve.wait_until("the address", |_, err| err.contains("serving on http://"));
    let url = served_url(&serve.stderr());
    (serve, url, history)
}

fn get(url: &str) -> (u16, String) {
    let (status, body) = http("GET", url, None);
    (status, body.as_str().map(str::to_owned).unwrap_or_else(|| body.to_string()))
}

#[test]
fn the_index_links_each_playbook_to_the_same_report_show_renders() {
    let dir = TestDir::new();
    dir.write("alpha.yaml", ALPHA);
    dir.write("alpha.html.hbs", "<p>Alpha's own template: {{playbook}} is {{verdict}}</p>\n");
    dir.write("beta.yaml", BETA);
    // One run each: the page compared below cannot move on under the test.
    let (mut serve, url, history) = serve_both(&dir, "1h");
    let history = history.as_str();
    wait_for(&url, "a run of each", &|s| {
        s.contains_key(r#"runbook_runs_total{playbook="Alpha"}"#)
            && s.contains_key(r#"runbook_runs_total{playbook="Beta <b>"}"#)
    });

    let (status, index) = get(&format!("{url}/"));
    assert_eq!(status, 200);
    assert!(index.contains(r#"<a href="/playbooks/1">Alpha</a> <span class="badge pass">pass</span>"#), "{index}");
    assert!(
        index.contains(r#"<a href="/playbooks/2">Beta &lt;b&gt;</a> <span class="badge fail">fail</span>"#),
        "{index}"
    );
    assert!(index.contains("0 passed, 0 warned, 1 failed, 0 errors"), "one failure, no error:\n{index}");
    assert!(index.contains("Signal latency &lt; 200ms <code>p99 = 350"), "the failing step and what it saw:\n{index}");

    // A served report is the file plus one link back to the status page, which works when served.
    let nav = runbook::report::page::NAV;
    assert!(nav.contains(r#"<a href="/status">"#), "{nav}");
    let (status, alpha) = get(&format!("{url}/playbooks/1"));
    let expected = format!("{nav}<p>Alpha's own template: Alpha is pass</p>\n");
    assert_eq!((status, alpha.as_str()), (200, expected.as_str()), "no <body>: the link comes first");
    let (status, back) = get(&format!("{url}/status"));
    assert!(status == 200 && back.contains(r#"<a href="/playbooks/1">Alpha</a>"#), "{back}");

    let (status, beta) = get(&format!("{url}/playbooks/2"));
    assert_eq!(status, 200);
    let listed =
        dir.runbook().with_history().args(["history", "Beta <b>", "--format", "json", "--history", history]).run();
    let id = listed.json()[0]["id"].as_i64().unwrap_or_else(|| panic!("a stored run: {}", listed.stdout));
    let shown = dir
        .runbook()
        .with_history()
        .args(["show", &id.to_string(), "--report", "beta.html", "--history", history])
        .run();
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let report = std::fs::read_to_string(dir.path().join("beta.html")).unwrap();
    assert!(!report.contains(nav), "the file has no link back: offline it leads nowhere");
    assert_eq!(beta.matches(nav).count(), 1, "{beta}");
    assert!(beta.contains(&format!("<body>\n{nav}")), "the link just inside <body>");
    assert_eq!(beta.replacen(nav, "", 1), report, "serve's page and show's report differ beyond the link back");
    assert!(beta.contains(r#"<span class="severity warning">warning</span> Signal latency &lt; 200ms"#), "{beta}");

    for missing in ["0", "3"] {
        let (status, body) = get(&format!("{url}/playbooks/{missing}"));
        assert_eq!(status, 404, "{body}");
    }
    assert_eq!(serve.terminate(), 0, "{}", serve.stderr());
}

#[test]
fn a_broken_report_template_stops_serve_before_it_listens() {
    let dir = TestDir::new();
    dir.write("alpha.yaml", ALPHA);
    dir.write("alpha.html.hbs", "{{#each steps}\n");
    let out = dir.runbook().args(["serve", "alpha.yaml", "--listen", "127.0.0.1:0"]).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("the playbook's report.template"), "{}", out.stderr);
    assert!(!out.stderr.contains("serving on"), "{}", out.stderr);
}

/// The status page as a phone's browser shows it: headless Chromium loads it, runs
/// nothing of ours, and the DOM it builds holds each playbook's verdict, its failing
/// step, a strip with one mark per run so far, and the links to each report.
#[test]
fn the_status_page_renders_in_a_headless_browser() {
    let dir = TestDir::new();
    dir.write("alpha.yaml", &ALPHA.replace("report: { template: alpha.html.hbs }\n", ""));
    dir.write("beta.yaml", BETA);
    let (mut serve, url, _) = serve_both(&dir, "1s");
    wait_for(&url, "two runs of each", &|s| {
        s.get(r#"runbook_runs_total{playbook="Alpha"}"#).is_some_and(|n| *n >= 2.0)
            && s.get(r#"runbook_runs_total{playbook="Beta <b>"}"#).is_some_and(|n| *n >= 2.0)
    });
    let shot = dir.path().join("phone.png");
    let browser = |extra: &[&str]| {
        std::process::Command::new("chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=390,844"])
            .args(extra)
            .arg(format!("{url}/status"))
            .output()
            .expect("run chromium (`bash .ci/services.sh` installs it)")
    };
    let dom = browser(&["--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    assert!(dom.contains("<h1>Status</h1>"), "{dom}");
    assert!(
        dom.contains(r#"<span class="badge pass">pass</span>"#)
            && dom.contains(r#"<span class="badge fail">fail</span>"#),
        "{dom}"
    );
    assert!(dom.contains("Signal latency &lt; 200ms"), "{dom}");
    let marks = dom.matches(r#"<span class="fail" title=""#).count();
    assert!(marks >= 2, "Beta's 24-hour strip shows each of its runs: {dom}");
    assert!(dom.contains(r#"name="viewport" content="width=device-width"#), "{dom}");
    let out = browser(&[&format!("--screenshot={}", shot.display())]);
    let png = std::fs::read(&shot)
        .unwrap_or_else(|e| panic!("no screenshot ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    assert_eq!(serve.terminate(), 0, "{}", serve.stderr());
}
