//! The README's first command runs `examples/quickstart.yaml`: it must pass on
//! any machine, leave no server behind, and still fail when its server cannot start.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::util::{Runbook, TestDir};

fn quickstart() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart.yaml")
}

fn alive(pid: i64) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z ")
}

#[test]
fn the_quick_start_passes_and_stops_its_web_server() {
    let dir = TestDir::new();
    let out = Runbook::new(dir.path()).args(["run"]).arg_path(&quickstart()).args(["--format", "json"]).run();
    assert_eq!(out.code, 0, "{out:?}");
    for id in ["shell_ok", "web_server", "web_health", "web_stop"] {
        assert_eq!(out.step(id)["verdict"], "pass", "{id}: {}", out.stdout);
    }
    assert!(["pass", "warn"].contains(&out.step("resources")["verdict"].as_str().unwrap()), "{}", out.stdout);
    let pid = out.step("web_server")["captured"]["pid"].as_i64().expect("the server's pid is captured");
    let started = Instant::now();
    while alive(pid) && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(pid), "the web server (pid {pid}) outlived the quick start");
}

#[test]
fn the_quick_start_fails_when_its_web_server_cannot_start() {
    let dir = TestDir::new();
    // A python3 that exits at once: the server never listens.
    let fake = dir.write("bin/python3", "#!/bin/sh\nexit 1\n");
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", dir.path().join("bin").display(), std::env::var("PATH").unwrap_or_default());
    let out = Runbook::new(dir.path())
        .args(["run"])
        .arg_path(&quickstart())
        .args(["--format", "json"])
        .env("PATH", &path)
        .run();
    assert_eq!(out.code, 1, "{out:?}");
    assert!(["fail", "error"].contains(&out.step("web_server")["verdict"].as_str().unwrap()), "{}", out.stdout);
    assert_ne!(out.step("web_health")["verdict"], "pass", "{}", out.stdout);
}
