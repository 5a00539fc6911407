//! `runbook run FILE`: validate, run, print the checklist, exit 0/1/2/130.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::confirm::{Asker, operator_name};
use super::progress::Progress;
use super::{colour_stdout, exit, load_plan, reports};
use clap::ValueEnum as _;

use crate::atomic_file::AtomicFile;
use crate::cli::{RunArgs, RunFormat};
use crate::units::parse_duration;
use crate::report::text::{self, Style};
use crate::record::{RunRecord, RunStatus};
use crate::runner::{self, RunOptions};
use crate::secrets;
use crate::suggest::did_you_mean;

pub fn run(args: &RunArgs) -> u8 {
    let Some(mut plan) = load_plan(&args.file, &args.vars) else { return exit::INVALID };
    // Answers are checked against the whole playbook: an answers file kept for
    // it still fits a run narrowed with --only or --section.
    let prepared = match reports::prepare(&plan, &args.report) {
        Ok(prepared) => prepared,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::INVALID;
        }
    };
    if let Err(message) = select(&mut plan, args) {
        eprintln!("error: {message}");
        return exit::INVALID;
    }
    // A rehearsal tells nobody: it skipped its actions and is not kept.
    let notify = match crate::playbook::notify_file::targets(&plan.notify, args.notify.as_deref()) {
        Ok(_) if args.dry_run => Vec::new(),
        Ok(targets) => targets,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::INVALID;
        }
    };
    let deadline = match args.deadline.as_deref().map(parse_duration).transpose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: --deadline: {e}");
            return exit::INVALID;
        }
    };
    // Start the report file first: a path that cannot be written is a bad
    // argument, found before anything runs rather than after. It replaces
    // the previous file only once written whole (see `atomic_file`).
    let out_file = match args.out.as_deref().map(AtomicFile::create).transpose() {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: cannot write `{}`: {e}", args.out.as_deref().unwrap_or(Path::new("")).display());
            return exit::INVALID;
        }
    };
    let (secrets, warnings) = match secrets::resolve(&plan.secrets, &plan.base_dir) {
        Ok(found) => found,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::INVALID;
        }
    };
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let redactor = secrets::Redactor::new(&secrets);
    let Some(runtime) = super::run_time() else { return exit::INVALID };
    let asker = Arc::new(Asker::new(args.yes, operator_name(args.operator.as_deref())));
    let has_actions = plan.steps.iter().any(|s| s.action);
    if args.dry_run {
        let actions = if has_actions { "action steps are shown, not run; other steps run; " } else { "" };
        eprintln!("dry run: {actions}the run is not kept in the history");
    }
    // A prompt must not fight the progress line for the terminal.
    let ids = plan.steps.iter().map(|s| s.id.clone()).collect();
    let mut progress = Progress::new(ids, !(has_actions && asker.prompts() && !args.dry_run));
    let (record, signal) = runtime.block_on(async {
        let (mut stop, signal) = stop_signal(deadline);
        let previous = match notify.is_empty() || args.no_history {
            true => None,
            false => super::history::last_record(&args.store, &plan.name).await,
        };
        // Opening the history may wait on a busy store: a signal or the deadline ends that wait too.
        let (recorder, history) = tokio::select! {
            begun = super::history::begin(args, &plan) => begun,
            reason = &mut stop => {
                stop = Box::pin(std::future::ready(reason));
                (None, None)
            }
        };
        let options = RunOptions { jobs: usize::from(args.jobs), history, stop, confirm: asker, dry_run: args.dry_run };
        let mut record = runner::run(plan, secrets, options, &mut |event| progress.on(&event)).await;
        progress.finish();
        // Manual answers and the sign-off belong to the run that history keeps.
        reports::sign_off(&mut record, &prepared, args, &redactor);
        if let Some(recorder) = recorder {
            recorder.finish(&record).await;
        }
        crate::notify::deliver(&notify, &record, previous.as_ref()).await;
        // Let the signal task see a signal already delivered before its slot is read.
        tokio::task::yield_now().await;
        (record, signal.lock().map(|s| *s).unwrap_or(None))
    });
    // Abandoned probes (a command that ignores its deadline) must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    let written = emit(&record, args, out_file);
    if let Err(message) = reports::write(&record, &prepared, &args.report) {
        eprintln!("error: {message}");
        return exit::FAILED;
    }
    // A signal that came as the last step finished is still a stop asked for: never exit 0 after one.
    if let Some(code) = signal {
        return code;
    }
    if record.status == RunStatus::Interrupted {
        return exit::FAILED;
    }
    if record.is_clean() && written { exit::CLEAN } else { exit::FAILED }
}

