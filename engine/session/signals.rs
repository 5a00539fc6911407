//! Ctrl-C and SIGTERM, counted by one listener for every command. The
//! listener starts before anything runs, so a signal that comes early is
//! still caught (the default action would end the process without a report).

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

/// Exit codes a signal implies, as `runbook run` documents them.
pub const INTERRUPTED: u8 = 130;
pub const TERMINATED: u8 = 143;

/// What a second signal does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtSecond {
    /// Exit at once, wherever the run is (`run`: the first one already stopped it).
    Exit,
    /// Nothing more than counting it (`watch`, `serve`: the second cuts the run short).
    Count,
}

/// The signals received so far.
#[derive(Debug, Clone, Copy, Default)]
pub struct Received {
    pub count: u32,
    /// The exit code the last one implies.
    pub code: u8,
}

impl Received {
    /// Why a run stopped, for its record.
    pub fn reason(self) -> &'static str {
        if self.code == TERMINATED { "terminated (SIGTERM)" } else { "interrupted (Ctrl-C)" }
    }
}

/// SIGTERM and Ctrl-C, counted.
pub struct Signals {
    rx: watch::Receiver<Received>,
}

impl Signals {
    /// Starts listening; call inside the runtime. `on_first` runs once, at the first signal.
    pub fn listen(at_second: AtSecond, on_first: fn()) -> Self {
        let (tx, rx) = watch::channel(Received::default());
        let mut interrupt = signal(SignalKind::interrupt()).ok();
        let mut term = signal(SignalKind::terminate()).ok();
        tokio::spawn(async move {
            loop {
                let code = tokio::select! {
                    () = next(&mut interrupt) => INTERRUPTED,
                    () = next(&mut term) => TERMINATED,
                };
                tx.send_modify(|r| {
                    r.count += 1;
                    r.code = code;
                });
                match tx.borrow().count {
                    1 => on_first(),
                    _ if at_second == AtSecond::Exit => std::process::exit(i32::from(code)),
                    _ => {}
                }
            }
        });
        Self { rx }
    }

    pub fn received(&self) -> Received {
        *self.rx.borrow()
    }

    /// Resolves once `count` signals have come, with the reason for the run's record.
    pub fn after(&self, count: u32) -> impl Future<Output = String> + Send + 'static {
        let mut rx = self.rx.clone();
        async move {
            let received = rx.wait_for(|r| r.count >= count).await.map(|r| *r);
            match received {
                Ok(_) if count >= 2 => "stopped by a second signal".to_owned(),
                Ok(r) => r.reason().to_owned(),
                Err(_) => std::future::pending().await,
            }
        }
    }

    /// The exit code after a watch or serve loop ends: 0 after a clean stop, 130/143 when a run
    /// was cut short by a second signal.
    pub fn exit_code(&self) -> u8 {
        let r = self.received();
        if r.count >= 2 { r.code } else { 0 }
    }

    /// Sleeps until `at`; false when a signal came first.
    pub async fn sleep_until(&self, at: DateTime<Utc>) -> bool {
        let mut rx = self.rx.clone();
        if rx.borrow().count > 0 {
            return false;
        }
        let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = rx.wait_for(|r| r.count > 0) => {}
        }
        self.received().count == 0
    }
}

/// The next delivery of a signal, or never when its handler could not be installed.
async fn next(signal: &mut Option<Signal>) {
    match signal.as_mut() {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}
