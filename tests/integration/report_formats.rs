//! Each report format from one run of the daily playbook: failures with
//! their observed values, pending manual items, the answered one with its
//! comment, the summary block, the sign-off — and never the secret. The long
//! formats are also compared with golden files.

use crate::report_fixture::{SECRET, daily_dir, golden, read, run_daily};

#[test]
fn the_markdown_report_lists_failures_pending_items_and_the_sign_off() {
    let dir = daily_dir();
    let out = run_daily(&dir, &["--report", "daily.md"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("report: daily.md"), "{}", out.stderr);
    let md = read(&dir, "daily.md");
    let attention =
        &md[md.find("## Needs attention").expect("attention block")..md.find("## Health").expect("section")];
    assert!(attention.contains("**FAIL** warning: P&L within limit (`pnl`)"), "{attention}");
    assert!(attention.contains("**FAIL** critical: The token is never shown (`token_echo`)"), "{attention}");
    assert!(md.contains("2 failed, 1 errors (2 critical, 1 warning), 1 skipped"), "{md}");
    assert!(
        attention.contains("daily = \"1234.5\", vars.limit = 100 → expected double(daily) < double(vars.limit)"),
        "{attention}"
    );
    assert!(attention.contains("timed out after 300ms"), "{attention}");
    let at = |id: &str| attention.find(&format!("`{id}`")).unwrap_or_else(|| panic!("{id} in:\n{attention}"));
    assert!(at("token_echo") < at("hung") && at("hung") < at("pnl"), "critical failures first:\n{attention}");
    assert!(at("pnl") < at("latency"), "failures come before warnings:\n{attention}");
    assert!(md.contains("## Pending manual checks\n\n- ? Logs reviewed (`logs`): Read the error log."), "{md}");
    assert!(md.contains("answered pass in the answers file: “quiet day; token ••••••”"), "{md}");
    assert!(md.contains("| Daily P&L | 1,234.50 |"), "{md}");
    assert!(md.contains("**✗ Not clean.** 3 checks failed: pnl, token_echo, hung. 1 check pending: logs."), "{md}");
    assert!(md.contains("| Operator | alice |"), "{md}");
    assert!(md.contains("End-of-day checks for &lt;Titan> & friends"), "markup in values is neutralised:\n{md}");
    assert!(!md.contains(SECRET), "{md}");
    golden("daily.md", &md);
}

#[test]
fn the_html_report_is_self_contained_escaped_and_puts_failures_first() {
    let dir = daily_dir();
    let out = run_daily(&dir, &["--report", "daily.html"]);
    assert_eq!(out.code, 1, "{out:?}");
    let html = read(&dir, "daily.html");
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    for external in ["<link", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(external), "external asset `{external}` in:\n{html}");
    }
    assert!(html.contains("@media print"), "print styles");
    assert!(html.contains("End-of-day checks for &lt;Titan&gt; &amp; friends"), "values are HTML-escaped");
    assert!(!html.contains("<Titan>"));
    let attention = html.find("id=\"attention\"").expect("attention box");
    let pending = html.find("id=\"pending\"").expect("pending box");
    let first_section = html.find("<h2><span class=\"v-error\">‼</span> Health</h2>").expect("Health section");
    assert!(attention < pending && pending < first_section, "summary boxes come before the sections");
    assert!(
        html.contains(
            "daily &#x3D; &quot;1234.5&quot;, vars.limit &#x3D; 100 → expected double(daily) &lt; double(vars.limit)"
        ),
        "{html}"
    );
    assert!(html.contains("<details class=\"step\" open>"), "failed steps are open");
    assert!(
        html.contains("<strong class=\"v-fail\">FAIL</strong> <span class=\"severity warning\">warning</span> P&amp;L within limit"),
        "{html}"
    );
    assert!(html.contains("<section class=\"box\" id=\"attention\">"), "red while a critical step fails:\n{html}");
    assert!(html.contains("<dt>Operator</dt><dd>alice</dd>"), "{html}");
    assert!(!html.contains(SECRET));
    golden("daily.html", &html);
}

