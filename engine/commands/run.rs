//! `runbook run FILE`: validate, run, print the checklist, exit 0/1/2/130/143.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use clap::ValueEnum as _;

use super::config::RunConfig;
use super::confirm::{Asker, operator_name};
use super::error::{CliError, Outcome, invalid};
use super::progress::Progress;
use super::{colour_stdout, exit, load_plan, reports, warn};
use crate::atomic_file::AtomicFile;
use crate::cli::{RunArgs, RunFormat};
use crate::playbook::Plan;
use crate::record::{RunRecord, RunStatus};
use crate::report::nagios::State;
use crate::report::text::{self, Style};
use crate::session::{self, AtSecond, Session, Signals};
use crate::suggest::did_you_mean;

pub fn run(args: &RunArgs) -> Outcome {
    let ran = execute(args);
    if args.format != RunFormat::Nagios {
        return ran.map(|r| r.code);
    }
    // A Nagios check's exit code is its state, and its first stdout line says why, even when
    // nothing ran: an invalid playbook is UNKNOWN (3), not exit 2, which would read CRITICAL.
    match ran {
        Ok(Ran { state, .. }) => Ok(state.code()),
        Err(e) => {
            let why = match &e {
                CliError::Shown(_) => "the playbook is invalid; standard error says where".to_owned(),
                other => other.to_string().lines().next().unwrap_or("").to_owned(),
            };
            println!("CHECKLIST {} - {why}", State::Unknown.name());
            if !matches!(e, CliError::Shown(_)) {
                eprintln!("error: {e}");
            }
            Err(CliError::Shown(State::Unknown.code()))
        }
    }
}

/// How a run ended: the exit code, and the Nagios state `--format nagios` exits with.
struct Ran {
    code: u8,
    state: State,
}

fn execute(args: &RunArgs) -> Result<Ran, CliError> {
    let mut config = RunConfig::new(args)?;
    let mut plan = load_plan(&config.file, &config.vars)?;
    super::config::add_waivers(&mut plan, args.waivers.as_deref())?;
    // Answers are checked against the whole playbook: an answers file kept for
    // it still fits a run narrowed with --only or --section.
    let prepared = reports::prepare(&plan, &args.report)?;
    config.session.signer = prepared.record_signer();
    select(&mut plan, &config)?;
    let follow_up = match args.rerun_failed {
        Some(id) => Some(super::rerun::narrow(&mut plan, id, config.session.store.as_deref())?),
        None => None,
    };
    if let Some(shard) = config.session.identity.shard {
        plan.keep_shard(shard);
    }
    // Start the report file first: a path that cannot be written is a bad
    // argument, found before anything runs rather than after. It replaces
    // the previous file only once written whole (see `atomic_file`).
    let out_file = match &config.out {
        Some(path) => {
            Some(AtomicFile::create(path).map_err(|e| invalid(format!("cannot write `{}`: {e}", path.display())))?)
        }
        None => None,
    };
    let has_actions = plan.steps.iter().any(|s| s.action);
    let ids = plan.steps.iter().map(|s| s.id.clone()).collect();
    let (mut session, warnings) = Session::prepare(plan, config.session.clone(), warn)?;
    warnings.iter().for_each(|w| warn(w));
    let runtime = session::runtime()?;
    let from_file = match &args.approvals {
        Some(path) => super::approvals_file::load(path, &args.approvals_keys).map_err(invalid)?,
        None => Vec::new(),
    };
    let asker = Arc::new(Asker::new(config.yes, operator_name(config.operator.as_deref()), from_file));
    if config.dry_run {
        let actions = if has_actions { "action steps are shown, not run; other steps run; " } else { "" };
        eprintln!("dry run: {actions}the run is not kept in the history");
    }
    // A prompt must not fight the progress line for the terminal.
    let progress = RefCell::new(Progress::new(ids, !(has_actions && asker.prompts() && !config.dry_run)));
    let (record, signalled) = runtime.block_on(async {
        let signals = Signals::listen(AtSecond::Exit, || {});
        let stop = session::stop_at(signals.after(1), config.deadline);
        let redactor = session.redactor.clone();
        let mut sign_off = |record: &mut RunRecord| {
            progress.borrow_mut().finish();
            record.follow_up_of.clone_from(&follow_up);
            // Manual answers and the sign-off belong to the run that history keeps.
            reports::sign_off(record, &prepared, &args.report, config.operator.as_deref(), &redactor);
        };
        let record = session.run(stop, asker, &mut |event| progress.borrow_mut().on(&event), &mut sign_off).await;
        // Let the listener see a signal already delivered before it is read.
        tokio::task::yield_now().await;
        (record, signals.received())
    });
    // Abandoned probes (a command that ignores its deadline) must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(200));
    let written = emit(&record, &config, out_file);
    reports::write(&record, &prepared, &args.report)?;
    // A stopped run or a report not written says nothing sure of the system: UNKNOWN.
    // A signal that came as the last step finished is still a stop asked for: never exit 0 after one.
    let stopped = signalled.count > 0 || super::prompt::stopped();
    let state = if stopped || !written { State::Unknown } else { State::of(&record) };
    let code = if signalled.count > 0 {
        signalled.code
    } else if super::prompt::stopped() {
        exit::INTERRUPTED
    } else if record.status == RunStatus::Interrupted {
        exit::FAILED
    } else if record.is_clean() && written {
        exit::CLEAN
    } else {
        exit::FAILED
    };
    Ok(Ran { code, state })
}

