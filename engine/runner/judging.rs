//! Expressions are judged on a thread of their own: a CPU-heavy one would
//! otherwise hold the one-thread runtime, so signals, the run deadline, other
//! steps and `serve`'s `/healthz` would all wait for it. The thread is left
//! behind if its step is cancelled; the expression's `Stop` ends it soon after.

/// Deep enough for the deepest expression `expr::limits` lets through, with room to spare.
const STACK: usize = 16 << 20;

/// Runs `work` on a new thread and waits for it without blocking the runtime.
pub(super) async fn apart<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let (tell, told) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("runbook-judge".to_owned())
        .stack_size(STACK)
        .spawn(move || {
            let _ = tell.send(work());
        })
        .map_err(|e| format!("cannot start a thread to judge the step: {e}"))?;
    // Like the runner's: a panic's payload could quote a secret, so it is not shown.
    told.await.map_err(|_| "internal error: judging panicked (a bug in runbook)".to_owned())
}
