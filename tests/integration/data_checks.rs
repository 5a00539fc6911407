//! The acceptance playbook `examples/data-checks.yaml`: it passes against the
//! machine's servers, and pointed at a closed port every network check is an
//! `error` with exit 1, well within the steps' 5s timeouts.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::util::Runbook;

fn run(vars: &[&str]) -> (crate::util::Outcome, Duration) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = vec!["run", "examples/data-checks.yaml", "--format", "json"];
    for var in vars {
        args.extend(["--var", var]);
    }
    let started = Instant::now();
    let out = Runbook::new(repo).args(args).run();
    (out, started.elapsed())
}

#[test]
fn the_data_checks_pass_here() {
    let (out, _) = run(&[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    for id in ["postgres_select", "mariadb_select", "sqlite_select", "redis_ping", "redis_memory"] {
        assert_eq!(out.step(id)["verdict"], "pass", "{id}: {}", out.stdout);
    }
}

#[test]
fn the_data_checks_pointed_at_a_closed_port_are_errors() {
    let (out, took) = run(&[
        "pg_url=postgres://postgres@127.0.0.1:1/postgres",
        "mysql_url=mariadb://root@127.0.0.1:1/test",
        "redis_url=redis://127.0.0.1:1",
    ]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    for id in ["postgres_select", "mariadb_select", "redis_ping", "redis_memory"] {
        let step = out.step(id);
        assert_eq!(step["verdict"], "error", "{id}: {step}");
        assert!(step["message"].as_str().is_some_and(|m| m.contains("127.0.0.1:1")), "{id}: {step}");
    }
    assert_eq!(out.step("sqlite_select")["verdict"], "pass");
    // Each step's timeout is 5s and they run in parallel; allow a loaded machine plenty.
    assert!(took < Duration::from_secs(5 + 10), "took {took:?}");
}