/// Applies `--only` and `--section`.
fn select(plan: &mut Plan, config: &RunConfig) -> Result<(), CliError> {
    for id in &config.only {
        if !plan.steps.iter().any(|s| &s.id == id) {
            let hint = did_you_mean(id, plan.steps.iter().map(|s| s.id.as_str()))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(invalid(format!("--only `{id}`: no step has that id{hint}")));
        }
    }
    for name in &config.sections {
        if !plan.sections.iter().any(|s| s == name) {
            let known: Vec<String> = plan.sections.iter().map(|s| format!("`{s}`")).collect();
            return Err(invalid(format!("--section `{name}`: no such section; the playbook has {}", known.join(", "))));
        }
    }
    if config.only.is_empty() && config.sections.is_empty() {
        return Ok(());
    }
    plan.retain(|step, section| config.only.contains(&step.id) || config.sections.iter().any(|s| s == section));
    Ok(())
}

/// Prints the run: the chosen format to `--out` (then the checklist to the
/// terminal) or to stdout. Returns whether the report file was written.
fn emit(record: &RunRecord, config: &RunConfig, out_file: Option<AtomicFile>) -> bool {
    let style = Style { colour: colour_stdout() };
    let observed = config.session.observations.as_ref().map(|o| o.lock().map(|o| o.clone()).unwrap_or_default());
    let observed = observed.unwrap_or_default();
    let checklist = || text::render_observed(record, style, &observed);
    let formatted = match config.format {
        RunFormat::Text => text::render(record, Style { colour: false }),
        other => {
            let name = other.to_possible_value().map(|v| v.get_name().to_owned()).unwrap_or_default();
            let format = crate::report::format::by_name(&name).map_err(crate::report::ReportError::from);
            match format.and_then(|f| crate::report::render::render(record, f, None)) {
                Ok(text) => text,
                Err(e) => {
                    eprintln!("error: {e}");
                    String::new()
                }
            }
        }
    };
    match (out_file, &config.out) {
        (Some(file), Some(path)) => {
            let written = file.commit(formatted.as_bytes());
            print!("{}", checklist());
            if let Err(e) = written {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                return false;
            }
        }
        _ if config.format == RunFormat::Text => print!("{}", checklist()),
        _ => {
            print!("{formatted}");
            // stdout carries the format: what was observed goes to the terminal on stderr.
            if !observed.is_empty() {
                eprint!("{}", text::render_observed(record, Style { colour: false }, &observed));
            }
        }
    }
    true
}
