//! Waivers: a known exception turns a step's `fail` into `waived` until it
//! expires (shown in every output, counted apart, listed in the sign-off); an
//! expired waiver is a failure that names it; an `error` is never waived.

fn playbook(expires: &str) -> String {
    format!(
        r#"name: waivers
sections:
  - name: s
    steps:
      - id: disk
        title: Disk has room
        shell: {{ run: 'true' }}
        expect: ['exit_code == 1']
      - id: api
        title: API answers
        http: {{ url: "http://127.0.0.1:1/" }}
        expect: ['status == 200']
      - id: ok
        title: Fine
        shell: {{ run: 'true' }}
waivers:
  - {{ step: disk, reason: new volume on Friday, owner: ops-lead, expires: "{expires}" }}
  - {{ step: api, reason: API is being moved, owner: ops-lead, expires: "2099-12-31" }}
"#
    )
}

#[test]
fn a_waiver_in_force_turns_a_failure_into_waived_in_every_output_but_never_hides_an_error() {
    let dir = crate::util::TestDir::new();
    dir.write("p.yaml", &playbook("2099-12-31"));
    let out = dir.runbook().args(["run", "p.yaml", "--format", "json", "--report", "r.md", "--junit", "j.xml"]).run();
    assert_eq!(out.code, 1, "the error still fails the run: {out:?}");
    let disk = out.step("disk");
    assert_eq!(disk["verdict"], "waived", "{disk}");
    assert!(
        disk["message"]
            .as_str()
            .unwrap()
            .contains("accepted by a waiver: new volume on Friday (ops-lead, until 2099-12-31)")
    );
    assert_eq!(out.step("api")["verdict"], "error", "an error is never waived");
    let record = out.json();
    assert_eq!(record["counts"]["waived"], 1);
    assert_eq!(record["counts"]["fail"], 0);
    let statement = record["signoff"]["statement"].as_str().unwrap();
    assert!(statement.contains("Waived: disk: new volume on Friday (ops-lead, until 2099-12-31)."), "{statement}");
    let md = std::fs::read_to_string(dir.path().join("r.md")).unwrap();
    assert!(md.contains("1 waived"), "{md}");
    let junit = std::fs::read_to_string(dir.path().join("j.xml")).unwrap();
    assert!(junit.contains("waived: "), "{junit}");
    let journal = dir.runbook().args(["run", "p.yaml", "--journal", "ops.log"]).run();
    assert_eq!(journal.code, 1);
    let journal = std::fs::read_to_string(dir.path().join("ops.log")).unwrap();
    assert!(journal.trim_end().ends_with(" waived=1"), "{journal}");
    let text = dir.runbook().args(["run", "p.yaml"]).run();
    assert!(text.stdout.contains("1 waived"), "{}", text.stdout);
    let html = dir.runbook().args(["run", "p.yaml", "--report", "r.html"]).run();
    assert_eq!(html.code, 1);
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.contains("<b>1</b> waived"), "{html}");
}

