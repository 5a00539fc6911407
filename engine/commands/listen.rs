//! The HTTP server under `runbook serve`, held to limits so that clients, hostile
//! or broken, can neither make it unreachable for long nor starve the probes
//! running beside it of file descriptors or memory:
//! - at most [`connection_limit`] connections at once; when all are taken, the
//!   oldest is closed to make room for the newest, so clients that hold
//!   connections open cannot keep a scraper that asks and goes out;
//! - a request's line and headers must arrive within [`HEADER_TIMEOUT`] of the
//!   connection opening or of the previous response (slowloris, and the idle
//!   limit of a kept-alive connection);
//! - a connection lives at most [`CONNECTION_LIFETIME`], then closes after the
//!   response in progress, which gets [`CLOSE_GRACE`] more;
//! - the request line and headers hold at most [`MAX_HEADER_BYTES`] (431
//!   beyond), the read buffer [`MAX_BUFFER_BYTES`]; no route reads a request
//!   body, so a body is never buffered.
//!
//! axum's own `serve` has none of these, hence this accept loop over hyper.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot, watch};

pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(30);
pub const CLOSE_GRACE: Duration = Duration::from_secs(5);
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
pub const MAX_BUFFER_BYTES: usize = 64 * 1024;

/// The most connections served at once, whatever the file limit.
pub const MAX_CONNECTIONS: usize = 256;

/// How long a new connection waits for the oldest one to close.
const EVICT_WAIT: Duration = Duration::from_secs(1);

/// After a failed accept (out of file descriptors, most likely): a pause
/// rather than a loop that spins on the same error.
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);

/// Raises the soft limit on open files to the hard one (up to 65,536) and
/// returns the connection limit: a quarter of the soft limit, between 8 and
/// [`MAX_CONNECTIONS`], so the other three quarters stay for the probes.
pub fn connection_limit() -> usize {
    limit_for(raise_open_files().unwrap_or(1024))
}

fn limit_for(open_files: u64) -> usize {
    usize::try_from(open_files / 4).unwrap_or(MAX_CONNECTIONS).clamp(8, MAX_CONNECTIONS)
}

/// The soft limit on open files after raising it, or `None` if it cannot be read.
#[allow(unsafe_code)]
fn raise_open_files() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit(2) writes one `rlimit` into the struct we own and lend it.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } != 0 {
        return None;
    }
    let wanted = limit.rlim_max.min(65_536).max(limit.rlim_cur);
    if wanted > limit.rlim_cur {
        let raised = libc::rlimit { rlim_cur: wanted, rlim_max: limit.rlim_max };
        // SAFETY: setrlimit(2) only reads the struct; a soft limit up to the hard one is always allowed.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const raised) } == 0 {
            limit = raised;
        }
    }
    Some(limit.rlim_cur)
}

/// Serves `router` on `listener` until `stop` resolves, then lets open
/// connections finish their response (each within [`CLOSE_GRACE`]).
pub async fn serve(listener: TcpListener, router: axum::Router, limit: usize, stop: impl Future<Output = ()>) {
    let permits = Arc::new(Semaphore::new(limit));
    let open = Arc::new(Mutex::new(Open::default()));
    let (closing, closed) = watch::channel(false);
    let mut stop = std::pin::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        match accepted {
            Ok((stream, _)) => {
                let permit = match Arc::clone(&permits).try_acquire_owned() {
                    Ok(permit) => Some(permit),
                    Err(_) => {
                        evict_oldest(&open);
                        let freed = tokio::time::timeout(EVICT_WAIT, Arc::clone(&permits).acquire_owned()).await;
                        freed.ok().and_then(Result::ok)
                    }
                };
                // Without a permit the stream is dropped here: closed at once, holding nothing.
                if let Some(permit) = permit {
                    let (evicted, entry) = register(&open);
                    tokio::spawn(connection(stream, router.clone(), closed.clone(), evicted, (permit, entry)));
                }
            }
            Err(_) => tokio::time::sleep(ACCEPT_PAUSE).await,
        }
    }
    drop(listener);
    let _ = closing.send(true);
    // Every permit back means every connection is done.
    let _ = permits.acquire_many(u32::try_from(limit).unwrap_or(u32::MAX)).await;
}

/// The open connections by age, each with the switch that closes it.
#[derive(Default)]
struct Open {
    next: u64,
    by_age: BTreeMap<u64, oneshot::Sender<()>>,
}

/// A connection's place in [`Open`]; dropping it (the connection ended) gives the place up.
struct Entry(Arc<Mutex<Open>>, u64);

impl Drop for Entry {
    fn drop(&mut self) {
        if let Ok(mut open) = self.0.lock() {
            open.by_age.remove(&self.1);
        }
    }
}

fn register(open: &Arc<Mutex<Open>>) -> (oneshot::Receiver<()>, Entry) {
    let (evict, evicted) = oneshot::channel();
    let mut guard = open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let id = guard.next;
    guard.next += 1;
    guard.by_age.insert(id, evict);
    (evicted, Entry(Arc::clone(open), id))
}

/// Closes the oldest open connection.
fn evict_oldest(open: &Mutex<Open>) {
    let oldest = open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).by_age.pop_first();
    if let Some((_, evict)) = oldest {
        let _ = evict.send(());
    }
}

/// One connection, from its first byte to its close (or its eviction by a newer one).
async fn connection(
    stream: TcpStream,
    router: axum::Router,
    mut closing: watch::Receiver<bool>,
    evicted: oneshot::Receiver<()>,
    _held: (OwnedSemaphorePermit, Entry),
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_header_size(MAX_HEADER_BYTES)
        .max_buf_size(MAX_BUFFER_BYTES);
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(router));
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        Ok(()) = evicted => return,
        () = tokio::time::sleep(CONNECTION_LIFETIME) => {}
        _ = closing.wait_for(|closing| *closing) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(CLOSE_GRACE, conn).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_quarters_of_the_open_files_stay_for_the_probes() {
        assert_eq!(limit_for(1024), 256);
        assert_eq!(limit_for(256), 64);
        assert_eq!(limit_for(1_048_576), MAX_CONNECTIONS);
        assert_eq!(limit_for(20), 8, "a floor, so serve still answers on a starved machine");
    }
}
