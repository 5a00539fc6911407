use clap::Parser;

fn main() -> std::process::ExitCode {
    // A panic message can quote a value, and values can be secrets: say where, never what
    // (this hook also replaces the backtrace RUST_BACKTRACE would print).
    std::panic::set_hook(Box::new(|info| {
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!(
            "error: internal error{place}; this is a bug in runbook, please report it \
             (details are withheld because they could hold secrets)"
        );
    }));
    std::process::ExitCode::from(runbook::commands::main(runbook::cli::Cli::parse()))
}