/// Applies `--only` and `--section`.
fn select(plan: &mut crate::playbook::Plan, args: &RunArgs) -> Result<(), String> {
    for id in &args.only {
        if !plan.steps.iter().any(|s| &s.id == id) {
            let hint = did_you_mean(id, plan.steps.iter().map(|s| s.id.as_str()))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(format!("--only `{id}`: no step has that id{hint}"));
        }
    }
    for name in &args.sections {
        if !plan.sections.iter().any(|s| s == name) {
            let known: Vec<String> = plan.sections.iter().map(|s| format!("`{s}`")).collect();
            return Err(format!("--section `{name}`: no such section; the playbook has {}", known.join(", ")));
        }
    }
    if args.only.is_empty() && args.sections.is_empty() {
        return Ok(());
    }
    plan.retain(|step, section| args.only.contains(&step.id) || args.sections.iter().any(|s| s == section));
    Ok(())
}

/// Prints the run: the chosen format to `--out` (then the checklist to the
/// terminal) or to stdout. Returns whether the report file was written.
fn emit(record: &RunRecord, args: &RunArgs, out_file: Option<AtomicFile>) -> bool {
    let style = Style { colour: colour_stdout() };
    let formatted = match args.format {
        RunFormat::Text => text::render(record, Style { colour: false }),
        other => {
            let name = other.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default();
            match crate::report::format::by_name(&name).and_then(|f| crate::report::render::render(record, f, None)) {
                Ok(text) => text,
                Err(e) => {
                    eprintln!("error: {e}");
                    String::new()
                }
            }
        }
    };
    match (out_file, &args.out) {
        (Some(file), Some(path)) => {
            let written = file.commit(formatted.as_bytes());
            print!("{}", text::render(record, style));
            if let Err(e) = written {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return false;
            }
        }
        _ if args.format == RunFormat::Text => print!("{}", text::render(record, style)),
        _ => print!("{formatted}"),
    }
    true
}

type SignalCode = std::sync::Arc<std::sync::Mutex<Option<u8>>>;

/// A future that resolves on Ctrl-C, SIGTERM or the run deadline, and the exit code it implies.
/// A task watches the signals from here on, before anything runs, so a signal that arrives
/// early is still caught (the default action would end the process without a report), and a
/// second Ctrl-C (or SIGTERM) exits at once wherever the run is.
fn stop_signal(
    deadline: Option<Duration>,
) -> (std::pin::Pin<Box<dyn std::future::Future<Output = String> + Send>>, SignalCode) {
    use tokio::signal::unix::{SignalKind, signal};
    let code: SignalCode = SignalCode::default();
    let set = code.clone();
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    let mut term = signal(SignalKind::terminate()).ok();
    let (tell, told) = tokio::sync::oneshot::channel::<&'static str>();
    tokio::spawn(async move {
        let (reason, exit_code) = tokio::select! {
            () = next(&mut interrupt) => ("interrupted (Ctrl-C)", exit::INTERRUPTED),
            () = next(&mut term) => ("terminated (SIGTERM)", exit::TERMINATED),
        };
        if let Ok(mut slot) = set.lock() {
            *slot = Some(exit_code);
        }
        let _ = tell.send(reason);
        tokio::select! {
            () = next(&mut interrupt) => std::process::exit(i32::from(exit::INTERRUPTED)),
            () = next(&mut term) => std::process::exit(i32::from(exit::TERMINATED)),
        }
    });
    let future = async move {
        let deadline = async {
            match deadline {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        let signalled = async {
            match told.await {
                Ok(reason) => reason,
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            reason = signalled => reason.to_owned(),
            () = deadline => "the run deadline passed".to_owned(),
        }
    };
    (Box::pin(future), code)
}

/// The next delivery of a signal, or never when its handler could not be installed.
async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal.as_mut() {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}
