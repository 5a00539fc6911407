//! Confirming actions: steps marked `action: true` change something, so the
//! runner asks before each one and never on its own. Asking is the caller's
//! job (the CLI prompts on a terminal, or takes `--yes`); the runner only
//! hands over what the step will do, rendered and with secrets masked, and
//! records the answer in the step's result.
//!
//! The rules, from an operator's point of view:
//! - no one to ask and no `--yes`: the action is `skipped`, never run, and
//!   the run exits 1 — a script that meant to flatten positions must not
//!   look as if it had;
//! - `--dry-run`: actions are `skipped` with "dry run: would …" and the full
//!   request; steps that are not actions (reads) still run, so later
//!   templates and the shown requests use real values. The exit code is then
//!   that of the reads;
//! - a confirmed action is attempted exactly once, whatever `retries` says;
//! - an action with `approvals: N` runs only with N distinct approvers of the exact action
//!   (see `record::approval`); `--yes` does not stand in for them. Below the quorum it is
//!   `skipped` as "unapproved (1 of 2 approvals)" and, like an unconfirmed action, the run
//!   exits 1 and its sign-off is not clean;
//! - an action with `max_runs: K per D` runs only if the history shows fewer than K runs of it
//!   (this playbook, this host) within D; otherwise, or with no history to count in, it is
//!   `skipped` as rate-limited, with the same consequences.

use std::future::Future;
use std::pin::Pin;

use crate::record::Confirmation;
use crate::record::approval::Approval;

/// What an action step is about to do, for the person confirming it.
#[derive(Debug, Clone)]
pub struct ActionRequest {
    pub step_id: String,
    pub title: String,
    /// The probe kind, e.g. `http`.
    pub kind: String,
    /// The fully rendered request (the probe's `describe()`), secrets masked.
    pub request: String,
    /// How many distinct approvers the action needs (0: none, a confirmation is enough).
    pub approvals: u32,
}

/// The answer to an [`ActionRequest`].
#[derive(Debug, Clone)]
pub enum Decision {
    /// Run it; `by` says who, `how` says how (`--yes`, `terminal`).
    Confirmed { by: String, how: String },
    /// Do not run it, and why.
    Refused { by: String, reason: String },
}

/// Asks whether an action may run. Implementations may take their time (a
/// person answers); the step's deadline starts only after the answer.
pub trait Confirm: Send + Sync {
    fn confirm(&self, request: ActionRequest) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>>;

    /// The approvals offered for an action that needs `request.approvals` of them (a signed
    /// file's, names typed on a terminal). The runner counts only those for the exact
    /// `request.request`, each approver once; by default nobody approves.
    fn approve(&self, _request: ActionRequest) -> Pin<Box<dyn Future<Output = Vec<Approval>> + Send + '_>> {
        Box::pin(async { Vec::new() })
    }
}

/// Records `decision`, made now, for the step's result.
pub fn record(decision: &Decision) -> Confirmation {
    let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    match decision {
        Decision::Confirmed { by, how } => Confirmation { confirmed: true, by: by.clone(), how: how.clone(), at },
        Decision::Refused { by, reason } => Confirmation { confirmed: false, by: by.clone(), how: reason.clone(), at },
    }
}

/// Refuses every action: the default when nobody can be asked.
pub struct RefuseAll;

/// Why [`RefuseAll`] refuses.
pub const NOT_CONFIRMED: &str = "action not confirmed: pass --yes or run on a terminal";

impl Confirm for RefuseAll {
    fn confirm(&self, _: ActionRequest) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>> {
        Box::pin(async { Decision::Refused { by: String::new(), reason: NOT_CONFIRMED.to_owned() } })
    }
}
