//! The CLI layer: runs a parsed command, prints, and picks the exit code.
//! The only place that writes to the terminal.

mod approvals_file;
mod completions;
mod config;
mod confirm;
mod countersign;
mod diff;
mod error;
mod fleet;
mod history;
mod history_stats;
mod history_verify;
mod keys;
mod list;
mod listen;
mod monitor;
mod probes;
mod progress;
mod prompt;
mod prune;
mod reports;
mod rerun;
mod run;
mod serve;
mod serve_status;
mod show;
mod snooze;
mod validate;
mod watch;

use std::io::IsTerminal;

use error::{CliError, Outcome};

use crate::cli::{Cli, Command};
use crate::playbook::{self, Diagnostic, Plan};

/// Exit codes, as docs/playbook.md ("Verdicts and exit codes") documents them.
pub mod exit {
    pub const CLEAN: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const INVALID: u8 = 2;
    pub use crate::session::signals::{INTERRUPTED, TERMINATED};
}

/// Runs one command; returns the process exit code.
pub fn main(cli: Cli) -> u8 {
    playbook::load::set_size_limit(cli.max_playbook_size);
    match command(cli.command) {
        Ok(code) => code,
        Err(CliError::Shown(code)) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.code()
        }
    }
}

fn command(command: Command) -> Outcome {
    match command {
        Command::Run(args) => run::run(&args),
        Command::Validate { files, format } => validate::validate(&files, format),
        Command::List { file } => list::list(&file),
        Command::Schema { report } => {
            let text = if report { crate::schema::report_schema_text() } else { crate::schema::playbook_schema_text() };
            print!("{text}");
            Ok(exit::CLEAN)
        }
        Command::Keygen { out } => keys::keygen(&out),
        Command::Fleet(args) => fleet::fleet(&args),
        Command::Verify { report, pubkey, signature } => keys::verify(&report, &pubkey, signature.as_deref()),
        Command::Countersign(args) => countersign::countersign(&args),
        Command::History(args) => history::history(&args),
        Command::Show(args) => show::show(&args),
        Command::Snooze(args) => snooze::snooze(&args),
        Command::Diff(args) => diff::diff(&args),
        Command::Watch(args) => watch::watch(&args),
        Command::Serve(args) => serve::serve(&args),
        Command::Completions { shell } => completions::completions(shell),
        Command::Man => completions::man(),
        Command::Probes { kind } => probes::probes(kind.as_deref()),
    }
}

/// Whether stdout gets colour: a terminal, and `NO_COLOR` unset.
pub fn colour_stdout() -> bool {
    std::io::stdout().is_terminal() && fancy_terminal()
}

/// Whether the terminal may be drawn on: `NO_COLOR` unset and `TERM` not `dumb`.
pub fn fancy_terminal() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// Loads and validates a playbook, printing every problem to stderr.
pub fn load_plan(path: &std::path::Path, overrides: &[(String, String)]) -> Result<Plan, CliError> {
    let env = env_overrides();
    let loaded = playbook::load(path).map_err(|playbook::error::LoadError { diagnostic, source }| {
        match &source {
            Some(text) => print_diagnostics(&validate::every_problem(path, text, diagnostic, &env), Some(text)),
            None => print_diagnostics(&[diagnostic], None),
        }
        CliError::Shown(exit::INVALID)
    })?;
    playbook::validate::plan(&loaded, overrides, &env).map_err(|problems| {
        print_diagnostics(&problems, Some(&loaded.source));
        CliError::Shown(exit::INVALID)
    })
}

/// A warning on stderr: something is off, and the command goes on.
pub fn warn(message: &str) {
    eprintln!("warning: {message}");
}

/// `RUNBOOK_VAR_<name>=<value>` pairs from the environment.
pub fn env_overrides() -> Vec<(String, String)> {
    std::env::vars().filter_map(|(k, v)| k.strip_prefix("RUNBOOK_VAR_").map(|name| (name.to_owned(), v))).collect()
}

pub fn print_diagnostics(problems: &[Diagnostic], source: Option<&str>) {
    for problem in problems {
        eprintln!("error: {}\n", problem.render(source));
    }
}
