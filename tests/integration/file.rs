//! The `file` probe on files with controlled modification times and checksums.

use std::time::{Duration, SystemTime};

use crate::util::TestDir;

/// Writes `name` with `text`, last modified `age` ago.
fn aged(dir: &TestDir, name: &str, text: &str, age: Duration) -> std::path::PathBuf {
    let path = dir.write(name, text);
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
    path
}

const DAY: Duration = Duration::from_secs(86_400);

fn playbook(probe: &str, expect: &[&str]) -> String {
    let expect: Vec<String> = expect.iter().map(|e| format!("'{e}'")).collect();
    format!(
        "name: files\nsections:\n  - name: backups\n    steps:\n      - id: f\n        title: file check\n        file: {probe}\n        expect: [{}]\n",
        expect.join(", ")
    )
}

#[test]
fn a_glob_observes_the_newest_match_and_counts_old_ones() {
    let dir = TestDir::new();
    aged(&dir, "books/backups/db_1.sql", "one", 10 * DAY);
    aged(&dir, "books/backups/db_2.sql", "two!", 3 * DAY);
    aged(&dir, "books/backups/db_3.sql", "three", Duration::from_secs(3600));
    aged(&dir, "books/backups/other.txt", "not a backup", Duration::from_secs(60));
    dir.write(
        "books/playbook.yaml",
        &playbook(
            "{ glob: \"backups/db_*.sql\", older_than: 2d }",
            &["exists", "count == 3", "count_older == 2", "size == 5", "age_s > 3500.0 && age_s < 7200.0"],
        ),
    );
    let out = dir.runbook().args(["run", "books/playbook.yaml", "--format", "json"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.step("f")["verdict"], "pass", "{}", out.stdout);
    dir.write(
        "books/playbook.yaml",
        &playbook("{ glob: \"backups/db_*.sql\", older_than: 2d }", &["count_older == 0"]),
    );
    let out = dir.runbook().args(["run", "books/playbook.yaml"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("count_older = 2 → expected count_older == 0"), "{}", out.stdout);
}

#[test]
fn matches_are_listed_newest_first_and_modified_is_rfc3339() {
    let dir = TestDir::new();
    let old = dir.write("logs/a.log", "a");
    let new = dir.write("logs/b.log", "bb");
    let at = |s: &str| SystemTime::from(chrono::DateTime::parse_from_rfc3339(s).unwrap());
    std::fs::File::options().write(true).open(&old).unwrap().set_modified(at("2020-01-01T00:00:00Z")).unwrap();
    std::fs::File::options().write(true).open(&new).unwrap().set_modified(at("2020-01-03T04:05:06Z")).unwrap();
    dir.write(
        "playbook.yaml",
        &playbook(
            "{ glob: \"logs/*.log\" }",
            &[
                r#"modified == "2020-01-03T04:05:06+00:00""#,
                r#"matches.size() == 2 && matches[0].path.endsWith("b.log") && matches[1].size == 1"#,
                "count_older == null",
            ],
        ),
    );
    let out = dir.runbook().args(["run", "playbook.yaml"]).run();
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn a_missing_file_is_not_an_error() {
    let dir = TestDir::new();
    dir.write("playbook.yaml", &playbook("{ path: nowhere.tar.gz }", &["exists"]));
    let out = dir.runbook().args(["run", "playbook.yaml", "--format", "json"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("f");
    assert_eq!(step["verdict"], "fail", "{}", out.stdout);
    assert_eq!(step["message"], "exists = false → expected exists");
    dir.write("playbook.yaml", &playbook("{ glob: \"none/*.gz\" }", &["!exists && count == 0 && size == null"]));
    let out = dir.runbook().args(["run", "playbook.yaml"]).run();
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn checksums_verify_against_a_sha256sum_file() {
    let dir = TestDir::new();
    dir.write("backups/db.sql.gz", "backup contents\n");
    dir.write("backups/other.gz", "other\n");
    let sums = std::process::Command::new("sha256sum")
        .args(["db.sql.gz", "other.gz"])
        .current_dir(dir.path().join("backups"))
        .output()
        .expect("sha256sum");
    dir.write("backups/SHA256SUMS", &String::from_utf8(sums.stdout).unwrap());
    dir.write(
        "playbook.yaml",
        &playbook("{ path: backups/db.sql.gz, sha256_file: backups/SHA256SUMS }", &["sha256_ok"]),
    );
    let out = dir.runbook().args(["run", "playbook.yaml"]).run();
    assert_eq!(out.code, 0, "{out:?}");

    dir.write("backups/db.sql.gz", "backup contents, damaged\n");
    let out = dir.runbook().args(["run", "playbook.yaml"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("sha256_ok = false → expected sha256_ok"), "{}", out.stdout);

    dir.write("backups/SHA256SUMS", "0000  unrelated.gz\n");
    let out = dir.runbook().args(["run", "playbook.yaml", "--format", "json"]).run();
    assert_eq!(out.code, 1, "{out:?}");
    let step = out.step("f");
    assert_eq!(step["verdict"], "error");
    assert!(step["message"].as_str().unwrap().contains("has no line for `db.sql.gz`"), "{step}");
}

#[test]
fn lines_gives_the_count_and_the_tail() {
    let dir = TestDir::new();
    let text: String = (1..=50).map(|i| format!("line {i}\n")).collect();
    dir.write("app.log", &text);
    dir.write(
        "playbook.yaml",
        &playbook(
            "{ path: app.log, lines: true, tail_lines: 2 }",
            &["line_count == 50", r#"tail == "line 49\nline 50""#, "sha256_ok == null"],
        ),
    );
    let out = dir.runbook().args(["run", "playbook.yaml"]).run();
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn path_and_glob_together_are_refused() {
    let dir = TestDir::new();
    dir.write("playbook.yaml", &playbook("{ path: a, glob: \"*.b\" }", &["exists"]));
    let out = dir.runbook().args(["run", "playbook.yaml"]).run();
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("give `path` or `glob`, not both"), "{}", out.stderr);
}
