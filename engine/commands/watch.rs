//! `runbook watch FILE --every 1h [--between ..] [--days ..] [--tz ..]`: runs
//! a playbook on a schedule until stopped, printing every run as `runbook
//! run` would (or one JSON record per line) and keeping it in the history.
//! One run at a time: a run that outlasts its interval is reported and the
//! slots it overran are skipped. Exit codes: see `commands::monitor`.

use std::time::Duration;

use chrono::Utc;

use super::colour_stdout;
use super::error::Outcome;
use super::monitor;
use crate::cli::{Format, WatchArgs};
use crate::report::text::{self, Style};

pub fn watch(args: &WatchArgs) -> Outcome {
    let schedule = monitor::schedule(&args.every, &args.schedule)?;
    let mut session = monitor::prepare(&args.file, &args.runs)?;
    let runtime = crate::session::runtime()?;
    let code = runtime.block_on(async {
        let signals = monitor::signals();
        let mut slot = schedule.first(Utc::now());
        let mut runs = 0u64;
        loop {
            if slot > Utc::now() {
                eprintln!("watch: next run at {}", slot.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            }
            if !signals.sleep_until(slot).await {
                break;
            }
            let record = monitor::run_once(&mut session, &signals).await;
            runs += 1;
            print(&record, args.format);
            let now = Utc::now();
            let next = schedule.after(slot, now);
            if next.skipped > 0 {
                let took = Duration::from_millis(record.duration_ms);
                eprintln!(
                    "warning: run {runs} took {}, longer than --every {}; {} scheduled run{} skipped",
                    monitor::show(took),
                    args.every,
                    next.skipped,
                    if next.skipped == 1 { " was" } else { "s were" }
                );
            }
            if signals.received().count > 0 {
                break;
            }
            slot = next.at;
        }
        eprintln!("watch: stopped after {runs} run{}", if runs == 1 { "" } else { "s" });
        signals.exit_code()
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
    Ok(code)
}

fn print(record: &crate::record::RunRecord, format: Format) {
    use std::io::Write as _;
    let text = match format {
        Format::Text => text::render(record, Style { colour: colour_stdout() }),
        Format::Json => serde_json::to_string(record).unwrap_or_default() + "\n",
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}
