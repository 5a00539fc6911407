//! The CLI layer: runs a parsed command, prints, and picks the exit code.
//! The only place that writes to the terminal.

mod confirm;
mod history;
mod keys;
mod list;
mod listen;
mod monitor;
mod progress;
mod prompt;
mod reports;
mod run;
mod serve;
mod show;
mod validate;
mod watch;

use std::io::IsTerminal;

use crate::cli::{Cli, Command};
use crate::playbook::{self, Diagnostic, Plan};

/// Exit codes, as DESIGN.md fixes them.
pub mod exit {
    pub const CLEAN: u8 = 0;
    pub const FAILED: u8 = 1;
    pub const INVALID: u8 = 2;
    pub const INTERRUPTED: u8 = 130;
    pub const TERMINATED: u8 = 143;
}

/// Runs one command; returns the process exit code.
pub fn main(cli: Cli) -> u8 {
    playbook::load::set_size_limit(cli.max_playbook_size);
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Validate { files, format } => validate::validate(&files, format),
        Command::List { file } => list::list(&file),
        Command::Schema { report } => {
            let text = if report { crate::schema::report_schema_text() } else { crate::schema::playbook_schema_text() };
            print!("{text}");
            exit::CLEAN
        }
        Command::Keygen { out } => keys::keygen(&out),
        Command::Verify { report, pubkey, signature } => keys::verify(&report, &pubkey, signature.as_deref()),
        Command::History(args) => history::history(&args),
        Command::Show(args) => show::show(&args),
        Command::Watch(args) => watch::watch(&args),
        Command::Serve(args) => serve::serve(&args),
        Command::Probes => {
            for kind in crate::probe::KINDS {
                println!("{kind}");
            }
            exit::CLEAN
        }
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
pub fn load_plan(path: &std::path::Path, overrides: &[(String, String)]) -> Option<Plan> {
    let loaded = match playbook::load(path) {
        Ok(loaded) => loaded,
        Err(playbook::error::LoadError { diagnostic, source }) => {
            print_diagnostics(&[diagnostic], source.as_deref());
            return None;
        }
    };
    let env = env_overrides();
    match playbook::validate::plan(&loaded, overrides, &env) {
        Ok(plan) => Some(plan),
        Err(problems) => {
            print_diagnostics(&problems, Some(&loaded.source));
            None
        }
    }
}

/// The runtime that runs playbooks, or `None` after saying why it could not
/// start. One thread: probes wait on the network in parallel all the same,
/// and a request no longer hops between threads (500 local HTTP steps took
/// 0.10 s on a multi-thread runtime, 0.06 s on this one). Blocking work goes
/// to `spawn_blocking`.
pub fn run_time() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| eprintln!("error: cannot start the async runtime: {e}"))
        .ok()
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
