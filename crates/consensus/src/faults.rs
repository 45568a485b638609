//! Storage-fault injection for block execution: the deterministic tests' failing store.
//!
//! Commonware's deterministic runtime can fail every storage read, but then marshal's archives
//! fail too (and marshal panics on them); what must be shown is narrower — a fault *under the
//! state machine* stops the node instead of becoming a tx failure. Armed at a height, every
//! state read while executing that block or a later one fails with a [`StoreError`]. Disarmed
//! (always, outside tests) it costs one atomic load per block.

use caspur_store::{StateRead, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Where execution's state reads start failing (shared by the application's clones).
#[derive(Clone, Debug)]
pub struct StateFaults(Arc<AtomicU64>);

impl Default for StateFaults {
    fn default() -> Self {
        StateFaults(Arc::new(AtomicU64::new(u64::MAX)))
    }
}

impl StateFaults {
    /// Fails every state read of blocks at `height` and above.
    pub fn fail_reads_from(&self, height: u64) {
        self.0.store(height, Ordering::SeqCst);
    }

    /// `state` as block `height` reads it.
    pub fn wrap<S: StateRead>(&self, state: S, height: u64) -> MaybeFailing<S> {
        MaybeFailing {
            inner: state,
            failing: height >= self.0.load(Ordering::SeqCst),
        }
    }
}

/// A state that fails every read when armed.
pub struct MaybeFailing<S> {
    inner: S,
    failing: bool,
}

impl<S: StateRead> StateRead for MaybeFailing<S> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if self.failing {
            return Err(StoreError(format!(
                "injected storage fault reading key {}",
                hex::encode(key)
            )));
        }
        self.inner.get(key).await
    }
}
