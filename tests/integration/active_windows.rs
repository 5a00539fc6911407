//! Active windows (`active:`): outside its window a step does not run and is `not_due`,
//! counted apart and never as a pass, in every format; the run's exit code is untouched.
//! The clock is moved with the real `faketime`, at the window's edges on both days New
//! York changes its clocks in 2026, on a weekend and on a holiday.

use crate::util::{Outcome, TestDir};

/// Every day, 09:30 to 16:00 New York time.
const MARKET: &str = r#"
name: market
active: { from: "09:30", to: "16:00", tz: America/New_York }
sections:
  - name: s
    steps:
      - id: open
        title: Market is open
        shell: { run: 'true' }
        expect: ['exit_code == 0']
"#;

/// Weekdays only, with a holidays file; one step with its own window that is always open.
const WEEKDAYS: &str = r#"
name: weekdays
active:
  days: [mon-fri]
  from: "09:30"
  to: "16:00"
  tz: America/New_York
  holidays: holidays.txt
sections:
  - name: s
    steps:
      - id: session
        title: Trading session checks
        shell: { run: 'false' }
        expect: ['exit_code == 0']
      - id: always
        title: Runs whatever the day
        shell: { run: 'true' }
        expect: ['exit_code == 0']
        active: { from: "00:00", to: "23:59:59", tz: UTC }
"#;

fn run_at(dir: &TestDir, file: &str, utc: &str, format: &str) -> Outcome {
    dir.runbook().args(["run", file, "--format", format]).faketime(utc).run()
}

fn verdict_at(dir: &TestDir, file: &str, utc: &str) -> String {
    let out = run_at(dir, file, utc, "json");
    assert!(out.code == 0 || out.code == 1, "{out:?}");
    out.step(if file == "market.yaml" { "open" } else { "session" })["verdict"].as_str().unwrap().to_owned()
}

#[test]
fn the_window_edges_hold_in_local_time_across_both_clock_changes() {
    let dir = TestDir::new();
    dir.write("market.yaml", MARKET);
    // 2026-03-08, the first day of EDT (UTC-4): 09:30 local is 13:30Z, not 14:30Z.
    // 2026-11-01, the first day of EST again (UTC-5): 09:30 local is 14:30Z.
    let cases = [
        ("2026-03-08 13:29:59", "not_due"),
        ("2026-03-08 13:30:00", "pass"),
        ("2026-03-08 19:59:55", "pass"),
        ("2026-03-08 20:00:00", "not_due"),
        ("2026-11-01 14:29:59", "not_due"),
        ("2026-11-01 14:30:00", "pass"),
        ("2026-11-01 20:59:55", "pass"),
        ("2026-11-01 21:00:00", "not_due"),
    ];
    for (utc, want) in cases {
        assert_eq!(verdict_at(&dir, "market.yaml", utc), want, "at {utc}Z");
    }
}

#[test]
fn weekends_and_holidays_are_not_due_and_a_step_window_replaces_the_playbook_one() {
    let dir = TestDir::new();
    dir.write("weekdays.yaml", WEEKDAYS);
    dir.write("holidays.txt", "# NYSE\n2026-07-03  # Independence Day, observed\n\n2026-12-25\n");
    let saturday = run_at(&dir, "weekdays.yaml", "2026-03-07 15:00:00", "json");
    assert_eq!(saturday.code, 0, "not due never fails a run: {saturday:?}");
    let session = saturday.step("session");
    assert_eq!(session["verdict"], "not_due");
    assert!(session["message"].as_str().unwrap().contains("is not an active day"), "{session}");
    assert_eq!(saturday.step("always")["verdict"], "pass", "the step's own window replaces the playbook's");
    let holiday = run_at(&dir, "weekdays.yaml", "2026-07-03 15:00:00", "json");
    assert_eq!(holiday.step("session")["verdict"], "not_due");
    assert!(holiday.step("session")["message"].as_str().unwrap().contains("2026-07-03 is a holiday (holidays.txt)"));
    // The day before is a Thursday inside the window: the failing step runs and fails.
    let thursday = run_at(&dir, "weekdays.yaml", "2026-07-02 15:00:00", "json");
    assert_eq!(thursday.code, 1, "{thursday:?}");
    assert_eq!(thursday.step("session")["verdict"], "fail");
}