#[test]
fn the_text_report_reads_like_the_paper_checklist() {
    let dir = daily_dir();
    run_daily(&dir, &["--report", "daily.txt"]);
    let text = read(&dir, "daily.txt");
    assert!(text.contains("NEEDS ATTENTION\n  ✗ FAIL critical: The token is never shown [token_echo]\n"), "{text}");
    assert!(text.contains("  ✗ FAIL warning: P&L within limit [pnl]\n      daily = \"1234.5\""), "{text}");
    assert!(text.contains("  ✗ P&L within limit [pnl] fail (warning) "), "{text}");
    assert!(text.contains("PENDING MANUAL CHECKS\n  ? Logs reviewed [logs]"), "{text}");
    assert!(text.contains("  Daily P&L: 1,234.50\n"), "{text}");
    assert!(text.contains("  Operator:   alice\n"), "{text}");
    assert!(!text.contains(SECRET));
    golden("daily.txt", &text);
}

#[test]
fn report_format_overrides_the_extension_and_markdown_is_the_default() {
    let dir = daily_dir();
    run_daily(&dir, &["--report", "daily.log"]);
    assert!(read(&dir, "daily.log").starts_with("# Daily ops\n"));
    run_daily(&dir, &["--report", "daily.out", "--report-format", "json"]);
    let record: serde_json::Value = serde_json::from_str(&read(&dir, "daily.out")).expect("JSON report");
    assert_eq!(record["signoff"]["operator"], "alice");
    let out = run_daily(&dir, &["--report", "x.md", "--report-format", "pdf"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("unknown report format `pdf`"), "{}", out.stderr);
}

#[test]
fn without_an_operator_the_sign_off_lines_stay_blank() {
    let dir = daily_dir();
    let out = dir.runbook().args(["run", "playbook.yaml", "--report", "r.md"]).env("RB_TEST_TOKEN", SECRET).run();
    assert_eq!(out.code, 1, "{out:?}");
    let md = read(&dir, "r.md");
    assert!(md.contains("| Operator | \\_\\_\\_"), "{md}");
    assert!(md.contains("2 checks pending: news, logs."), "{md}");
}

#[test]
fn a_custom_template_gets_the_record_and_the_helpers() {
    let dir = daily_dir();
    dir.write(
        "mine.hbs",
        "{{playbook}} by {{signoff.operator}}: {{#each attention}}{{icon verdict}}{{id}} {{/each}}\
         | {{number 1234567.891 decimals=1}} | {{bytes 1536}} | {{duration 61000}}\n",
    );
    let out = run_daily(&dir, &["--report", "mine.txt", "--template", "mine.hbs"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(
        read(&dir, "mine.txt"),
        "Daily ops by alice: ✗token_echo ‼hung ✗pnl !latency | 1,234,567.9 | 1.5 KiB | 1m 01s\n"
    );
}

#[test]
fn a_playbook_names_its_own_template_and_a_broken_one_stops_before_the_run() {
    let dir = daily_dir();
    dir.write("t/short.hbs", "{{playbook}}: {{verdict}}\n");
    dir.write("own.yaml", &format!("{}report: {{ template: t/short.hbs }}\n", crate::report_fixture::PLAYBOOK));
    let out = dir.runbook().args(["run", "own.yaml", "--report", "r.md"]).env("RB_TEST_TOKEN", SECRET).run();
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(read(&dir, "r.md"), "Daily ops: error\n");
    dir.write("broken.hbs", "{{#each steps}}\n");
    let out = run_daily(&dir, &["--report", "r.md", "--template", "broken.hbs"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.starts_with("error: --template `broken.hbs`: bad report template"), "{}", out.stderr);
    assert!(!out.stdout.contains("API answers"), "nothing ran:\n{}", out.stdout);
}
