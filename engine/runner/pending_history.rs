//! Earlier runs that may still be loading when the run starts: steps probe
//! meanwhile and wait for them only to judge, so loading the history overlaps
//! the probes instead of coming before them.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::{BoxFuture, FutureExt, Shared};

use super::HistorySource;

/// The history a run judges against, once loaded (`None`: none could be read).
#[derive(Clone)]
pub struct PendingHistory(Shared<BoxFuture<'static, Option<Arc<dyn HistorySource>>>>);

impl PendingHistory {
    /// The history `load` loads, spawned so that it progresses while steps run.
    /// A load that panics is no history: its checks are then not judged, never passed.
    pub fn loading(load: impl Future<Output = Option<Arc<dyn HistorySource>>> + Send + 'static) -> Self {
        let task = tokio::spawn(load);
        Self(async move { task.await.ok().flatten() }.boxed().shared())
    }

    /// Waits for the load (at once when it is done).
    pub async fn get(&self) -> Option<Arc<dyn HistorySource>> {
        self.0.clone().await
    }
}
