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
//! - a confirmed action is attempted exactly once, whatever `retries` says.

use std::future::Future;
use std::pin::Pin;

use crate::record::Confirmation;

/// What an action step is about to do, for the person confirming it.
#[derive(Debug, Clone)]
pub struct ActionRequest {
    pub step_id: String,
    pub title: String,
    /// The probe kind, e.g. `http`.
    pub kind: String,
    /// The fully rendered request (the probe's `describe()`), secrets masked.
    pub request: String,
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
