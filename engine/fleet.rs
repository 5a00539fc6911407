//! The fleet view: one playbook run on many hosts, read back from a shared
//! history. For each expected host, its latest run within a window (the
//! shards of one group joined back into one run); a host × step matrix; per
//! step "N of M hosts failing" against the playbook's `fleet:` allowance.
//! A host that stopped reporting is missing, and missing is a failure: the
//! view is a dead-man's switch, not a list of whoever happened to report.
//! With trusted keys, each host's record must carry a signature one of them
//! verifies.

mod gather;
mod render;
mod trust;
mod view;

pub use gather::{Request, gather};
pub use render::{html, junit, text};
pub use trust::TrustedKeys;
pub use view::{Cell, FleetVerdict, FleetView, HostRow, HostState, Signature, StepRow};
