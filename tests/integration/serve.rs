//! `runbook serve`: scraped over real HTTP; the metrics are parsed, checked by
//! `promtool check metrics`, and follow a step's input as the test edits it.

use std::collections::BTreeMap;

use crate::scrape::{promtool_accepts, served_url, wait_for};
use crate::sim::http;
use crate::util::{Background, TestDir};

const PLAYBOOK: &str = r#"
name: 'Serve "demo" \ test'
sections:
  - name: Numbers
    steps:
      - id: reads
        title: The number in `val` is below 10
        shell: { run: "cat val", json: true }
        capture: { n: "$.json" }
        expect: ["n < 10"]
  - name: Actions
    steps:
      - id: touches
        title: An action serve must not run
        shell: { run: "touch touched" }
        action: true
        severity: warning
"#;

const STEP: &str = r#"playbook="Serve \"demo\" \\ test",section="Numbers",step="reads""#;

#[test]
fn metrics_follow_the_input_and_pass_promtool() {
    let dir = TestDir::new();
    dir.write("serve.yaml", PLAYBOOK);
    dir.write("val", "5\n");
    let mut serve =
        Background::spawn(dir.runbook().args(["serve", "serve.yaml", "--listen", "127.0.0.1:0", "--every", "1s"]));
    serve.wait_until("the address", |_, err| err.contains("serving on http://"));
    let url = served_url(&serve.stderr());

    let wait_for = |what: &str, ready: &dyn Fn(&BTreeMap<String, f64>) -> bool| wait_for(&url, what, ready);
    let value = format!(r#"runbook_step_value{{{STEP},name="n"}}"#);
    let verdict = |v: &str| format!(r#"runbook_step_verdict{{{STEP},severity="critical",verdict="{v}"}}"#);
    let (text, first) = wait_for("a first run", &|s| s.contains_key(&value));
    promtool_accepts(&text);
    assert_eq!(first[&value], 5.0);
    assert_eq!(first[&verdict("pass")], 1.0);
    assert_eq!(first[&verdict("fail")], 0.0);
    let clean = r#"runbook_run_clean{playbook="Serve \"demo\" \\ test"}"#;
    assert_eq!(first[clean], 1.0);
    let skipped = r#"runbook_step_verdict{playbook="Serve \"demo\" \\ test",section="Actions",step="touches",severity="warning",verdict="skipped"}"#;
    assert_eq!(first[skipped], 1.0, "the action is skipped:\n{text}");
    assert!(first[r#"runbook_run_timestamp_seconds{playbook="Serve \"demo\" \\ test"}"#] > 1.6e9);

    dir.write("val", "50\n");
    let (text, second) = wait_for("the new value", &|s| s.get(&value) == Some(&50.0));
    promtool_accepts(&text);
    assert_eq!(second[&verdict("fail")], 1.0);
    assert_eq!(second[&verdict("pass")], 0.0);
    assert_eq!(second[clean], 0.0);
    let runs = r#"runbook_runs_total{playbook="Serve \"demo\" \\ test"}"#;
    assert!(second[runs] > first[runs]);

    let (status, page) = http("GET", &format!("{url}/"), None);
    assert_eq!(status, 200);
    let page = page.as_str().unwrap().to_owned();
    // The report `run --report x.html` writes, for the only playbook.
    assert!(page.contains("<title>Serve &quot;demo&quot; \\ test — FAIL</title>"), "{page}");
    assert!(page.contains("n &#x3D; 50 → expected n &lt; 10"), "{page}");
    assert!(page.contains(r#"<section class="box" id="attention">"#), "{page}");
    let (status, health) = http("GET", &format!("{url}/healthz"), None);
    assert_eq!((status, health.as_str()), (200, Some("ok\n")));

    assert_eq!(serve.terminate(), 0, "a SIGTERM stop is clean:\n{}", serve.stderr());
    assert!(!dir.path().join("touched").exists(), "serve ran an action");
}

#[test]
fn bad_arguments_exit_2_before_serving() {
    let dir = TestDir::new();
    dir.write("a.yaml", PLAYBOOK);
    dir.write("b.yaml", PLAYBOOK);
    let twice = dir.runbook().args(["serve", "a.yaml", "b.yaml", "--listen", "127.0.0.1:0"]).run();
    assert_eq!(twice.code, 2, "{}", twice.stderr);
    assert!(twice.stderr.contains("are both named"), "{}", twice.stderr);
    let every = dir.runbook().args(["serve", "a.yaml", "--every", "soon"]).run();
    assert_eq!(every.code, 2);
    assert!(every.stderr.contains("--every"), "{}", every.stderr);
    let listen = dir.runbook().args(["serve", "a.yaml", "--listen", "nowhere"]).run();
    assert_eq!(listen.code, 2);
    assert!(listen.stderr.contains("--listen `nowhere`"), "{}", listen.stderr);
}
