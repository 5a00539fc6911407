//! `nagios`: runs a monitoring plugin (monitoring-plugins, Icinga, Sensu and
//! the thousands written to their protocol) and reads its answer: the exit
//! code is the plugin's state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), the
//! output a status line, long text and perfdata (see `perfdata`).
//!
//! The plugin judged its own thresholds, so its state stands as the step's
//! verdict floor ([`Probe::implied`]): WARNING warns and CRITICAL fails
//! whatever `expect` says; `expect` and `warn` can only add to that. UNKNOWN
//! (and any other exit) means the plugin could not check: the probe errors,
//! and `retries` applies as to any error.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::perfdata::{PluginOutput, parse_output};
use super::shell::{DEFAULT_MAX_OUTPUT, run_supervised};
use super::{Implied, Probe, ProbeContext, ProbeError};

/// Where distributions install plugins, searched after `PATH` for a bare name.
const PLUGIN_DIRS: &[&str] = &["/usr/lib/nagios/plugins", "/usr/lib/monitoring-plugins", "/usr/lib64/nagios/plugins"];

/// A monitoring plugin speaking the Nagios protocol, run without a shell under the step's
/// `timeout` (its process group is killed when the step ends). A bare program name is looked
/// up in `PATH`, then in `/usr/lib/nagios/plugins` and `/usr/lib/monitoring-plugins`. The
/// plugin's state is the verdict: OK passes, WARNING warns, CRITICAL fails, UNKNOWN (or any
/// other exit code) is an error; `expect` and `warn` add to it. Observes `state` (`OK`,
/// `WARNING`, `CRITICAL`), `exit_code`, `output` (the status line), `long_output` (the lines
/// after it), `perf` (each perfdata label's value, e.g. `perf.load1`), `perfdata` (each label's
/// `value`, `uom`, `base` (the value in seconds or bytes for time and size units), `base_uom`,
/// `warn`, `crit`, `min`, `max`), `perfdata_problems` (items that did not parse), `stderr` and
/// `latency_ms`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nagios {
    /// The plugin and its arguments.
    #[schemars(example = vec!["check_disk", "-w", "20%", "-c", "10%", "-p", "/"])]
    pub argv: Vec<String>,
    /// Extra environment variables; the place for secrets, which a command line would expose.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(example = serde_json::json!({"MYSQL_PWD": "{{secrets.mysql_password}}"}))]
    pub env: BTreeMap<String, String>,
}

/// The states of the protocol, by exit code.
const STATES: [&str; 4] = ["OK", "WARNING", "CRITICAL", "UNKNOWN"];

impl Probe for Nagios {
    const OBSERVES: Option<&'static [&'static str]> = Some(&[
        "state",
        "exit_code",
        "output",
        "long_output",
        "perf",
        "perfdata",
        "perfdata_problems",
        "stderr",
        "latency_ms",
    ]);
    const EXPOSED: &'static [&'static str] = &["argv"];

    fn check(&self) -> Result<(), ProbeError> {
        match self.argv.first() {
            Some(program) if !program.is_empty() => Ok(()),
            _ => Err(ProbeError::check("argv", "`argv` is empty; name a plugin, e.g. `check_disk`")),
        }
    }

    async fn observe(&self, ctx: &ProbeContext) -> Result<Value, ProbeError> {
        self.check()?;
        let program = resolve(&self.argv[0], &ctx.base_dir);
        let mut command = tokio::process::Command::new(&program);
        command.args(&self.argv[1..]).envs(&self.env).current_dir(&ctx.base_dir);
        let ran = run_supervised(command, &self.argv[0], DEFAULT_MAX_OUTPUT).await?;
        let output = parse_output(&ran.stdout);
        let state = usize::try_from(ran.exit_code).ok().and_then(|code| STATES.get(code)).copied();
        match state {
            Some("UNKNOWN") => Err(ProbeError::Other(format!("UNKNOWN: {}", said(&output, &ran.stderr)))),
            None => Err(ProbeError::Other(format!(
                "`{}` exited {}, which is no plugin state (0-3): {}",
                self.argv[0],
                ran.exit_code,
                said(&output, &ran.stderr)
            ))),
            Some(state) => Ok(observation(state, ran.exit_code, output, ran.stderr.trim_end(), ran.latency_ms)),
        }
    }

    fn implied(&self, observation: &Value) -> Option<Implied> {
        let output = observation.get("output").and_then(Value::as_str).unwrap_or("");
        match observation.get("state").and_then(Value::as_str)? {
            "WARNING" => Some(Implied::Warn(format!("the plugin said WARNING: {output}"))),
            "CRITICAL" => Some(Implied::Fail(format!("the plugin said CRITICAL: {output}"))),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        format!("nagios plugin {}", self.argv.join(" "))
    }
}

/// What the plugin said, for an error: its status line, else its standard error.
fn said(output: &PluginOutput, stderr: &str) -> String {
    let text = if output.status.is_empty() { stderr.trim() } else { output.status.as_str() };
    if text.is_empty() { "(no output)".to_owned() } else { text.to_owned() }
}

fn observation(state: &str, exit_code: i32, output: PluginOutput, stderr: &str, latency_ms: f64) -> Value {
    let mut perf = Map::new();
    let mut perfdata = Map::new();
    for item in output.perfdata {
        perf.insert(item.label.clone(), json!(item.value));
        perfdata.insert(item.label.clone(), serde_json::to_value(&item).unwrap_or(Value::Null));
    }
    json!({
        "state": state,
        "exit_code": exit_code,
        "output": output.status,
        "long_output": output.long_text.join("\n"),
        "perf": perf,
        "perfdata": perfdata,
        "perfdata_problems": output.problems,
        "stderr": stderr,
        "latency_ms": latency_ms,
    })
}

/// A bare name found in `PATH` runs as is; else the first plugin folder holding it; a path
/// is relative to the playbook's folder.
fn resolve(program: &str, base_dir: &Path) -> PathBuf {
    if program.contains('/') {
        return base_dir.join(program);
    }
    let in_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    if in_path {
        return PathBuf::from(program);
    }
    PLUGIN_DIRS.iter().map(|dir| Path::new(dir).join(program)).find(|p| p.is_file()).unwrap_or_else(|| program.into())
}
