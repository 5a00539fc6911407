//! Issue 17, "not judged": a trend check with no earlier value yet is never a plain pass.
//! A first run says so in every output (checklist, JSON, JUnit, Markdown, HTML, text report,
//! metrics, sign-off); `on_no_history` decides the verdict; a second run judges as usual.

use crate::history::store::{Kind, Store};
use crate::scrape::{promtool_accepts, served_url, wait_for};
use crate::util::{Background, TestDir};

const GROWTH: &str = r#"
name: growth
sections:
  - name: Database
    steps:
      - id: db_size
        title: Database size grows less than 10%
        shell: { run: "cat size.txt", json: true }
        capture: { size: $.json }
        expect: ['delta_pct(prev("size"), size) < 10']
      - id: plain
        title: A check that needs no history
        shell: { run: "echo 1", json: true }
        expect: ["json == 1"]
"#;

const NOTE: &str = r#"not judged: no earlier value for `delta_pct(prev("size"), size) < 10` (on_no_history: warn); judged from the next run"#;

fn read(store: &Store, name: &str) -> String {
    std::fs::read_to_string(store.dir.path().join(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

#[test]
fn a_first_run_says_not_judged_in_every_format_and_a_second_run_judges() {
    let store = Store::new(Kind::Sqlite);
    store.dir.write("growth.yaml", GROWTH);
    store.dir.write("size.txt", "2000");
    let first = store.runbook(["run", "growth.yaml", "--format", "json", "--report", "r.md", "--junit", "j.xml"]).run();
    // Default rule `warn`: exit 0, as any warning.
    assert_eq!(first.code, 0, "{first:?}");
    let json = first.json();
    let step = first.step("db_size");
    assert_eq!(step["verdict"], "warn", "{step}");
    assert_eq!(step["message"], NOTE);
    assert_eq!(
        step["not_judged"],
        serde_json::json!({"checks": [r#"delta_pct(prev("size"), size) < 10"#], "rule": "warn"})
    );
    assert_eq!(step["checks"][0]["no_history"], true);
    assert!(first.step("plain").get("not_judged").is_none(), "{json}");
    assert_eq!(json["counts"]["not_judged"], 1, "{json}");
    assert_eq!((json["counts"]["pass"].clone(), json["counts"]["warn"].clone()), (1.into(), 1.into()));
    let statement = json["signoff"]["statement"].as_str().unwrap_or_default();
    assert_eq!(statement, "1 check passed. 1 check not judged (no history yet): db_size.");
    assert_eq!(json["signoff"]["not_judged"], serde_json::json!(["db_size"]));

    let markdown = read(&store, "r.md");
    assert!(markdown.contains("**(not judged, on_no_history: warn)**"), "{markdown}");
    assert!(markdown.contains(", 1 not judged"), "{markdown}");
    assert!(markdown.contains(statement), "{markdown}");
    assert!(!markdown.contains("All 2 checks passed"), "{markdown}");

    let xml = read(&store, "j.xml");
    let case = xml.split("[db_size]").nth(1).and_then(|rest| rest.split("</testcase>").next()).unwrap_or_default();
    assert!(case.contains("\non_no_history: warn\n"), "{xml}");
    assert!(case.contains("\nnot_judged: delta_pct(prev(&quot;size&quot;), size) &lt; 10\n"), "{xml}");
    assert!(case.contains("not judged: no earlier value"), "{xml}");
    // Still a valid JUnit file an independent reader takes.
    let suites = crate::report_junit::parse(&store.dir.path().join("j.xml"));
    crate::report_junit::assert_valid(&store.dir.path().join("j.xml"));
    assert_eq!(suites[0]["tests"], 2, "{suites}");

    let html_out = store.runbook(["show", "1", "--report", "r.html"]).run();
    assert_eq!(html_out.code, 0, "{html_out:?}");
    let html = read(&store, "r.html");
    assert!(html.contains("(not judged, on_no_history: warn)"), "{html}");
    assert!(html.contains("<b>1</b> not judged"), "{html}");
    assert!(html.contains("not judged (no history yet): db_size."), "{html}");

    let text_out = store.runbook(["show", "1", "--report", "r.txt"]).run();
    assert_eq!(text_out.code, 0, "{text_out:?}");
    let text = read(&store, "r.txt");
    assert!(text.contains("[db_size] warn"), "{text}");
    assert!(text.contains("(not judged, on_no_history: warn)"), "{text}");
    assert!(text.contains(", 1 not judged"), "{text}");
    assert!(text.contains(statement), "{text}");

    let checklist = store.runbook(["show", "1"]).run();
    assert!(checklist.stdout.contains("(not judged, on_no_history: warn)"), "{}", checklist.stdout);
    assert!(checklist.stdout.contains("0 pending, 1 not judged in"), "{}", checklist.stdout);

    // With an earlier value the check is judged as usual: nothing "not judged" is left.
    store.dir.write("size.txt", "2100");
    let second = store.run("growth.yaml");
    assert_eq!(second.code, 0, "{second:?}");
    let json = second.json();
    assert_eq!(second.step("db_size")["verdict"], "pass", "{json}");
    assert_eq!(second.step("db_size")["message"], "");
    assert!(second.step("db_size").get("not_judged").is_none(), "{json}");
    assert_eq!(json["counts"]["not_judged"], 0);
    assert_eq!(json["signoff"]["statement"], "All 2 checks passed.");
}

const RULES: &str = r#"
name: rules
defaults: { on_no_history: fail }
sections:
  - name: Trends
    steps:
      - id: strict
        title: Strict by the defaults
        shell: { run: "echo 5", json: true }
        capture: { n: $.json }
        expect: ['n >= prev("n")']
      - id: lenient
        title: Lenient by its own rule
        shell: { run: "echo 5", json: true }
        capture: { n: $.json }
        expect: ['n >= prev("n")']
        on_no_history: pass
"#;

#[test]
fn on_no_history_fail_fails_the_step_and_pass_still_counts_it_not_judged() {
    let store = Store::new(Kind::Sqlite);
    store.dir.write("rules.yaml", RULES);
    let first = store.run("rules.yaml");
    assert_eq!(first.code, 1, "a `fail` rule fails the run: {first:?}");
    let json = first.json();
    assert_eq!(first.step("strict")["verdict"], "fail", "{json}");
    assert_eq!(first.step("strict")["not_judged"]["rule"], "fail");
    assert!(first.step("strict")["message"].as_str().unwrap_or("").contains("(on_no_history: fail)"), "{json}");
    assert_eq!(first.step("lenient")["verdict"], "pass", "{json}");
    assert_eq!(first.step("lenient")["not_judged"]["rule"], "pass");
    assert_eq!(json["counts"]["not_judged"], 2, "{json}");
    assert_eq!(
        json["signoff"]["statement"],
        "1 check failed: strict. 2 checks not judged (no history yet): strict, lenient."
    );
    assert_eq!(json["signoff"]["clean"], false);
    let text = store.runbook(["show", "1"]).run();
    assert!(text.stdout.contains("(not judged, on_no_history: pass)"), "{}", text.stdout);

    let second = store.run("rules.yaml");
    assert_eq!(second.code, 0, "judged from the second run on: {second:?}");
    assert_eq!(second.json()["counts"]["not_judged"], 0);
    assert_eq!(second.step("strict")["verdict"], "pass");
}

#[test]
fn metrics_show_a_step_not_judged_and_pass_promtool() {
    let dir = TestDir::new();
    dir.write("serve.yaml", GROWTH);
    dir.write("size.txt", "2000");
    // Tests keep no history, so every run of serve finds no earlier value.
    let mut serve =
        Background::spawn(dir.runbook().args(["serve", "serve.yaml", "--listen", "127.0.0.1:0", "--every", "1s"]));
    serve.wait_until("the address", |_, err| err.contains("serving on http://"));
    let url = served_url(&serve.stderr());
    let step = r#"playbook="growth",section="Database",step="db_size""#;
    let not_judged = format!(r#"runbook_step_not_judged{{{step},rule="warn"}}"#);
    let (text, samples) = wait_for(&url, "a first run", &|s| s.contains_key(&not_judged));
    promtool_accepts(&text);
    assert_eq!(samples[&not_judged], 1.0, "{text}");
    let plain = r#"runbook_step_not_judged{playbook="growth",section="Database",step="plain",rule="none"}"#;
    assert_eq!(samples[plain], 0.0, "{text}");
    assert_eq!(samples[r#"runbook_run_steps_not_judged{playbook="growth"}"#], 1.0, "{text}");
    let warn = format!(r#"runbook_step_verdict{{{step},severity="critical",verdict="warn"}}"#);
    assert_eq!(samples[&warn], 1.0, "never a plain pass:\n{text}");
    assert_eq!(serve.terminate(), 0, "{}", serve.stderr());
}

#[test]
fn a_rule_that_is_not_one_is_placed_and_named() {
    let dir = TestDir::new();
    dir.write("bad.yaml", &RULES.replace("on_no_history: fail", "on_no_history: maybe"));
    let out = dir.runbook().args(["validate", "bad.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("bad.yaml:3:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("`maybe` is not an on_no_history rule; write `pass`, `warn` or `fail`"),
        "{}",
        out.stderr
    );
    dir.write("bad.yaml", &RULES.replace("on_no_history: pass", "on_no_history: sometimes"));
    let out = dir.runbook().args(["validate", "bad.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("bad.yaml:17:"), "{}", out.stderr);
    assert!(out.stderr.contains("`sometimes` is not an on_no_history rule"), "{}", out.stderr);
}
