use clap::Parser;

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(runbook::commands::main(runbook::cli::Cli::parse()))
}
