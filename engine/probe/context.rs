//! What a probe gets besides its parameters: the step's deadline, the
//! playbook's folder, and run-scoped shared state (an HTTP client, database
//! pools) that probes of one kind keep for each other. Whatever needs a
//! goodbye (a database pool) registers it with [`RunShared::at_close`]; the
//! runner calls [`RunShared::close`] when the last step is done.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Closer = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Shared by every step of one run.
#[derive(Default)]
pub struct RunShared {
    slots: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    closers: Mutex<Vec<Closer>>,
}

impl RunShared {
    /// The run's one `T`, made on first use. Probes keep connection pools here
    /// so that steps against the same target reuse connections.
    pub fn get<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut slots = self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = slots.entry(TypeId::of::<T>()).or_insert_with(|| Arc::new(T::default()));
        Arc::clone(slot).downcast::<T>().unwrap_or_else(|_| Arc::new(T::default()))
    }

    /// Runs `closer` when the run ends (closing a pool's connections politely).
    pub fn at_close(&self, closer: impl Future<Output = ()> + Send + 'static) {
        self.closers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Box::pin(closer));
    }

    /// Runs every registered closer, all at once, waiting at most `limit`.
    pub async fn close(&self, limit: Duration) {
        let closers = std::mem::take(&mut *self.closers.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        let mut all = tokio::task::JoinSet::new();
        for closer in closers {
            all.spawn(closer);
        }
        let _ = tokio::time::timeout(limit, all.join_all()).await;
    }
}

/// The context of one probe attempt.
pub struct ProbeContext {
    /// How long this attempt may take; the runner enforces it, probes pass it
    /// on to the clients they use so errors say so.
    pub timeout: Duration,
    /// The folder of the playbook, for relative paths.
    pub base_dir: PathBuf,
    /// Run-scoped shared state.
    pub shared: Arc<RunShared>,
}
