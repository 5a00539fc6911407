//! The command line, as clap definitions only.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "runbook", version, about = "Runs YAML playbooks of checks and reports what it found.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// The largest playbook file read, e.g. `16MB`; a bigger one is refused before parsing.
    #[arg(long, global = true, env = "RUNBOOK_MAX_PLAYBOOK_SIZE", value_name = "SIZE", default_value = "4MB",
          value_parser = parse_byte_count)]
    pub max_playbook_size: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a playbook and print the checklist.
    Run(Box<RunArgs>),
    /// Check playbooks without running them.
    Validate {
        /// Playbook files, folders or glob patterns.
        #[arg(required = true)]
        files: Vec<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Show a playbook's sections and steps without probing anything.
    List { file: PathBuf },
    /// Print the playbook JSON Schema (or, with `--report`, the run record's).
    Schema {
        /// The schema of the run record (`--format json`, `--report x.json`) instead.
        #[arg(long)]
        report: bool,
    },
    /// List the probe kinds, or show what one observes and takes.
    Probes {
        /// A probe kind, e.g. `http`.
        kind: Option<String>,
    },
    /// List stored runs, or one step's captured values over time.
    History(HistoryArgs),
    /// Show a stored run again.
    Show(ShowArgs),
    /// Snooze a step for a while: it still runs and shows its verdict, marked snoozed, but its
    /// failures do not fail runs or notify until the snooze ends. Kept in the history store, so
    /// every host sharing it sees it. `--list` shows the snoozes in force, `--lift ID` ends one.
    Snooze(SnoozeArgs),
    /// What changed between two stored runs: verdicts, captured values (with the change in %),
    /// steps added or removed. Exit 0 when nothing changed, 1 when something did.
    Diff(DiffArgs),
    /// Run a playbook on a schedule until stopped, printing each run.
    Watch(WatchArgs),
    /// Run playbooks on a schedule and serve their results: Prometheus `/metrics`, `/healthz`, `/`.
    Serve(ServeArgs),
    /// Write a key pair for signing reports (minisign format, ed25519).
    Keygen {
        /// A folder (gets `runbook.key` and `runbook.pub`) or the secret key's path (its
        /// public key goes beside it as `.pub`). An encrypted key when `RUNBOOK_SIGN_PASSWORD` is set.
        #[arg(long, value_name = "DIR|PATH", default_value = "runbook.key")]
        out: PathBuf,
    },
    /// One playbook on many hosts: each host's latest run, a host × step matrix, missing hosts failed.
    Fleet(FleetArgs),
    /// Check a signed report and every countersign after it (`REPORT.signoff-N.EXT`) against
    /// their `.minisig` signatures: exit 0 when every sign-off is good and as many as the
    /// playbook requires signed, 1 when one is broken or missing.
    Verify {
        /// The report file.
        report: PathBuf,
        /// A public key file (repeatable: one per person who signs).
        #[arg(long, value_name = "FILE", default_value = "runbook.pub")]
        pubkey: Vec<PathBuf>,
        /// The signature file (default: `<report>.minisig`); checks that one file only.
        #[arg(long, value_name = "FILE")]
        signature: Option<PathBuf>,
    },
    /// Add a second person's sign-off to a kept run (four eyes): the report again with every
    /// sign-off, as `REPORT.signoff-N.EXT`, signed with `--sign` beside it; the history keeps it.
    Countersign(CountersignArgs),
    /// Print a shell completion script, e.g. `runbook completions bash > /etc/bash_completion.d/runbook`.
    Completions {
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the manual page (roff), e.g. `runbook man > runbook.1; man -l runbook.1`.
    Man,
}

/// The shells `runbook completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// When `watch` and `serve` run.
#[derive(Debug, Clone, clap::Args)]
pub struct ScheduleArgs {
    /// Only inside this daily window, e.g. `09:00-17:30` (end excluded; across midnight when the end is earlier).
    #[arg(long, value_name = "HH:MM-HH:MM")]
    pub between: Option<String>,
    /// Only on these weekdays, e.g. `mon-fri`, `sat,sun`.
    #[arg(long, value_name = "DAYS")]
    pub days: Option<String>,
    /// The time zone of `--between` and `--days`: an IANA name such as `Europe/London`, `UTC` or `local`.
    #[arg(long, value_name = "ZONE", default_value = "local")]
    pub tz: String,
}

/// What every run of `watch` and `serve` shares with `run`.
#[derive(Debug, Clone, clap::Args)]
pub struct MonitorRunArgs {
    /// Override a playbook var (repeatable); `RUNBOOK_VAR_<name>` does the same.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Steps in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: u16,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Neither read nor save run history.
    #[arg(long, env = "RUNBOOK_NO_HISTORY", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_history: bool,
    /// Also send results where this file says (webhooks, commands, email), as the playbook's `notify:` does.
    #[arg(long, value_name = "FILE")]
    pub notify: Option<PathBuf>,
    /// Known exceptions kept apart from the playbook, added to its own `waivers:` (as `run --waivers`).
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    #[command(flatten)]
    pub identity: IdentityArgs,
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// The playbook file.
    pub file: PathBuf,
    /// How often, e.g. `1h`, `15m`, `30s`; the first run is at once (or when the window opens).
    #[arg(long, value_name = "DURATION")]
    pub every: String,
    #[command(flatten)]
    pub schedule: ScheduleArgs,
    #[command(flatten)]
    pub runs: MonitorRunArgs,
    /// Output format: the checklist, or one JSON run record per line.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The playbook files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The address to serve on (`:0` picks a free port, printed on stderr).
    #[arg(long, default_value = "127.0.0.1:9808", value_name = "ADDR:PORT")]
    pub listen: String,
    /// How often each playbook runs; the first run is at once (or when the window opens).
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub every: String,
    #[command(flatten)]
    pub schedule: ScheduleArgs,
    #[command(flatten)]
    pub runs: MonitorRunArgs,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The playbook file.
    pub file: PathBuf,
    /// Override a playbook var (repeatable); `RUNBOOK_VAR_<name>` does the same.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Steps in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: u16,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RunFormat::Text)]
    pub format: RunFormat,
    /// Write the output to this file (the terminal still shows the checklist).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Run only these steps (and the steps they need); repeatable.
    #[arg(long = "only", value_name = "ID")]
    pub only: Vec<String>,
    /// Run only this section (and the steps it needs); repeatable.
    #[arg(long = "section", value_name = "NAME")]
    pub sections: Vec<String>,
    /// Stop the whole run after this long, e.g. `2m`; unfinished steps become errors.
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,
    /// Run again only the steps stored run RUN_ID failed, errored or left pending or
    /// unconfirmed (and the steps they need), as a follow-up linked to that run.
    #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["only", "sections", "shard", "no_history"])]
    pub rerun_failed: Option<i64>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Confirm every action step (`action: true`) without asking. Without it, actions are asked
    /// about on a terminal and skipped elsewhere (the run then exits 1).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show what every action step would do (fully rendered, secrets masked) and skip it; steps
    /// that are not actions still run. Wins over `--yes`. Not kept in the run history.
    #[arg(long)]
    pub dry_run: bool,
    /// Approvals of action steps with `approvals: N`, given ahead of the run: a YAML list of
    /// `{step, approver, action, at}`, `action` being the exact text `--dry-run` shows. It must
    /// be signed (`FILE.minisig`) by an `--approvals-key`. `--yes` never stands in for approvals.
    #[arg(long, value_name = "FILE", requires = "approvals_keys")]
    pub approvals: Option<PathBuf>,
    /// A minisign public key (or a folder of `.pub` files) that may sign the `--approvals` file;
    /// repeatable.
    #[arg(long = "approvals-key", value_name = "PUB", requires = "approvals")]
    pub approvals_keys: Vec<PathBuf>,
    /// Who confirms actions [default: $USER] and signs the run off (a report's sign-off is
    /// only signed when given; on a terminal runbook asks when a report or journal is written).
    #[arg(long, env = "RUNBOOK_OPERATOR", value_name = "NAME")]
    pub operator: Option<String>,
    /// Neither read nor save run history (`prev` and friends then find nothing).
    #[arg(long, env = "RUNBOOK_NO_HISTORY", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_history: bool,
    /// Also send results where this file says (webhooks, commands, email), as the playbook's `notify:` does.
    #[arg(long, value_name = "FILE")]
    pub notify: Option<PathBuf>,
    /// Known exceptions kept apart from the playbook (`waivers:` and a list of `{step, reason,
    /// owner, expires}`), added to the playbook's own.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// Show what each step observed (the observation JSON, secrets masked) under it in the
    /// checklist, to write captures and expressions against the real shape.
    #[arg(long, short = 'v', visible_alias = "verbose")]
    pub show_observed: bool,
    #[command(flatten)]
    pub report: ReportArgs,
    #[command(flatten)]
    pub identity: IdentityArgs,
}

/// Where run history is kept.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// The run history: a SQLite file, or a `postgres://` URL to share it
    /// [default: $XDG_DATA_HOME/runbook/history.db]
    #[arg(long = "history", env = "RUNBOOK_HISTORY", value_name = "PATH|URL", hide_env_values = true)]
    pub history: Option<String>,
}

