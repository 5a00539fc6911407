//! A command's process group dies with runbook, even when runbook is killed
//! with SIGKILL and cannot clean up. Between runbook and the command sits a
//! tiny supervisor: the forked child forks again before exec; the grandchild
//! goes on to exec the command, the child stays behind, waits for it and
//! passes on its exit status (a signal by dying of the same signal), and kills
//! the whole group as soon as its parent is no longer runbook.
//!
//! Why not `PR_SET_PDEATHSIG` on the command: it fires when the spawning
//! *thread* ends (a tokio thread, not runbook), reaches only the direct child,
//! and is cleared by exec of a set-user-ID program.

use std::io;

use libc::{c_int, pid_t};

/// How often the supervisor looks whether runbook is still its parent; a
/// command's end wakes it at once (SIGCHLD).
const PARENT_CHECK_NANOS: libc::c_long = 100_000_000;

/// Makes `command` start in a process group of its own under a supervisor that
/// kills that group when runbook dies. The pid tokio reports is the supervisor's,
/// which is also the group's id, so a kill of the group reaches the command too.
#[allow(unsafe_code)]
pub fn die_with_runbook(command: &mut tokio::process::Command) {
    let runbook = pid_t::try_from(std::process::id()).unwrap_or(0);
    command.process_group(0);
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // async-signal-safe system calls: no allocation, no lock, no Rust I/O.
    unsafe {
        command.pre_exec(move || split(runbook));
    }
}

/// In the forked child: forks the command off and, in the parent branch, never returns.
#[allow(unsafe_code)]
fn split(runbook: pid_t) -> io::Result<()> {
    // SAFETY: sigset_t is plain data that sigemptyset/sigaddset initialise; fork and
    // sigprocmask are async-signal-safe, and the child is single-threaded here.
    unsafe {
        let mut chld: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut chld);
        libc::sigaddset(&mut chld, libc::SIGCHLD);
        let mut before: libc::sigset_t = std::mem::zeroed();
        // Blocked before the fork, so the command's SIGCHLD waits for sigtimedwait.
        libc::sigprocmask(libc::SIG_BLOCK, &chld, &mut before);
        match libc::fork() {
            -1 => Err(io::Error::last_os_error()),
            0 => {
                libc::sigprocmask(libc::SIG_SETMASK, &before, std::ptr::null_mut());
                // If the supervisor alone is killed, the command goes with it.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
                Ok(())
            }
            command => supervise(runbook, command, &chld),
        }
    }
}

/// The supervisor's life: wait for the command or for runbook's death.
#[allow(unsafe_code)]
fn supervise(runbook: pid_t, command: pid_t, chld: &libc::sigset_t) -> ! {
    // SAFETY: only system calls on plain data owned here; see `split`.
    unsafe {
        // Close everything, std's exec-error pipe too: spawn returns only once every
        // copy of it is closed, and runbook's output pipes would not end while held.
        if libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32) != 0 {
            for fd in 0..1024 {
                libc::close(fd);
            }
        }
        // Runbook's handlers would keep the supervisor alive on SIGTERM and the like.
        for signal in 1..32 {
            if signal != libc::SIGKILL && signal != libc::SIGSTOP {
                libc::signal(signal, libc::SIG_DFL);
            }
        }
        let pause = libc::timespec { tv_sec: 0, tv_nsec: PARENT_CHECK_NANOS };
        loop {
            let mut status: c_int = 0;
            if libc::waitpid(command, &mut status, libc::WNOHANG) == command {
                pass_on(status);
            }
            if libc::getppid() != runbook {
                // The group is ours (process_group(0)); never signal a group we did not make.
                if libc::getpgrp() == libc::getpid() {
                    libc::kill(0, libc::SIGKILL);
                }
                libc::kill(command, libc::SIGKILL);
                libc::_exit(137);
            }
            libc::sigtimedwait(chld, std::ptr::null_mut(), &pause);
        }
    }
}

/// Ends the supervisor as the command ended: the same exit code, or death by the same signal.
#[allow(unsafe_code)]
fn pass_on(status: c_int) -> ! {
    // SAFETY: only system calls on plain data owned here; see `split`.
    unsafe {
        if libc::WIFSIGNALED(status) {
            let signal = libc::WTERMSIG(status);
            // Dying of SIGSEGV or SIGABRT must not leave a core of the supervisor.
            libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong);
            let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::setrlimit(libc::RLIMIT_CORE, &none);
            libc::signal(signal, libc::SIG_DFL);
            let mut only: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut only);
            libc::sigaddset(&mut only, signal);
            libc::sigprocmask(libc::SIG_UNBLOCK, &only, std::ptr::null_mut());
            libc::kill(libc::getpid(), signal);
            libc::_exit(128 + signal);
        }
        libc::_exit(libc::WEXITSTATUS(status))
    }
}
