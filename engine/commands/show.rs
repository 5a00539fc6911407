//! `runbook show RUN_ID`: a stored run rendered again, as it was printed.

use super::error::{CliError, Outcome, failed, invalid};
use super::{colour_stdout, exit, reports};
use crate::cli::{Format, ShowArgs};
use crate::history::StoredStatus;
use crate::record::{RunRecord, signoff};
use crate::report::render;
use crate::report::text::{self, Style};
use crate::session;

pub fn show(args: &ShowArgs) -> Outcome {
    let found = session::runtime()?
        .block_on(async {
            let Some(store) = session::open_to_read(args.store.history.as_deref()).await? else { return Ok(None) };
            let Some(run) = store.run(args.run_id).await? else { return Ok(None) };
            let countersigns = store.countersigns(&[run.id]).await?.remove(&run.id).unwrap_or_default();
            let follow_ups = store.follow_ups(args.run_id).await?;
            Ok::<_, crate::history::HistoryError>(Some((run, countersigns, follow_ups)))
        })
        .map_err(failed)?;
    let (run, countersigns, follow_ups) =
        found.ok_or_else(|| invalid(format!("no run {} in the history", args.run_id)))?;
    let Some(mut record) = run.record() else {
        let why = match run.status {
            StoredStatus::Incomplete => "it never finished (still running, or killed)",
            StoredStatus::Complete | StoredStatus::Interrupted => "its stored record cannot be read",
        };
        return Err(failed(format!("run {} has no record to show: {why}", run.id)));
    };
    // The countersigns are kept beside the record: shown with it, as the report shows them.
    signoff::countersigned(&mut record, countersigns.into_iter().map(|c| c.countersign).collect());
    let formatted = match args.format {
        Format::Json => serde_json::to_string_pretty(&record).unwrap_or_default() + "\n",
        Format::Text => text::render(&record, Style { colour: false }),
    };
    let on_screen = match (&args.out, args.format) {
        (None, Format::Json) => formatted.clone(),
        _ => text::render(&record, Style { colour: colour_stdout() }),
    };
    if let Some(path) = &args.out {
        crate::atomic_file::write(path, &formatted)
            .map_err(|e| failed(format!("cannot write {}: {e}", path.display())))?;
    }
    write_report(&record, args)?;
    print!("{on_screen}");
    if !follow_ups.is_empty() {
        let listed: Vec<String> = follow_ups.iter().map(|id| format!("run {id}")).collect();
        let line = format!("followed up by {} (runbook run --rerun-failed {})", listed.join(", "), run.id);
        // stdout may carry JSON: the note then goes to stderr.
        if matches!((&args.out, args.format), (None, Format::Json)) { eprintln!("{line}") } else { println!("{line}") }
    }
    Ok(exit::CLEAN)
}

/// `--report PATH`: the stored run through the same renderer `runbook run --report` uses.
fn write_report(record: &RunRecord, args: &ShowArgs) -> Result<(), CliError> {
    let Some((path, format)) = reports::report_file(&args.file)? else { return Ok(()) };
    let template = match &args.file.template {
        Some(file) => Some(reports::read_template(file, "--template", format)?),
        None => None,
    };
    let text = render::render(record, format, template.as_deref()).map_err(invalid)?;
    crate::atomic_file::write(&path, text).map_err(|e| invalid(format!("cannot write `{}`: {e}", path.display())))
}