/// `runbook countersign`.
#[derive(Debug, clap::Args)]
pub struct CountersignArgs {
    /// The report the operator wrote (`runbook run --report`), or the latest `REPORT.signoff-N.EXT`.
    pub report: PathBuf,
    /// Who countersigns; never the person who signed before.
    #[arg(long, env = "RUNBOOK_OPERATOR", value_name = "NAME")]
    pub operator: String,
    /// Sign the countersigned report with this minisign secret key (`runbook keygen`); never a key that signed before.
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,
    /// The run's id [default: the one the report's signature or JSON names].
    #[arg(long = "run", value_name = "ID")]
    pub run_id: Option<i64>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub action: Option<HistoryAction>,
    /// A playbook name (or file); all playbooks when absent.
    pub playbook: Option<String>,
    /// Per step: how often it passed and the p50/p95 of its numeric captures, over `--window`.
    #[arg(long, requires = "playbook", conflicts_with = "step")]
    pub stats: bool,
    /// How far back `--stats` looks, e.g. `7d`, `24h`.
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration_arg)]
    pub window: std::time::Duration,
    /// Show this step's verdicts and captured values, run by run.
    #[arg(long, value_name = "ID")]
    pub step: Option<String>,
    /// The newest runs shown.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum HistoryAction {
    /// Remove old runs: beyond the newest `--keep-runs`, or older than `--keep-for`. Runs a
    /// playbook's trend checks still read (`avg(x, 30)`: its last 30) are always kept. Removed
    /// runs stay counted in `history --stats` (its per-day rollups are kept).
    Prune(PruneArgs),
    /// Check that no kept run was edited, deleted or reordered: walks each playbook and host's
    /// chain of runs and names every break by run id. Exit 0 intact, 1 broken.
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// A playbook name (or file); every playbook when absent.
    pub playbook: Option<String>,
    /// Only this host's runs.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// A playbook name (or file); every playbook when absent.
    pub playbook: Option<String>,
    /// Keep the newest this many runs of each playbook.
    #[arg(long, value_name = "N", required_unless_present = "keep_for")]
    pub keep_runs: Option<std::num::NonZeroU32>,
    /// Keep runs younger than this, e.g. `90d`.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub keep_for: Option<std::time::Duration>,
    /// Say what would be removed, and remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, clap::Args)]
