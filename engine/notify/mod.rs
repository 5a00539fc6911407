//! Notifications: where a run's result goes, for `run`, `watch` and `serve`. A
//! playbook's `notify:` section and a `--notify FILE` (shared by several
//! playbooks) list targets the same way, and both apply when both are given:
//!
//! ```yaml
//! notify:
//!   - webhook: http://127.0.0.1:9000/hook   # POSTed JSON: the run summary
//!     body: json                            # or `text`: {"text": "..."} for chat
//!     on: [failure, recovery]               # the default; `always` = every run
//!     min_severity: critical                # only critical steps count (default: all)
//!   - command: ["/usr/local/bin/page-ops", "--team", "trading"]   # the message on stdin
//!   - sendmail: { to: [ops@titan.example], from: runbook@titan.example }
//!     message: "{{playbook}}: {{event}}"    # a handlebars template over the summary
//! ```
//!
//! Rules: `failure` when the run is not clean (a step failed or errored) and
//! the previous run was clean or unknown, `recovery` when it is clean and the
//! previous run was not, `always` for every run. So a target on `[failure,
//! recovery]` hears once when a fault starts and once when it ends, not once
//! per run. "Clean" is judged at the target's `min_severity`: for a target
//! on `critical`, warning-level failures neither start nor end a fault. The
//! previous run is the one before in this process (`watch`, `serve`), or for
//! `run` and a first run the newest in the history. A `run --dry-run` tells
//! nobody.
//!
//! The message says what failed with the observed values, taken from the run
//! record, which the runner has already redacted: no secret can reach it.
//! Delivery never fails the run: each target is tried [`ATTEMPTS`] times with
//! a growing pause, then given up with a warning on stderr.

mod deliver;
mod error;
mod message;
mod sendmail;
mod target;

pub use deliver::{ATTEMPTS, deliver};
pub use error::NotifyError;
pub use message::{Event, event_of, message, render, summary, text};
pub use target::{Body, Rule, Sendmail, Target};
