//! `run FILE --rerun-failed RUN_ID`: narrows the plan to what a stored run left undone
//! (failed, errored, pending, unconfirmed) plus the steps those need, and links the new run
//! to it. Nothing runs when the run is unknown, of another playbook or never finished.

use super::error::{CliError, invalid};
use super::warn;
use crate::history::StoredStatus;
use crate::playbook::Plan;
use crate::record::FollowUp;
use crate::session;

/// Keeps in `plan` the steps to run again for run `id` of the store `store`; returns the link.
pub(super) fn narrow(plan: &mut Plan, id: i64, store: Option<&str>) -> Result<FollowUp, CliError> {
    let flag = format!("--rerun-failed {id}");
    let found = session::runtime()?
        .block_on(async {
            let Some(store) = session::open_to_read(store).await? else { return Ok(None) };
            store.run(id).await
        })
        .map_err(|e| invalid(format!("{flag}: {e}")))?;
    let run = found.ok_or_else(|| invalid(format!("{flag}: no run {id} in the history")))?;
    if run.playbook != plan.name {
        return Err(invalid(format!("{flag}: run {id} is of playbook `{}`, not `{}`", run.playbook, plan.name)));
    }
    if run.status == StoredStatus::Incomplete {
        return Err(invalid(format!("{flag}: run {id} has not finished (still running, or killed)")));
    }
    let earlier =
        run.record().ok_or_else(|| invalid(format!("{flag}: the stored record of run {id} cannot be read")))?;
    let known: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    let link = FollowUp::of(id, &earlier, &known);
    for gone in &link.gone {
        warn(&format!("step `{gone}` of run {id} is no longer in the playbook: not run again"));
    }
    if link.was.is_empty() {
        return Err(invalid(format!(
            "{flag}: run {id} has no failed, errored, pending or unconfirmed step the playbook still has: \
             nothing to run again"
        )));
    }
    plan.retain(|step, _| link.was.contains_key(&step.id));
    Ok(link)
}
