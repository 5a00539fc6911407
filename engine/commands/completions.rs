//! `runbook completions SHELL` and `runbook man`: both generated from the clap
//! definitions in `cli.rs`, so a new flag reaches them without a second list.

use std::io::Write;

use clap::CommandFactory;

use super::error::{Outcome, failed};
use super::exit;
use crate::cli::{Cli, Shell};

pub fn completions(shell: Shell) -> Outcome {
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(generator, &mut command, "runbook", &mut out);
    print(&out)
}

pub fn man() -> Outcome {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out).map_err(failed)?;
    print(&out)
}

fn print(bytes: &[u8]) -> Outcome {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(bytes).and_then(|()| stdout.flush()).map_err(failed)?;
    Ok(exit::CLEAN)
}
