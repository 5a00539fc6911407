//! The test builder: write a playbook into a temp folder, run the binary with
//! args and env, and look at its exit code, stdout and stderr.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A finished run of the binary.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// stdout parsed as JSON (for `--format json`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The step with `id` in a JSON run record.
    pub fn step(&self, id: &str) -> serde_json::Value {
        self.json()["steps"]
            .as_array()
            .and_then(|steps| steps.iter().find(|s| s["id"] == id).cloned())
            .unwrap_or_else(|| panic!("no step `{id}` in:\n{}", self.stdout))
    }
}

/// A temporary folder holding playbooks and other files of one test.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `name` with `text` and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// A command for the binary, run in this folder.
    pub fn runbook(&self) -> Runbook {
        Runbook::new(self.dir.path())
    }
}

/// A command line for the binary under test.
pub struct Runbook {
    command: Command,
}

impl Runbook {
    pub fn new(cwd: &Path) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_runbook"));
        command.current_dir(cwd).env("NO_COLOR", "1").env_remove("RUST_BACKTRACE");
        // Keep the developer's own settings out of the tests.
        for (key, _) in std::env::vars() {
            if key.starts_with("RUNBOOK_") {
                command.env_remove(key);
            }
        }
        // Never write into the developer's real history; history tests pass `--history`.
        command.env("RUNBOOK_NO_HISTORY", "1");
        Self { command }
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    /// One argument that is a path (not necessarily UTF-8).
    pub fn arg_path(mut self, path: &Path) -> Self {
        self.command.arg(path);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    /// Keeps run history (off by default in tests): pass `--history PATH` too.
    pub fn with_history(mut self) -> Self {
        self.command.env_remove("RUNBOOK_NO_HISTORY");
        self
    }

    /// The command itself, e.g. to spawn it and kill it.
    pub fn command(self) -> Command {
        self.command
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Runs the binary under the real `faketime` (libfaketime), its clock starting at `at`
    /// (UTC, `YYYY-MM-DD hh:mm:ss`) or moved by an offset such as `+2h`. Call it last.
    pub fn faketime(self, at: &str) -> Self {
        let old = self.command;
        let spec = if at.starts_with(['+', '-']) { at.to_owned() } else { format!("@{at}") };
        let mut command = Command::new("faketime");
        command.args(["-f", &spec]).arg(old.get_program()).args(old.get_args());
        if let Some(dir) = old.get_current_dir() {
            command.current_dir(dir);
        }
        for (key, value) in old.get_envs() {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        // Timers keep the real monotonic clock; only the wall clock moves.
        command.env("TZ", "UTC").env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
        Self { command }
    }

    pub fn run(mut self) -> Outcome {
        let output = self.command.output().expect("run the runbook binary");
        Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Writes `playbook` as `playbook.yaml` and runs `runbook run` on it with `args`.
pub fn run_playbook(playbook: &str, args: &[&str]) -> Outcome {
    let dir = TestDir::new();
    dir.write("playbook.yaml", playbook);
    dir.runbook().args(["run", "playbook.yaml"]).args(args).run()
}

/// An HTTP server on 127.0.0.1 for one test, on a thread of its own; it stops
/// when dropped. Build routes with axum.
pub struct HttpServer {
    pub url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    pub fn start(router: axum::Router) -> Self {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("test server runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
                addr_tx.send(listener.local_addr().expect("local addr")).expect("send addr");
                let _ = axum::serve(listener, router)
                    .with_graceful_shutdown(async {
                        let _ = stop.await;
                    })
                    .await;
            });
        });
        let addr = addr_rx.recv().expect("server address");
        Self { url: format!("http://{addr}"), shutdown: Some(shutdown), thread: Some(thread) }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A long-running `runbook` (watch, serve) with its output collected as it
/// comes; SIGTERM then SIGKILL on drop.
pub struct Background {
    child: Option<std::process::Child>,
    stdout: std::sync::Arc<std::sync::Mutex<String>>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

/// How long a background `runbook` may take to do what a test waits for (a loaded 2-core machine).
pub const BACKGROUND_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

impl Background {
    pub fn spawn(runbook: Runbook) -> Self {
        use std::process::Stdio;
        let mut child = runbook
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start runbook");
        let collect = |pipe: Box<dyn std::io::Read + Send>| {
            let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
            let sink = text.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut all = sink.lock().unwrap();
                    all.push_str(&line);
                    all.push('\n');
                }
            });
            text
        };
        let stdout = collect(Box::new(child.stdout.take().unwrap()));
        let stderr = collect(Box::new(child.stderr.take().unwrap()));
        Self { child: Some(child), stdout, stderr }
    }

    /// The process id, to read its `/proc` entry or change its limits.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, std::process::Child::id)
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until `ready` holds for (stdout, stderr); panics with both after [`BACKGROUND_DEADLINE`].
    pub fn wait_until(&self, what: &str, ready: impl Fn(&str, &str) -> bool) {
        let deadline = std::time::Instant::now() + BACKGROUND_DEADLINE;
        while std::time::Instant::now() < deadline {
            if ready(&self.stdout(), &self.stderr()) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("timed out waiting for {what}\nstdout:\n{}\nstderr:\n{}", self.stdout(), self.stderr());
    }

    /// Sends SIGTERM and waits for the exit code (SIGKILL after [`BACKGROUND_DEADLINE`]).
    pub fn terminate(&mut self) -> i32 {
        let Some(mut child) = self.child.take() else { return -1 };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = std::time::Instant::now() + BACKGROUND_DEADLINE;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                // Let the reader threads take the last lines.
                std::thread::sleep(std::time::Duration::from_millis(100));
                return status.code().unwrap_or(-1);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("runbook did not stop on SIGTERM\nstderr:\n{}", self.stderr());
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends signal `name` (e.g. `-INT`) to the child with `kill(1)`.
pub fn signal(child: &Child, name: &str) {
    let sent = std::process::Command::new("kill").args([name, &child.id().to_string()]).status().expect("kill");
    assert!(sent.success());
}

/// Waits for the child, failing after `bound`; its exit code.
pub fn exit_within(child: &mut Child, bound: Duration) -> i32 {
    let waited = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code().unwrap_or_else(|| panic!("killed by a signal: {status:?}"));
        }
        if waited.elapsed() > bound {
            let _ = child.kill();
            panic!("still running {bound:?} after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The peak RSS in KiB that `/usr/bin/time -v` wrote into `stderr`.
pub fn peak_rss_kib(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in:\n{stderr}"))
}

/// The environment variable that turns [`golden`] checks into rewrites.
pub const BLESS: &str = "RUNBOOK_BLESS";

/// Compares `actual` with the golden file at `path` (relative to the
/// repository root). With `RUNBOOK_BLESS=1` it writes `actual` there instead,
/// so an intended change is one run away: bless, then review `git diff`.
pub fn golden(path: &str, actual: &str) {
    if let Err(why) = golden_check(path, actual) {
        panic!("{why}");
    }
}

/// [`golden`] without the panic: why `actual` is not the golden file at `path`.
pub fn golden_check(path: &str, actual: &str) -> Result<(), String> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os(BLESS).is_some() {
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("mkdir for {path}: {e}"))?;
        }
        return std::fs::write(&file, actual).map_err(|e| format!("write {path}: {e}"));
    }
    let expected = std::fs::read_to_string(&file).unwrap_or_default();
    if expected == actual {
        return Ok(());
    }
    Err(format!(
        "{path} differs from what the test produced; if the change is intended, rerun the test with \
         `{BLESS}=1` and review the diff.\n{}",
        first_difference(&expected, actual)
    ))
}

/// Where `expected` and `actual` part: the line number and both lines (or
/// which one runs out first).
pub fn first_difference(expected: &str, actual: &str) -> String {
    let (mut want, mut got) = (expected.split_inclusive('\n'), actual.split_inclusive('\n'));
    let mut line = 1;
    loop {
        match (want.next(), got.next()) {
            (Some(a), Some(b)) if a == b => line += 1,
            (None, None) => return "(they differ in nothing a line shows)".to_owned(),
            (a, b) => {
                let show =
                    |l: Option<&str>| l.map_or_else(|| "(nothing: the text ends)".to_owned(), |l| format!("{l:?}"));
                return format!("first difference at line {line}:\n  expected: {}\n  actual:   {}", show(a), show(b));
            }
        }
    }
}

/// One run of the binary and everything it must print, in the manner of
/// `just`'s tests: the whole stdout, the whole stderr and the exit code are
/// compared, so a message that changes in any way fails the test. Unless set,
/// stdout and stderr must be empty and the exit code 0.
///
/// ```ignore
/// Test::new()
///     .playbook("name: x\n...")
///     .args(["validate", "playbook.yaml"])
///     .stderr("error: playbook.yaml:3:5: ...\n")
///     .status(2)
///     .run();
/// ```
///
/// Volatile parts are normalised before the comparison: the test folder's
/// path always reads `[TMP]`, and [`Test::normalise`] adds more (durations…).
#[must_use]
pub struct Test {
    dir: std::rc::Rc<TestDir>,
    cwd: Option<PathBuf>,
    args: Vec<std::ffi::OsString>,
    env: Vec<(String, String)>,
    env_remove: Vec<String>,
    stdin: Option<Vec<u8>>,
    stdout: Expect,
    stderr: Expect,
    status: i32,
    normalisers: Vec<Normaliser>,
}

/// A rewrite of the outputs before they are compared.
type Normaliser = Box<dyn Fn(&str) -> String>;

/// What an output stream must be.
enum Expect {
    /// Exactly this text (after normalising).
    Text(String),
    /// Exactly the golden file at this repo-relative path (`RUNBOOK_BLESS=1` rewrites it).
    Golden(String),
    /// Anything: the test looks at it itself.
    Any,
}

impl Default for Test {
    fn default() -> Self {
        Self::new()
    }
}

impl Test {
    pub fn new() -> Self {
        Self {
            dir: std::rc::Rc::new(TestDir::new()),
            cwd: None,
            args: Vec::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
            stdin: None,
            stdout: Expect::Text(String::new()),
            stderr: Expect::Text(String::new()),
            status: 0,
            normalisers: Vec::new(),
        }
    }

    /// The test's own folder (the binary runs there unless [`Test::current_dir`]
    /// says otherwise); holding it keeps the folder after [`Test::run`].
    pub fn dir(&self) -> std::rc::Rc<TestDir> {
        self.dir.clone()
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Writes `playbook.yaml` in the test folder (name it in [`Test::args`]).
    pub fn playbook(self, yaml: &str) -> Self {
        self.file("playbook.yaml", yaml)
    }

    /// Writes a file in the test folder.
    pub fn file(self, name: &str, text: &str) -> Self {
        self.bytes(name, text.as_bytes())
    }

    /// Writes a file of raw bytes in the test folder.
    pub fn bytes(self, name: &str, bytes: &[u8]) -> Self {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(path, bytes).expect("write file");
        self
    }

    /// Runs the binary in `cwd` instead of the test folder (e.g. the repository root).
    pub fn current_dir(mut self, cwd: &Path) -> Self {
        self.cwd = Some(cwd.to_owned());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.env_remove.push(key.to_owned());
        self
    }

    pub fn stdin(mut self, input: impl AsRef<[u8]>) -> Self {
        self.stdin = Some(input.as_ref().to_owned());
        self
    }

    /// The whole stdout.
    pub fn stdout(mut self, expected: impl Into<String>) -> Self {
        self.stdout = Expect::Text(expected.into());
        self
    }

    /// The whole stderr.
    pub fn stderr(mut self, expected: impl Into<String>) -> Self {
        self.stderr = Expect::Text(expected.into());
        self
    }

    /// The whole stderr is the golden file at `path` (relative to the repository root).
    pub fn stderr_golden(mut self, path: impl Into<String>) -> Self {
        self.stderr = Expect::Golden(path.into());
        self
    }

    /// stdout is not compared (the test reads it from the [`Outcome`]).
    pub fn stdout_any(mut self) -> Self {
        self.stdout = Expect::Any;
        self
    }

    /// stderr is not compared (the test reads it from the [`Outcome`]).
    pub fn stderr_any(mut self) -> Self {
        self.stderr = Expect::Any;
        self
    }

    pub fn status(mut self, code: i32) -> Self {
        self.status = code;
        self
    }

    /// Rewrites both outputs before they are compared, e.g. to blank out a duration.
    pub fn normalise(mut self, rewrite: impl Fn(&str) -> String + 'static) -> Self {
        self.normalisers.push(Box::new(rewrite));
        self
    }

    fn normalised(&self, text: &str) -> String {
        let tmp = self.dir.path().to_string_lossy().into_owned();
        let text = text.replace(&tmp, "[TMP]");
        self.normalisers.iter().fold(text, |text, rewrite| rewrite(&text))
    }

    /// Runs the binary and compares; the outcome (normalised) for further checks.
    pub fn run(self) -> Outcome {
        use std::io::Write;
        use std::process::Stdio;
        let cwd = self.cwd.clone().unwrap_or_else(|| self.dir.path().to_owned());
        let mut runbook = Runbook::new(&cwd).args(&self.args);
        for (key, value) in &self.env {
            runbook = runbook.env(key, value);
        }
        for key in &self.env_remove {
            runbook = runbook.env_remove(key);
        }
        let mut command = runbook.command();
        command.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run the runbook binary");
        if let Some(input) = &self.stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            let input = input.clone();
            std::thread::spawn(move || {
                let _ = pipe.write_all(&input);
            });
        }
        let output = child.wait_with_output().expect("wait for the runbook binary");
        let out = Outcome {
            code: output.status.code().unwrap_or(-1),
            stdout: self.normalised(&String::from_utf8_lossy(&output.stdout)),
            stderr: self.normalised(&String::from_utf8_lossy(&output.stderr)),
        };
        let mut problems = Vec::new();
        if out.code != self.status {
            problems.push(format!("exit code: expected {}, got {}", self.status, out.code));
        }
        problems.extend(compare("stdout", &self.stdout, &out.stdout));
        problems.extend(compare("stderr", &self.stderr, &out.stderr));
        assert!(
            problems.is_empty(),
            "`runbook {}`:\n{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" "),
            problems.join("\n"),
            out.stdout,
            out.stderr
        );
        out
    }
}

/// Why `actual` is not what `expect` says, if it is not.
fn compare(stream: &str, expect: &Expect, actual: &str) -> Option<String> {
    match expect {
        Expect::Text(expected) if expected != actual => {
            Some(format!("{stream}: {}\n--- expected {stream} ---\n{expected}", first_difference(expected, actual)))
        }
        Expect::Golden(path) => golden_check(path, actual).err().map(|why| format!("{stream}: {why}")),
        _ => None,
    }
}

/// A Python program that runs `argv[1:]` on a pseudo-terminal, answers each
/// prompt of `script` (a Python list of `(prompt, reply)` byte pairs) as it
/// appears (the pty is its controlling terminal, so `\x03` is a real Ctrl-C),
/// and prints what the terminal showed; it exits 99 when a prompt
/// never comes, else with the program's exit code.
pub fn pty_driver(script: &str) -> String {
    PTY_DRIVER.replace("SCRIPT", script)
}

const PTY_DRIVER: &str = r#"
import os, pty, select, subprocess, sys, time
master, slave = pty.openpty()
# The pty is the program's controlling terminal, as a real one is: Ctrl-C (b"\x03") sends SIGINT.
import fcntl, termios
proc = subprocess.Popen(sys.argv[1:], stdin=slave, stdout=slave, stderr=slave, close_fds=True,
                        start_new_session=True, preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
os.close(slave)
script = SCRIPT
seen, pending, deadline = b"", b"", time.time() + 60
def pump():
    global seen, pending
    ready, _, _ = select.select([master], [], [], 0.5)
    if ready:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            chunk = b""
        seen += chunk
        pending += chunk
        return bool(chunk)
    return True
for prompt, reply in script:
    while prompt not in pending:
        if time.time() > deadline or not pump():
            sys.stdout.write(seen.decode(errors="replace")); proc.kill(); sys.exit(99)
    pending = pending[pending.index(prompt) + len(prompt):]
    os.write(master, reply)
while proc.poll() is None and time.time() < deadline:
    pump()
while pump() and select.select([master], [], [], 0)[0]:
    pass
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(proc.wait(timeout=10))
"#;