#[test]
fn not_due_never_counts_as_a_pass_in_any_format() {
    let dir = TestDir::new();
    dir.write("market.yaml", MARKET);
    let at = "2026-03-08 12:00:00";
    let json = run_at(&dir, "market.yaml", at, "json");
    assert_eq!(json.code, 0, "{json:?}");
    let record = json.json();
    assert_eq!(record["counts"]["pass"], 0);
    assert_eq!(record["counts"]["not_due"], 1);
    assert!(!record["signoff"]["statement"].as_str().unwrap().starts_with("All "), "{record}");
    assert_eq!(record["signoff"]["not_due"][0], "open");
    for (format, shows, never) in [
        ("text", "0 passed", "1 passed"),
        ("tap", "ok 1 - Market is open [open] # SKIP not due:", "# SKIP not due: 1"),
        ("junit", "<skipped message=\"not due:", "<skipped message=\"1"),
        ("nagios", "CHECKLIST OK - market: 1 not due |", "'passed'=1"),
        ("markdown", "1 not due", "1 passed"),
        ("html", "<b>1</b> not due", "<b>1</b> passed"),
    ] {
        let out = run_at(&dir, "market.yaml", at, format);
        assert_eq!(out.code, 0, "{format}: {out:?}");
        assert!(out.stdout.contains(shows), "{format} shows `{shows}`: {}", out.stdout);
        assert!(!out.stdout.contains(never), "{format} never `{never}`: {}", out.stdout);
    }
}

#[test]
fn a_bad_window_is_refused_at_its_place() {
    let dir = TestDir::new();
    let book = |active: &str| {
        format!(
            "name: w\nactive: {active}\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: A\n        \
             shell: {{ run: 'true' }}\n"
        )
    };
    dir.write("zone.yaml", &book(r#"{ from: "09:30", to: "16:00", tz: America/Nowhere }"#));
    dir.write("time.yaml", &book(r#"{ from: "9.30", to: "16:00", tz: UTC }"#));
    dir.write("midnight.yaml", &book(r#"{ from: "22:00", to: "02:00", tz: UTC }"#));
    dir.write("missing.yaml", &book(r#"{ from: "09:30", to: "16:00", tz: UTC, holidays: nope.txt }"#));
    dir.write("baddate.yaml", &book(r#"{ from: "09:30", to: "16:00", tz: UTC, holidays: days.txt }"#));
    dir.write("days.txt", "2026-01-01\n  2026-02-30\n");
    // Each problem is placed on the value at fault: line 2, the column where `at` starts.
    for (file, at, says) in [
        ("zone.yaml", "America/Nowhere", "`America/Nowhere` is not a time zone"),
        ("time.yaml", "\"9.30\"", "`9.30` is not a time"),
        ("midnight.yaml", "\"22:00\"", "crosses midnight"),
        ("missing.yaml", "nope.txt", "holidays: cannot read"),
        ("baddate.yaml", "days.txt", "days.txt:2:3: `2026-02-30` is not a date"),
    ] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let line = text.lines().nth(1).unwrap();
        let place = format!("{file}:2:{}", line.find(at).unwrap() + 1);
        let place = place.as_str();
        let out = dir.runbook().args(["validate", file]).run();
        assert_eq!(out.code, 2, "{file}: {out:?}");
        assert!(out.stdout.contains(place) || out.stderr.contains(place), "{file} at {place}: {out:?}");
        assert!(out.stdout.contains(says) || out.stderr.contains(says), "{file} says {says}: {out:?}");
    }
}
