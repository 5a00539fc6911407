//! A small connection pool per database URL, one per run.
//!
//! Not sqlx's `Pool`: when a server refuses connections it retries until its
//! acquire timeout and then reports only "pool timed out", so "server down"
//! would cost the whole step deadline and lose its cause. Here a connection
//! attempt fails at once with the driver's reason, and the step's `retries`
//! decide whether to try again.
//!
//! A connection goes back to the pool only after a query finished cleanly.
//! One dropped mid-query (the step's deadline passed) or that errored is
//! closed, so no later step inherits a connection in an unknown state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sqlx::{ConnectOptions, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::probe::ProbeError;
use crate::probe::context::RunShared;

/// Connections open at once to one URL.
const MAX_CONNECTIONS: usize = 4;

/// How long closing one idle connection at the end of a run may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The pool of one URL.
pub struct Pool<C: Connection> {
    options: <C as Connection>::Options,
    idle: Mutex<Vec<C>>,
    permits: Arc<Semaphore>,
}

/// The run's pools of one driver, by URL.
pub struct Pools<C: Connection> {
    by_url: Mutex<HashMap<String, Arc<Pool<C>>>>,
}

impl<C: Connection> Default for Pools<C> {
    fn default() -> Self {
        Self { by_url: Mutex::new(HashMap::new()) }
    }
}

impl<C: Connection + 'static> Pools<C> {
    /// The pool for `url`, made (and registered to close at the end of the run) on first use.
    pub fn for_url(
        &self,
        url: &str,
        shared: &RunShared,
        options: impl FnOnce() -> Result<<C as Connection>::Options, ProbeError>,
    ) -> Result<Arc<Pool<C>>, ProbeError> {
        let mut pools = self.by_url.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(pool) = pools.get(url) {
            return Ok(Arc::clone(pool));
        }
        let pool = Arc::new(Pool {
            options: options()?,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
        });
        let closing = Arc::clone(&pool);
        shared.at_close(async move { closing.close().await });
        pools.insert(url.to_owned(), Arc::clone(&pool));
        Ok(pool)
    }
}

impl<C: Connection> Pool<C> {
    /// A connection: an idle one that still answers a ping, else a new one.
    /// Waits for a free slot if `MAX_CONNECTIONS` are in use (the step's
    /// deadline bounds the wait).
    pub async fn checkout(self: &Arc<Self>) -> Result<Checkout<C>, sqlx::Error> {
        let permit = Arc::clone(&self.permits).acquire_owned().await.map_err(|_| sqlx::Error::PoolClosed)?;
        loop {
            let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let Some(mut conn) = idle else { break };
            if conn.ping().await.is_ok() {
                return Ok(Checkout { conn, pool: Arc::clone(self), _permit: permit });
            }
        }
        let conn = self.options.connect().await?;
        Ok(Checkout { conn, pool: Arc::clone(self), _permit: permit })
    }

    async fn close(&self) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
        for conn in idle {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, conn.close()).await;
        }
    }
}

/// A connection taken from a pool. [`Checkout::release`] returns it; dropped
/// without that (an error, or the deadline cancelled the query), its socket is
/// simply closed.
pub struct Checkout<C: Connection> {
    pub conn: C,
    pool: Arc<Pool<C>>,
    _permit: OwnedSemaphorePermit,
}

impl<C: Connection> Checkout<C> {
    /// Gives the connection back for the next step.
    pub fn release(self) {
        self.pool.idle.lock().unwrap_or_else(PoisonError::into_inner).push(self.conn);
    }
}
