//! Expressions are judged on threads of their own: a CPU-heavy one would
//! otherwise hold the one-thread runtime, so signals, the run deadline, other
//! steps and `serve`'s `/healthz` would all wait for it. A judge is left
//! behind if its step is cancelled; the expression's `Stop` ends it soon after.
//!
//! The threads are kept and reused (starting one per step cost about as much
//! as judging it): there are never more than the most judgements that were
//! ever under way at once.

use std::sync::{Mutex, PoisonError, mpsc};

/// Deep enough for the deepest expression `expr::limits` lets through, with room to spare.
const STACK: usize = 16 << 20;

type Job = Box<dyn FnOnce() + Send>;

/// Why a judgement did not come back.
#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    /// Like the runner's: a panic's payload could quote a secret, so it is not shown.
    #[error("internal error: judging panicked (a bug in runbook)")]
    Panicked,
    #[error("cannot hand the step to a judge")]
    NoJudge,
    #[error("cannot start a thread to judge the step: {0}")]
    NoThread(std::io::Error),
}

/// The judges waiting for work, each by the channel that hands it a job.
static IDLE: Mutex<Vec<mpsc::Sender<Job>>> = Mutex::new(Vec::new());

/// Runs `work` on a judge thread if `loops` (its cost depends on the data it reads), else
/// here: a hop to another thread and back costs more than judging loop-free expressions,
/// whose cost the expression limits and the probes' size limits bound.
pub(super) async fn apart_if<T: Send + 'static>(
    loops: bool,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JudgeError> {
    if loops { apart(work).await } else { Ok(work()) }
}

/// Runs `work` on a judge thread and waits for it without blocking the runtime.
pub(super) async fn apart<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, JudgeError> {
    let (tell, told) = tokio::sync::oneshot::channel();
    hand_over(Box::new(move || {
        let _ = tell.send(work());
    }))?;
    told.await.map_err(|_| JudgeError::Panicked)
}

fn hand_over(job: Job) -> Result<(), JudgeError> {
    let idle = IDLE.lock().unwrap_or_else(PoisonError::into_inner).pop();
    // A judge never drops its receiver while it lives, so a send to an idle one
    // fails only if that judge died of a panic: then a new one takes the job.
    let job = match idle {
        Some(judge) => match judge.send(job) {
            Ok(()) => return Ok(()),
            Err(mpsc::SendError(job)) => job,
        },
        None => job,
    };
    let (hand, jobs) = mpsc::channel::<Job>();
    let me = hand.clone();
    hand.send(job).map_err(|_| JudgeError::NoJudge)?;
    std::thread::Builder::new()
        .name("runbook-judge".to_owned())
        .stack_size(STACK)
        .spawn(move || {
            while let Ok(job) = jobs.recv() {
                job();
                IDLE.lock().unwrap_or_else(PoisonError::into_inner).push(me.clone());
            }
        })
        .map(drop)
        .map_err(JudgeError::NoThread)
}
