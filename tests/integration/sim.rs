//! `TitanSim`: the Titan simulator (`examples/titan-sim`) as a real process
//! for one test. `TitanSim::start(&["breaker-active"])` builds the example if
//! needed, starts it on free ports with its own state dir, reads the JSON line
//! of playbook vars it prints, and stops it (SIGTERM, then SIGKILL) on drop.
//! `var_args()` gives the `--var name=value` arguments for `runbook run`;
//! `console_auth` is the secret for `TITAN_CONSOLE_AUTH`; `set_scenarios`
//! injects or clears faults while it runs.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Starting includes seeding PostgreSQL and Redis on a loaded machine.
const START_TIMEOUT: Duration = Duration::from_secs(120);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

pub struct TitanSim {
    /// Every var the simulator printed: brain_url … redis_url, and console_auth.
    pub vars: BTreeMap<String, String>,
    /// The `user:password` the POST endpoints accept (also `vars["console_auth"]`).
    pub console_auth: String,
    child: Option<Child>,
    stderr: Arc<Mutex<String>>,
    state: tempfile::TempDir,
}

/// The example binary beside the test's `runbook` binary, built once per test run
/// (`cargo test --test integration` alone does not build examples).
pub fn sim_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let runbook = PathBuf::from(env!("CARGO_BIN_EXE_runbook"));
            let profile_dir = runbook.parent().expect("binary folder").to_owned();
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            // Same target dir as this test run (inherited CARGO_TARGET_DIR or the default), and
            // without the package variables cargo sets for tests: build scripts watch some of
            // them (ring: CARGO_MANIFEST_DIR) and would rebuild everything.
            let mut build = Command::new(cargo);
            build.args(["build", "--quiet", "--example", "titan-sim"]).current_dir(env!("CARGO_MANIFEST_DIR"));
            for (key, _) in std::env::vars() {
                let per_package = ["CARGO_PKG_", "CARGO_BIN_EXE_", "CARGO_MANIFEST_", "CARGO_CRATE_", "CARGO_PRIMARY_"];
                if per_package.iter().any(|p| key.starts_with(p)) || key == "CARGO_TARGET_TMPDIR" {
                    build.env_remove(key);
                }
            }
            let status = build.status().expect("run cargo build --example titan-sim");
            assert!(status.success(), "cargo build --example titan-sim failed");
            profile_dir.join("examples").join("titan-sim")
        })
        .clone()
}

impl TitanSim {
    /// Starts the simulator with `scenarios` (none = healthy).
    pub fn start(scenarios: &[&str]) -> Self {
        Self::start_with(scenarios, &[])
    }

    /// Starts the simulator with `scenarios` and extra command-line `args`.
    pub fn start_with(scenarios: &[&str], args: &[&str]) -> Self {
        let state = tempfile::tempdir().expect("state dir");
        let mut command = Command::new(sim_binary());
        command.arg("--port-base").arg("0").arg("--state-dir").arg(state.path()).args(args);
        for scenario in scenarios {
            command.arg("--scenario").arg(scenario);
        }
        command.env_remove("TITAN_CONSOLE_AUTH").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().expect("start titan-sim");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err_pipe.read_to_string(&mut text);
            sink.lock().unwrap().push_str(&text);
        });
        let out_pipe = child.stdout.take().expect("stdout");
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out_pipe).read_line(&mut line);
            let _ = line_tx.send(line);
        });
        let mut sim = Self { vars: BTreeMap::new(), console_auth: String::new(), child: Some(child), stderr, state };
        let line = line_rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let parsed: BTreeMap<String, String> = serde_json::from_str(&line).unwrap_or_else(|e| {
            sim.stop();
            panic!("titan-sim printed no JSON vars line ({e}): {line:?}\nstderr:\n{}", sim.stderr())
        });
        sim.console_auth = parsed.get("console_auth").cloned().unwrap_or_default();
        sim.vars = parsed;
        sim
    }

    pub fn var(&self, name: &str) -> &str {
        self.vars.get(name).map_or_else(|| panic!("titan-sim printed no `{name}`"), String::as_str)
    }

    /// `--var name=value` for every var but the `console_auth` secret.
    pub fn var_args(&self) -> Vec<String> {
        self.vars
            .iter()
            .filter(|(name, _)| *name != "console_auth")
            .flat_map(|(name, value)| ["--var".to_owned(), format!("{name}={value}")])
            .collect()
    }

    /// What the simulator wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// `GET /_sim/requests` on the execution service: POST counts per path.
    pub fn requests(&self) -> Value {
        let (status, body) = http("GET", &format!("{}/_sim/requests", self.var("execution_url")), None);
        assert_eq!(status, 200);
        body
    }

    /// `PUT /_sim/scenarios`: switches the running simulator to `scenarios` (none = healthy).
    pub fn set_scenarios(&self, scenarios: &[&str]) {
        let body = serde_json::to_string(scenarios).expect("names as JSON");
        let (status, answer) = http("PUT", &format!("{}/_sim/scenarios", self.var("execution_url")), Some(&body));
        assert_eq!(status, 200, "switching to {scenarios:?}: {answer}");
    }

    /// Stops the simulator with SIGTERM (SIGKILL after a generous wait) and returns its exit status.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for TitanSim {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One HTTP/1.1 request without credentials (authorized requests go through
/// `runbook run`, the real use); returns the status and the body as JSON (a
/// string when it is not JSON).
pub fn http(method: &str, url: &str, body: Option<&str>) -> (u16, Value) {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_once('/').map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = TcpStream::connect(host).expect("connect to titan-sim");
    stream.set_read_timeout(Some(HTTP_TIMEOUT)).unwrap();
    let body = body.unwrap_or("");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let (head, text) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned())))
}
