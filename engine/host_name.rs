//! The name of the machine runbook runs on: what a run is kept under unless `--host` names it.

/// This machine's name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`, else `localhost`).
pub fn this_machine() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}
