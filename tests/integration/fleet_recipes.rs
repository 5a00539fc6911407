//! The fleet recipes in `examples/fleet/`, run with the tools they are for:
//! the Ansible playbook with the real `ansible-playbook` against three
//! inventory hosts on this machine (local connection, distinct names) and
//! the machine's PostgreSQL; the Kubernetes manifests validated offline
//! against Kubernetes' own schemas (`kubernetes-validate`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::history::store::{Kind, Store};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tool(name: &str) -> Command {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().expect("run sh");
    assert!(found.status.success(), "`{name}` is not installed; `bash .ci/services.sh` installs it");
    Command::new(name)
}

const HOSTS: [&str; 3] = ["trade-1", "trade-2", "risk-1"];

/// An inventory of three hosts on this machine, each with its own install folder.
fn inventory(dir: &Path) -> PathBuf {
    let mut text = String::from("[checked]\n");
    for host in HOSTS {
        let home = dir.join(host);
        text.push_str(&format!(
            "{host} ansible_connection=local ansible_python_interpreter={{{{ansible_playbook_python}}}} \
             runbook_home={}\n",
            home.display()
        ));
    }
    let path = dir.join("inventory.ini");
    std::fs::write(&path, text).expect("write the inventory");
    path
}

fn ansible(store: &Store, limit: Option<&str>) -> std::process::Output {
    let dir = store.dir.path();
    let checks = store.dir.write("checks.yaml", CHECKS);
    let mut command = tool("ansible-playbook");
    command
        .arg("-i")
        .arg(inventory(dir))
        .arg(repo().join("examples/fleet/ansible/site.yml"))
        .args(["-e", &format!("runbook_binary={}", env!("CARGO_BIN_EXE_runbook"))])
        .args(["-e", &format!("runbook_playbook={}", checks.display())])
        .args(["-e", &format!("history_url={}", store.location)])
        .args(["-e", &format!("fleet_report_dir={}", dir.display())])
        .env("ANSIBLE_LOCAL_TEMP", dir.join("ansible-local"))
        .env("ANSIBLE_REMOTE_TEMP", dir.join("ansible-remote"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env("ANSIBLE_LOCALHOST_WARNING", "0")
        .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "0")
        .current_dir(dir);
    if let Some(limit) = limit {
        command.args(["--limit", limit]);
    }
    command.output().expect("run ansible-playbook")
}

/// A check every host passes: the fleet verdict then depends only on who reported.
const CHECKS: &str = "name: fleet recipe check\nsections:\n  - name: Host\n    steps:\n      \
                      - id: alive\n        title: The host answers\n        shell: { run: 'true' }\n";

#[test]
fn the_ansible_recipe_runs_every_host_and_fails_the_play_when_a_host_is_missing() {
    let store = Store::new(Kind::Postgres);
    let out = ansible(&store, None);
    let log = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the play failed with every host healthy:\n{log}");
    let hosts = store.texts("SELECT DISTINCT host FROM runs ORDER BY host");
    assert_eq!(hosts, ["risk-1", "trade-1", "trade-2"], "{log}");
    let page = std::fs::read_to_string(store.dir.path().join("fleet.html")).expect("the fleet page");
    assert!(page.contains("Fleet fleet recipe check: PASS"), "{page}");

    // risk-1 is down: the play reaches only the other two, on a fresh history.
    let store = Store::new(Kind::Postgres);
    let out = ansible(&store, Some("trade-1:trade-2:localhost"));
    let log = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "the play passed with a host missing:\n{log}");
    assert!(log.contains("host `risk-1` is missing"), "{log}");
    let page = std::fs::read_to_string(store.dir.path().join("fleet.html")).expect("the fleet page");
    assert!(page.contains("risk-1 (missing)"), "{page}");
}

#[test]
fn the_kubernetes_manifests_are_valid_kubernetes() {
    let dir = repo().join("examples/fleet/kubernetes");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/fleet/kubernetes")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    let out = tool("kubernetes-validate").args(["--strict", "-k", "1.30.0"]).args(&files).output().expect("run");
    let log = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{log}");
    // A manifest that is not Kubernetes fails: the validator is really looking.
    let broken = crate::util::TestDir::new();
    let bad = broken
        .write("bad.yaml", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x}\nspec: {schedul: '* * * * *'}\n");
    let out = tool("kubernetes-validate").args(["--strict", "-k", "1.30.0"]).arg(&bad).output().expect("run");
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn the_kubernetes_manifests_call_runbook_with_arguments_it_takes() {
    // Every `args:` list that starts with a runbook command parses with this binary's own CLI
    // (`--help` after the arguments: clap checks them, then prints help and exits 0).
    let dir = repo().join("examples/fleet/kubernetes");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/fleet/kubernetes") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        for args in args_lists(&text) {
            let out = Command::new(env!("CARGO_BIN_EXE_runbook"))
                .args(args.iter().map(|a| a.replace("$(", "").replace(')', "")))
                .arg("--help")
                .output()
                .expect("run runbook");
            assert!(out.status.success(), "{}: {args:?}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} runbook commands found");
}

/// The `args: [...]` flow lists of a manifest.
fn args_lists(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("args: [")?.strip_suffix(']').map(str::to_owned))
        .map(|inner| inner.split(',').map(|a| a.trim().trim_matches('"').to_owned()).collect())
        .collect()
}
