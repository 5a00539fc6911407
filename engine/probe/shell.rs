//! `shell`: runs a command. Observation: `exit_code`, `stdout`, `stderr`,
//! `lines` (stdout split into lines), `json` (stdout parsed, with `json: true`)
//! and `latency_ms`. The command runs in a process group of its own; when the
//! step ends early (deadline, Ctrl-C) the whole group is killed, children too,
//! and so it is when runbook dies, even by SIGKILL (`process::supervisor`).

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Instant;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{Probe, ProbeContext, ProbeError};
use crate::template::{Bound, Context, ENV_PREFIX};
use crate::units::parse_size;

/// A command: `run` for a `sh -c` command line or `argv` for a program and its arguments.
/// A template value in `run` reaches the shell as an environment variable, never as script
/// text, so it stays data whatever it holds. Observes `exit_code`,
/// `stdout` and `stderr` (trailing newlines trimmed), `lines` (stdout as a list of lines),
/// `json` (stdout parsed, with `json: true`) and `latency_ms`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Shell {
    /// A command line for `sh -c`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"df -P / | tail -1")]
    pub run: Option<String>,
    /// A program and its arguments, run without a shell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = vec!["pm2", "jlist"])]
    pub argv: Option<Vec<String>>,
    /// Extra environment variables; the place for secrets, which a command line would expose.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(example = serde_json::json!({"PGPASSWORD": "{{secrets.pg_password}}"}))]
    pub env: BTreeMap<String, String>,
    /// The working folder (relative to the playbook's folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"/var/log/titan")]
    pub cwd: Option<String>,
    /// Parse stdout as JSON into `json`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub json: bool,
    /// The most output kept per stream, e.g. `1MB` (the default); more is an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"4MB", regex(pattern = crate::units::SIZE_PATTERN))]
    pub max_output: Option<String>,
    /// The template values `run` expands, by variable name (set by rendering, never by a playbook).
    #[serde(skip)]
    values: Vec<(String, String)>,
}

pub(super) const DEFAULT_MAX_OUTPUT: usize = 1024 * 1024;

impl Probe for Shell {
    const OBSERVES: Option<&'static [&'static str]> =
        Some(&["exit_code", "stdout", "stderr", "lines", "json", "latency_ms"]);
    const TEMPLATES: &'static [(&'static str, Context)] = &[("run", Context::Shell)];
    const EXPOSED: &'static [&'static str] = &["run", "argv"];

    fn check(&self) -> Result<(), ProbeError> {
        if let Some(name) = self.env.keys().find(|k| k.starts_with(ENV_PREFIX)) {
            return Err(ProbeError::check_item(
                "env",
                name,
                format!(
                    "`{name}` in `env`: names starting with `{ENV_PREFIX}` carry template values into the script; rename it"
                ),
            ));
        }
        self.max_output()?;
        match (&self.run, &self.argv) {
            (Some(_), None) => Ok(()),
            (None, Some(argv)) if !argv.is_empty() => Ok(()),
            (None, Some(_)) => Err(ProbeError::check("argv", "`argv` is empty; name a program")),
            (Some(_), Some(_)) => Err(ProbeError::check("argv", "give `run` or `argv`, not both")),
            (None, None) => {
                Err(ProbeError::check("run", "give `run` (a command line) or `argv` (a program and its arguments)"))
            }
        }
    }

    async fn observe(&self, ctx: &ProbeContext) -> Result<Value, ProbeError> {
        self.check()?;
        let max = self.max_output()?;
        let mut command = match (&self.run, &self.argv) {
            (Some(line), _) => {
                let mut c = tokio::process::Command::new("sh");
                c.arg("-c").arg(line);
                c
            }
            (None, Some(argv)) => {
                let mut c = tokio::process::Command::new(&argv[0]);
                c.args(&argv[1..]);
                c
            }
            (None, None) => unreachable!("checked above"),
        };
        command
            .envs(&self.env)
            .envs(self.values.iter().map(|(k, v)| (k, v)))
            .current_dir(self.cwd.as_ref().map_or_else(|| ctx.base_dir.clone(), |d| ctx.base_dir.join(d)));
        let ran = run_supervised(command, self.program(), max).await?;
        let (out, err, exit_code, latency_ms) = (ran.stdout, ran.stderr, ran.exit_code, ran.latency_ms);
        let json = if self.json {
            serde_json::from_str(&out).map_err(|e| ProbeError::Decode(format!("stdout is not JSON: {e}")))?
        } else {
            Value::Null
        };
        Ok(serde_json::json!({
            "exit_code": exit_code,
            "stdout": out.trim_end(),
            "stderr": err.trim_end(),
            "lines": out.lines().collect::<Vec<_>>(),
            "json": json,
            "latency_ms": latency_ms,
        }))
    }

    fn bind(&mut self, field: &str, bound: Bound) {
        if let ("run", Bound::Env(values)) = (field, bound) {
            self.values = values;
        }
    }

    fn describe(&self) -> String {
        match (&self.run, &self.argv) {
            (Some(line), _) if self.values.is_empty() => format!("sh -c {line}"),
            (Some(line), _) => {
                let values: Vec<String> = self.values.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                format!("sh -c {line} (with {})", values.join(", "))
            }
            (None, Some(argv)) => argv.join(" "),
            (None, None) => String::new(),
        }
    }
}

impl Shell {
    /// The most output kept per stream; `parse_size`'s message is the problem with `max_output`.
    fn max_output(&self) -> Result<usize, ProbeError> {
        match &self.max_output {
            Some(size) => {
                parse_size(size).map(|n| n as usize).map_err(|e| ProbeError::check("max_output", e.to_string()))
            }
            None => Ok(DEFAULT_MAX_OUTPUT),
        }
    }

    fn program(&self) -> &str {
        self.argv.as_ref().and_then(|a| a.first()).map_or("sh", String::as_str)
    }
}

/// What a finished command left: its output (lossy UTF-8), exit code (128 + the signal
/// that killed it) and how long it ran.
pub(super) struct Ran {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
    pub latency_ms: f64,
}

/// Runs `command` with no input, in a process group of its own that dies with the step and
/// with runbook (`process::supervisor`), keeping at most `max` bytes of each stream.
pub(super) async fn run_supervised(
    mut command: tokio::process::Command,
    program: &str,
    max: usize,
) -> Result<Ran, ProbeError> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0).kill_on_drop(true);
    crate::process::die_with_runbook(&mut command);
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| ProbeError::Io(format!("cannot start `{program}`: {e}")))?;
    let _group = child.id().map(crate::process::GroupGuard::new);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let (stdout, stderr, status) =
        tokio::try_join!(read_capped(stdout, max, "stdout"), read_capped(stderr, max, "stderr"), async {
            child.wait().await.map_err(|e| ProbeError::Io(format!("cannot wait for the command: {e}")))
        })?;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let exit_code = status.code().unwrap_or_else(|| 128 + crate::process::signal_of(&status));
    Ok(Ran { stdout, stderr, exit_code, latency_ms: (latency_ms * 1000.0).round() / 1000.0 })
}

async fn read_capped(stream: Option<impl AsyncRead + Unpin>, max: usize, name: &str) -> Result<String, ProbeError> {
    let Some(mut stream) = stream else { return Ok(String::new()) };
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await.map_err(|e| ProbeError::Io(format!("cannot read {name}: {e}")))?;
        if n == 0 {
            return Ok(String::from_utf8_lossy(&buffer).into_owned());
        }
        if buffer.len() + n > max {
            return Err(ProbeError::Limit(format!(
                "{name} is longer than {max} bytes (raise `max_output` to keep more)"
            )));
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}
