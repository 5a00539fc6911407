//! The first hour of a new user (issue 22): what each step observed, the
//! probe reference, every problem of a playbook at once, plain CEL errors,
//! `history` of an unknown name, companion files beside playbooks, manual
//! comments, Ctrl-C at the questions, completions, the man page and the
//! pre-commit hook, each against the real thing (HTTP server, pty, bash,
//! groff, pre-commit).

use std::path::Path;
use std::process::Command;

use crate::util::{HttpServer, TestDir};

const SECRET: &str = "s3cr3t-token-value";

fn step(extra: &str) -> String {
    format!("name: n\nsections:\n  - name: s\n    steps:\n      - id: a\n        title: t\n{extra}")
}

#[test]
fn show_observed_prints_what_each_step_saw_with_secrets_masked() {
    use axum::routing::get;
    let router = axum::Router::new().route(
        "/health",
        get(|headers: axum::http::HeaderMap| async move {
            let token = headers.get("x-token").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            axum::Json(serde_json::json!({"status": "ok", "echo": token, "queue": {"depth": 3}}))
        }),
    );
    let server = HttpServer::start(router);
    let dir = TestDir::new();
    let playbook = format!(
        "name: n\nsecrets:\n  token: {{ env: RB_FIRST_HOUR_TOKEN }}\nsections:\n  - name: s\n    steps:\n      \
         - id: api\n        title: API health\n        http: {{ url: '{}/health', headers: {{ x-token: '{{{{secrets.token}}}}' }} }}\n",
        server.url
    );
    dir.write("p.yaml", &playbook);
    let out = dir.runbook().args(["run", "p.yaml", "--show-observed"]).env("RB_FIRST_HOUR_TOKEN", SECRET).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("      observed:\n        {\n          \"status\": 200,"), "{}", out.stdout);
    assert!(out.stdout.contains("\"depth\": 3"), "{}", out.stdout);
    assert!(out.stdout.contains("\"echo\": \"••••••\""), "{}", out.stdout);
    assert!(!out.stdout.contains(SECRET) && !out.stderr.contains(SECRET));
    // Without the flag the checklist stays as it was; with JSON on stdout the observation goes to stderr.
    let plain = dir.runbook().args(["run", "p.yaml"]).env("RB_FIRST_HOUR_TOKEN", SECRET).run();
    assert!(!plain.stdout.contains("observed:"), "{}", plain.stdout);
    let json = dir.runbook().args(["run", "p.yaml", "-v", "--format", "json"]).env("RB_FIRST_HOUR_TOKEN", SECRET).run();
    assert_eq!(json.json()["verdict"], "pass");
    assert!(json.stderr.contains("\"depth\": 3"), "{}", json.stderr);
}