#[test]
fn an_expired_waiver_is_a_failure_that_names_it() {
    let dir = crate::util::TestDir::new();
    dir.write("p.yaml", &playbook("2020-01-31"));
    let out = dir.runbook().args(["run", "p.yaml", "--format", "json"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    let disk = out.step("disk");
    assert_eq!(disk["verdict"], "fail", "{disk}");
    let message = disk["message"].as_str().unwrap();
    assert!(message.contains("the waiver expired: new volume on Friday (ops-lead, until 2020-01-31)"), "{message}");
    assert_eq!(disk["waiver"]["expired"], true);
    assert_eq!(out.json()["counts"]["waived"], 0);
}

#[test]
fn a_waiver_naming_an_unknown_step_or_a_bad_date_is_placed_in_the_file() {
    let dir = crate::util::TestDir::new();
    dir.write("p.yaml", &playbook("31/12/2099").replace("step: disk,", "step: dsk,"));
    let out = dir.runbook().args(["validate", "p.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("p.yaml:17:13: `waivers` names unknown step `dsk`; did you mean `disk`?"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("waiver `expires: 31/12/2099` is not a date of the form YYYY-MM-DD"), "{}", out.stderr);
}

#[test]
fn a_waivers_file_adds_waivers_and_is_checked_against_the_playbook() {
    let dir = crate::util::TestDir::new();
    dir.write("p.yaml", &playbook("2099-12-31").replace("step: disk,", "step: ok,"));
    dir.write("w.yaml", "waivers:\n  - { step: disk, reason: kept apart, owner: sre, expires: \"2099-01-01\" }\n");
    let out = dir.runbook().args(["run", "p.yaml", "--format", "json", "--waivers", "w.yaml"]).run();
    let disk = out.step("disk");
    assert_eq!(disk["verdict"], "waived", "{disk}");
    assert_eq!(disk["waiver"]["owner"], "sre");
    dir.write("w.yaml", "waivers:\n  - { step: dsk, reason: kept apart, owner: sre, expires: \"2099-01-01\" }\n");
    let out = dir.runbook().args(["run", "p.yaml", "--waivers", "w.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.stderr, "error: --waivers: w.yaml:2:13: `waivers` names unknown step `dsk`; did you mean `disk`?\n");
}

#[test]
fn a_sign_off_attesting_a_waived_step_is_left_to_the_person() {
    let dir = crate::util::TestDir::new();
    let book = playbook("2099-12-31").replace(
        "waivers:",
        "      - id: signoff\n        title: Disk checked\n        attests: [disk]\n        manual: Confirm.\nwaivers:",
    );
    dir.write("p.yaml", &book);
    let out = dir.runbook().args(["run", "p.yaml", "--format", "json"]).run();
    assert_eq!(out.step("disk")["verdict"], "waived", "{out:?}");
    assert_eq!(out.step("signoff")["verdict"], "pending");
}

#[test]
fn watch_takes_a_waivers_file_as_run_does() {
    let dir = crate::util::TestDir::new();
    dir.write("p.yaml", &playbook("2099-12-31").replace("step: disk,", "step: ok,"));
    dir.write("w.yaml", "waivers:\n  - { step: disk, reason: kept apart, owner: sre, expires: \"2099-01-01\" }\n");
    let args = ["watch", "p.yaml", "--every", "1h", "--format", "json", "--no-history", "--waivers", "w.yaml"];
    let mut watch = crate::util::Background::spawn(dir.runbook().args(args));
    watch.wait_until("one run", |out, _| out.lines().next().is_some_and(|l| l.ends_with('}')));
    assert_eq!(watch.terminate(), 0, "{}", watch.stderr());
    let record: serde_json::Value = serde_json::from_str(watch.stdout().lines().next().unwrap()).unwrap();
    let disk = record["steps"].as_array().unwrap().iter().find(|s| s["id"] == "disk").unwrap().clone();
    assert_eq!(disk["verdict"], "waived", "{disk}");
    assert_eq!(disk["waiver"]["owner"], "sre");
    dir.write("w.yaml", "waivers:\n  - { step: dsk, reason: kept apart, owner: sre, expires: \"2099-01-01\" }\n");
    let out = dir.runbook().args(["watch", "p.yaml", "--every", "1h", "--waivers", "w.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("`waivers` names unknown step `dsk`"), "{}", out.stderr);
}

#[test]
fn a_manual_item_answered_fail_is_waived_as_an_observed_failure_is() {
    let dir = crate::util::TestDir::new();
    dir.write(
        "p.yaml",
        r#"name: manual waiver
sections:
  - name: s
    steps:
      - id: news
        title: No market-moving news
        manual: Read the morning news
waivers:
  - { step: news, reason: known holiday thin market, owner: ops-lead, expires: "2099-12-31" }
"#,
    );
    dir.write("answers.yaml", "news: {verdict: fail, comment: thin market}\n");
    let out = dir.runbook().args(["run", "p.yaml", "--format", "json", "--answers", "answers.yaml"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    let news = out.step("news");
    assert_eq!(news["verdict"], "waived", "{news}");
    assert_eq!(news["answer"]["verdict"], "fail", "the answer itself is kept: {news}");
    assert!(news["message"].as_str().unwrap().contains("accepted by a waiver: known holiday"), "{news}");
    // Without the waiver the same answer fails the run.
    dir.write(
        "bare.yaml",
        std::fs::read_to_string(dir.path().join("p.yaml")).unwrap().split("waivers:").next().unwrap(),
    );
    let bare = dir.runbook().args(["run", "bare.yaml", "--format", "json", "--answers", "answers.yaml"]).run();
    assert_eq!(bare.code, 1, "{bare:?}");
    assert_eq!(bare.step("news")["verdict"], "fail");
}
