//! Process-group handling for the commands steps run.
#![allow(unsafe_code)]

use std::os::unix::process::ExitStatusExt;

mod supervisor;
pub use supervisor::die_with_runbook;

/// Kills a whole process group when dropped, so a command's children die with it
/// when its step ends, whether it finished, timed out or was interrupted.
pub struct GroupGuard(i32);

impl GroupGuard {
    pub fn new(pid: u32) -> Self {
        Self(i32::try_from(pid).unwrap_or(0))
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.0 > 0 {
            // SAFETY: kill(2) with a negative pid signals a process group; it has no
            // memory effects. The group may already be gone (ESRCH), which is fine.
            unsafe {
                libc::kill(-self.0, libc::SIGKILL);
            }
        }
    }
}

/// The signal that ended a process, or 0.
pub fn signal_of(status: &std::process::ExitStatus) -> i32 {
    status.signal().unwrap_or(0)
}