#[test]
fn probes_kind_documents_what_a_kind_observes_and_takes() {
    let dir = TestDir::new();
    let out = dir.runbook().args(["probes", "http"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("status, latency_ms, headers, body, url"), "{}", out.stdout);
    assert!(out.stdout.contains("  url (required)\n"), "{}", out.stdout);
    assert!(out.stdout.contains("  method\n      The HTTP method"), "{}", out.stdout);
    let all = dir.runbook().args(["probes"]).run();
    assert!(all.stdout.lines().any(|l| l.starts_with("tcp ") && l.contains("TCP connection")), "{}", all.stdout);
    let typo = dir.runbook().args(["probes", "htp"]).run();
    assert_eq!(typo.code, 2);
    assert!(typo.stderr.contains("no probe kind `htp`; did you mean `http`?"), "{}", typo.stderr);
}

const MANY_PROBLEMS: &str = "name: Many problems
defaults:
  timeout: 5 minutes
sections:
  - name: One
    steps:
      - id: a
        title: Unknown key
        shell: { run: 'true' }
        expcet: ['exit_code == 0']
      - id: b
        title: Two probes
        shell: { run: 'true' }
        sysinfo: {}
      - id: c
        shell: { run: 'true' }
      - id: d
        title: Bad method
        http: { url: 'http://127.0.0.1:1/', method: GTE }
      - id: e
        title: Bad function
        shell: { run: 'true' }
        expect: ['foo() == 1']
      - id: f
        title: Wrong type
        shell: { run: 'true' }
        retries: many
  - name: Two
    steps:
      - id: g
        title: Bad timeout
        shell: { run: 'true' }
        timeout: 3 parsecs
      - id: h
        title: Needs unknown
        shell: { run: 'true' }
        needs: [zz, c]
      - id: i
        title: Split
        shell: { run: 'true' }
        expect: [\"split(stdout, ',').size() == 2\", 'pct(1) > 0']
      - id: j
        title: No probe
";

#[test]
fn validate_reports_every_problem_of_a_file_in_one_round() {
    let dir = TestDir::new();
    dir.write("many.yaml", MANY_PROBLEMS);
    let out = dir.runbook().args(["validate", "--format", "json", "many.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    let problems = out.json()["problems"].as_array().cloned().unwrap_or_default();
    let found: Vec<(u64, String)> = problems
        .iter()
        .map(|p| (p["line"].as_u64().unwrap_or(0), p["message"].as_str().unwrap_or("").to_owned()))
        .collect();
    let expected = [
        (3, "unknown duration unit `minutes`"),
        (10, "unknown field `expcet`; did you mean `expect`?"),
        (14, "a step takes exactly one probe, found `shell` and `sysinfo`"),
        (15, "missing field `title` in step `c`"),
        (19, "`GTE` is not an HTTP method; did you mean `GET`?"),
        (23, "there is no function `foo`"),
        (27, "`retries` must be a whole number"),
        (33, "unknown duration unit `parsecs`"),
        (37, "`needs` names unknown step `zz`"),
        (41, "there is no function `split`"),
        (41, "`pct` takes 2 arguments, not 1"),
        (42, "step `j` has no probe"),
    ];
    for (line, text) in expected {
        assert!(found.iter().any(|(l, m)| *l == line && m.contains(text)), "line {line}: {text}\nfound: {found:#?}");
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    // `run` shows the same list before refusing to start.
    let run = dir.runbook().args(["run", "many.yaml"]).run();
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.matches("error: many.yaml:").count(), expected.len(), "{}", run.stderr);
}

#[test]
fn validate_dir_skips_answers_and_waivers_files_by_their_shape() {
    let dir = TestDir::new();
    dir.write("ops/daily.yaml", &step("        manual: Look at the dashboard.\n"));
    dir.write("ops/today.yaml", "a: {verdict: fail, comment: dashboard down}\n");
    dir.write("ops/known.yml", "waivers:\n  - { step: a, reason: r, owner: o, expires: 2030-01-01 }\n");
    dir.write("ops/broken-waivers.yaml", "waivers: [ {step: a} ]\n");
    let out = dir.runbook().args(["validate", "ops"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "1 playbook valid\n");
    assert!(out.stderr.contains("note: skipped `ops/today.yaml`: an answers file, not a playbook"), "{}", out.stderr);
    assert!(out.stderr.contains("note: skipped `ops/known.yml`: a waivers file"), "{}", out.stderr);
    assert!(out.stderr.contains("note: skipped `ops/broken-waivers.yaml`: a waivers file"), "{}", out.stderr);
    // A YAML file that is neither is still checked as a playbook.
    dir.write("ops/other.yaml", "title: not a playbook\n");
    let out = dir.runbook().args(["validate", "ops"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("ops/other.yaml"), "{}", out.stderr);
}

#[test]
fn a_cel_type_error_says_which_value_had_which_type() {
    let dir = TestDir::new();
    dir.write(
        "p.yaml",
        &step("        shell: { run: 'echo 42' }\n        capture: { n: '$.exit_code' }\n        expect: ['size(n) > 1']\n"),
    );
    let out = dir.runbook().args(["run", "p.yaml", "--format", "json"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    let message = out.step("a")["message"].as_str().unwrap_or("").to_owned();
    assert_eq!(
        message,
        "`size(n) > 1` could not be evaluated: size() takes a string, bytes, a list or a map, not an int (n = 0 is an int)"
    );
}

#[test]
fn history_of_a_name_with_no_runs_says_whether_the_name_is_known() {
    let dir = TestDir::new();
    dir.write("p.yaml", &step("        shell: { run: 'true' }\n").replace("name: n\n", "name: Pre-market\n"));
    let history = dir.path().join("h.db");
    let history = history.to_str().expect("utf-8 path");
    let empty = dir.runbook().args(["history", "Pre-market", "--history", history]).run();
    assert_eq!(empty.code, 2, "{empty:?}");
    assert_eq!(empty.stderr, "error: no runs of `Pre-market`: the history has no runs yet\n");
    let ran = dir.runbook().with_history().args(["run", "p.yaml", "--history", history]).run();
    assert_eq!(ran.code, 0, "{ran:?}");
    let typo = dir.runbook().args(["history", "Pre-markt", "--history", history]).run();
    assert_eq!(typo.code, 2, "{typo:?}");
    assert_eq!(
        typo.stderr,
        "error: no runs of `Pre-markt`: no playbook by that name in the history; did you mean `Pre-market`? (it has `Pre-market`)\n"
    );
    let known = dir.runbook().args(["history", "Pre-market", "--history", history]).run();
    assert_eq!(known.code, 0);
    assert!(known.stdout.contains("Pre-market"), "{}", known.stdout);
    dir.write("never.yaml", &step("        shell: { run: 'true' }\n").replace("name: n\n", "name: Never run\n"));
    let never = dir.runbook().args(["history", "never.yaml", "--history", history]).run();
    assert_eq!((never.code, never.stdout.as_str()), (0, "no runs of `Never run` in the history yet\n"));
}

const TWO_MANUAL: &str = "name: Close of day
sections:
  - name: s
    steps:
      - id: ok
        title: Service answers
        shell: { run: 'true' }
      - id: slow
        title: Latency is fine
        shell: { run: 'echo 350' }
        warn: ['int(stdout) < 300']
      - id: feeds
        title: Market feeds look live
        manual: Look at the feed dashboard.
      - id: logs
        title: Logs reviewed
        manual: Read the error log.
summary:
  - { label: Checked, value: '1' }
";

#[test]
fn a_failed_manual_steps_comment_shows_in_the_checklist_and_needs_attention() {
    let dir = TestDir::new();
    dir.write("p.yaml", TWO_MANUAL);
    dir.write("answers.yaml", "feeds: {verdict: fail, comment: feeds are down since 09:12}\nlogs: pass\n");
    let out = dir.runbook().args(["run", "p.yaml", "--answers", "answers.yaml", "--report", "r.html"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("Market feeds look live  [feeds]")
            && out.stdout.contains("      answered fail in the answers file: “feeds are down since 09:12”\n"),
        "{}",
        out.stdout
    );
    let html = std::fs::read_to_string(dir.path().join("r.html")).expect("report");
    let attention = &html
        [html.find("<h2>Needs attention</h2>").expect("attention")..html.find("id=\"pending\"").unwrap_or(html.len())];
    assert!(attention.contains("Market feeds look live <code>feeds</code>"), "{attention}");
    assert!(attention.contains("feeds are down since 09:12"), "{attention}");
    assert!(attention.contains("Latency is fine <code>slow</code>"), "{attention}");
    assert!(html.contains("<h2>Close of day: summary</h2>") && !html.contains("End-of-day"), "summary heading");
    assert!(html.contains("<li class=\"v-fail\"><b>1</b> failed</li>\n<li class=\"v-error\"><b>0</b> errors</li>"));
    let md = dir.runbook().args(["run", "p.yaml", "--answers", "answers.yaml", "--report", "r.md"]).run();
    assert_eq!(md.code, 1);
    let md = std::fs::read_to_string(dir.path().join("r.md")).expect("report");
    let attention = &md[md.find("## Needs attention").expect("attention")..];
    assert!(attention.contains("  - answered fail in the answers file: “feeds are down since 09:12”"), "{md}");
}

#[test]
fn a_run_with_only_warnings_reads_passed_with_warnings_in_the_html_report() {
    let dir = TestDir::new();
    dir.write("p.yaml", TWO_MANUAL);
    dir.write("answers.yaml", "feeds: pass\nlogs: pass\n");
    let out = dir.runbook().args(["run", "p.yaml", "--answers", "answers.yaml", "--report", "r.html"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    let html = std::fs::read_to_string(dir.path().join("r.html")).expect("report");
    assert!(html.contains("<title>Close of day — passed with 1 warning</title>"), "{html}");
    assert!(html.contains("! PASSED WITH 1 WARNING</span></h1>"), "{html}");
}

/// Ctrl-C at the first manual question: nothing more is asked, not even the operator.
const CTRL_C_SCRIPT: &str = r#"[(b"pass / fail / skip?", b"\x03")]"#;

#[test]
fn ctrl_c_at_the_manual_questions_exits_130_without_asking_the_operator() {
    let dir = TestDir::new();
    dir.write("p.yaml", TWO_MANUAL);
    let out = Command::new("python3")
        .arg("-c")
        .arg(crate::util::pty_driver(CTRL_C_SCRIPT))
        .arg(env!("CARGO_BIN_EXE_runbook"))
        .args(["run", "p.yaml", "--report", "r.md"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("RUNBOOK_NO_HISTORY", "1")
        .env_remove("RUNBOOK_OPERATOR")
        .output()
        .expect("run python3");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{screen}");
    assert!(screen.contains("[1/2] Market feeds look live  [feeds]"), "{screen}");
    assert!(screen.contains("interrupted: no more questions"), "{screen}");
    assert!(!screen.contains("[2/2]") && !screen.contains("Operator"), "{screen}");
    let md = std::fs::read_to_string(dir.path().join("r.md")).expect("the report is still written");
    assert!(md.contains("2 checks pending") || md.contains("pending"), "{md}");
}

fn runbook_stdout(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_runbook")).args(args).output().expect("run runbook");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn bash_completion_loads_in_bash_and_completes_commands_and_flags() {
    let dir = TestDir::new();
    let script = dir.write("runbook.bash", &runbook_stdout(&["completions", "bash"]));
    let complete = |words: &str| {
        let program = format!(
            "source '{}' && COMP_WORDS=({words}) && COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)) && COMP_LINE='{words}' \
             && COMP_POINT=${{#COMP_LINE}} && complete -p runbook >/dev/null \
             && _runbook runbook \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\" && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = Command::new("bash").args(["--norc", "-c", &program]).output().expect("run bash");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let commands = complete("runbook va");
    assert_eq!(commands.trim(), "validate", "{commands}");
    let flags = complete("runbook run --show");
    assert!(flags.lines().any(|l| l == "--show-observed"), "{flags}");
    let shells = complete("runbook completions ''");
    assert!(["bash", "zsh", "fish"].iter().all(|s| shells.lines().any(|l| l == *s)), "{shells}");
    for shell in ["zsh", "fish"] {
        assert!(runbook_stdout(&["completions", shell]).contains("runbook"), "{shell}");
    }
}

#[test]
fn the_man_page_renders_with_groff() {
    let dir = TestDir::new();
    let page = dir.write("runbook.1", &runbook_stdout(&["man"]));
    let out = Command::new("groff").args(["-k", "-man", "-Tutf8", "-ww", "-z"]).arg(&page).output().expect("run groff");
    assert!(out.status.success() && out.stderr.is_empty(), "groff warns: {}", String::from_utf8_lossy(&out.stderr));
    let text = Command::new("groff").args(["-k", "-man", "-Tutf8"]).arg(&page).output().expect("run groff");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("runbook - Runs YAML playbooks"), "{text}");
    assert!(text.contains("validate") && text.contains("completions"), "{text}");
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn the_pre_commit_hook_validates_playbooks_in_a_playbook_repository() {
    // This repository's hook manifest, served from a local git repository.
    let hooks = TestDir::new();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    std::fs::copy(&manifest, hooks.path().join(".pre-commit-hooks.yaml")).expect("copy the manifest");
    git(hooks.path(), &["init", "-q", "."]);
    git(hooks.path(), &["add", "-A"]);
    git(hooks.path(), &["commit", "-qm", "hooks"]);
    let rev = git(hooks.path(), &["rev-parse", "HEAD"]);
    let repo = TestDir::new();
    git(repo.path(), &["init", "-q", "."]);
    repo.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: runbook-validate-system\n        files: ^playbooks/\n",
            hooks.path().display()
        ),
    );
    repo.write("playbooks/ok.yaml", &step("        shell: { run: 'true' }\n"));
    repo.write("playbooks/answers.yaml", "a: pass\n");
    repo.write("playbooks/bad.yaml", &step("        shell: { run: 'true' }\n        timeout: 5 minutes\n"));
    git(repo.path(), &["add", "-A"]);
    let bin = Path::new(env!("CARGO_BIN_EXE_runbook")).parent().expect("bin dir").to_owned();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let cache = TestDir::new();
    let pre_commit = || {
        Command::new("pre-commit")
            .args(["run", "--all-files", "--color", "never"])
            .current_dir(repo.path())
            .env("PATH", &path)
            .env("PRE_COMMIT_HOME", cache.path())
            .env("RUNBOOK_NO_HISTORY", "1")
            .output()
            .expect("run pre-commit (pip install pre-commit; .ci/services.sh does)")
    };
    let failed = pre_commit();
    let said = String::from_utf8_lossy(&failed.stdout).into_owned();
    assert_eq!(failed.status.code(), Some(1), "{said}{}", String::from_utf8_lossy(&failed.stderr));
    assert!(said.contains("playbooks/bad.yaml:8:18: unknown duration unit `minutes`"), "{said}");
    assert!(said.contains("skipped `playbooks/answers.yaml`: an answers file"), "{said}");
    repo.write("playbooks/bad.yaml", &step("        shell: { run: 'true' }\n        timeout: 5m\n"));
    git(repo.path(), &["add", "-A"]);
    let passed = pre_commit();
    assert!(passed.status.success(), "{}", String::from_utf8_lossy(&passed.stdout));
}