pub struct SnoozeArgs {
    /// The playbook file (for `--list`: a playbook name or file; every playbook when absent).
    pub playbook: Option<String>,
    /// The id of the step to snooze.
    pub step: Option<String>,
    /// How long, e.g. `2h`, `30m`, `1d` (at most 30 days).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration_arg)]
    pub duration: Option<std::time::Duration>,
    /// Why: shown beside the step in every report and in the sign-off.
    #[arg(long)]
    pub reason: Option<String>,
    /// Who snoozed it (default `$USER`).
    #[arg(long)]
    pub owner: Option<String>,
    /// Snooze it on this host only (the name runs are kept under, as `run --host`); every host when absent.
    #[arg(long)]
    pub host: Option<String>,
    /// List the snoozes in force instead.
    #[arg(long, conflicts_with_all = ["step", "duration", "reason", "owner", "host", "lift"])]
    pub list: bool,
    /// End snooze ID now.
    #[arg(long, value_name = "ID", conflicts_with_all = ["playbook", "step", "duration", "reason", "owner", "host"])]
    pub lift: Option<i64>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub store: StoreArgs,
}

fn parse_duration_arg(text: &str) -> Result<std::time::Duration, String> {
    crate::units::parse_duration(text).map_err(|e| e.to_string())
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The run's id, as `runbook history` lists it.
    pub run_id: i64,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the output to this file (the terminal still shows the checklist).
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub file: ReportFileArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// What `runbook run` prints: the checklist, or a report format (see `report::format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunFormat {
    Text,
    Json,
    Junit,
    Markdown,
    Html,
    /// A Nagios plugin's answer; the exit code is the state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
    Nagios,
    Tap,
}

