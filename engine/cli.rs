//! The command line, as clap definitions only.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "runbook", version, about = "Runs YAML playbooks of checks and reports what it found.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a playbook and print the checklist.
    Run(RunArgs),
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
    /// Print the playbook JSON Schema.
    Schema,
    /// List the probe kinds.
    Probes,
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
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))
}