/// A size such as `16MB` (powers of 1024, as in playbooks), as whole bytes.
// clap value parsers: clap prints the String as the argument's error, as is.
fn parse_byte_count(text: &str) -> Result<u64, String> {
    let bytes = crate::units::parse_size(text).map_err(|e| e.to_string())?;
    if bytes < 1.0 {
        return Err(format!("`{text}` is too small; give at least one byte"));
    }
    Ok(bytes as u64)
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))
}

/// The report, sign-off and journal options of `runbook run`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub file: ReportFileArgs,
    /// Answers to the manual steps (YAML: `id: pass|fail|skip` or `id: {verdict, comment}`).
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Sign with this minisign secret key: the report (writing `<report>.minisig`) and the
    /// record the history keeps (the fleet view verifies it).
    #[arg(long, value_name = "SECRET_KEY_FILE")]
    pub sign: Option<PathBuf>,
    /// Also write JUnit XML here.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Append one line for this run to this journal file.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
}

/// The report file of `runbook run` and `runbook show`: where, which format, which template.
#[derive(Debug, clap::Args)]
pub struct ReportFileArgs {
    /// Write a report file; its format comes from the extension (.md .html .txt .json .xml), markdown otherwise.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// The report's format, whatever its extension: markdown, html, text, json, junit, nagios or tap.
    #[arg(long, value_name = "FORMAT", requires = "report")]
    pub report_format: Option<String>,
    /// A handlebars template for the report (for `run`, overrides the playbook's `report.template`).
    #[arg(long, value_name = "FILE", requires = "report")]
    pub template: Option<PathBuf>,
}

/// Who a run is kept under, for the fleet view (`runbook run`).
#[derive(Debug, Clone, clap::Args)]
pub struct IdentityArgs {
    /// The host name the run is kept under [default: this machine's name].
    #[arg(long, env = "RUNBOOK_HOST", value_name = "NAME")]
    pub host: Option<String>,
    /// A label kept with the run, e.g. `region=eu` (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_var)]
    pub labels: Vec<(String, String)>,
    /// Ties runs started together, e.g. the shards of one run; the fleet view joins them.
    #[arg(long, env = "RUNBOOK_GROUP", value_name = "ID")]
    pub group: Option<String>,
    /// Run only shard I of N (I from 0, as Kubernetes' `JOB_COMPLETION_INDEX`): a deterministic
    /// part of the steps; a step goes with the steps it needs or reads.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
}

/// `runbook fleet`.
#[derive(Debug, clap::Args)]
pub struct FleetArgs {
    /// The playbook file (its steps, titles and `fleet:` rules), or a playbook name.
    pub playbook: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Hosts that must have reported, one per line (`#` comments) [default: every host that
    /// ever ran the playbook].
    #[arg(long, value_name = "FILE")]
    pub expect_hosts: Option<PathBuf>,
    /// How recent a host's latest run must be; an older one makes the host missing.
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub within: String,
    /// Verify each host's record against the minisign public keys (`*.pub`) in this folder;
    /// a record no trusted key verifies fails the fleet.
    #[arg(long, value_name = "DIR")]
    pub trusted_keys: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = FleetFormat::Text)]
    pub format: FleetFormat,
    /// Write the view to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

/// What `runbook fleet` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FleetFormat {
    Text,
    Json,
    Html,
    Junit,
}

/// `runbook diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The earlier run's id (or, with `--against previous`, the run to compare).
    pub first: i64,
    /// The later run's id.
    pub second: Option<i64>,
    /// Compare the run with the run of the same playbook on the same host before it.
    #[arg(long = "against", value_name = "previous", value_parser = ["previous"], num_args = 1,
          action = clap::ArgAction::Set, conflicts_with = "second")]
    pub against: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub store: StoreArgs,
}

impl DiffArgs {
    /// `--against previous` was given.
    pub fn against_previous(&self) -> bool {
        self.against.is_some()
    }
}
