//! The node's `BlockSink`: index the finalized block, update the mempool, announce it.

use crate::index::BlockIndex;
use crate::mempool::Mempool;
use caspur_consensus::{BlockSink, FinalizedBlock};
use caspur_store::{StateRead, StateScan};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Indexes finalized blocks and re-checks the mempool after each.
pub struct NodeSink<S> {
    /// The index.
    pub index: Arc<BlockIndex>,
    /// The mempool.
    pub mempool: Arc<Mempool<S>>,
    /// Where committed blocks are announced (WebSocket subscribers).
    pub feed: crate::rpc::BlockFeed,
    /// Monitoring, fed each block and the state after it.
    pub monitor: Option<Arc<crate::monitor::Monitor>>,
}

impl<S: StateRead + StateScan + Clone + 'static> BlockSink for NodeSink<S> {
    #[allow(
        clippy::panic,
        reason = "a node that cannot index what it finalized stops; the block is re-delivered after restart"
    )]
    fn finalized(&self, block: FinalizedBlock) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            // A node that cannot record what it finalized must stop rather than answer wrongly;
            // consensus re-delivers the block after restart.
            let stored = match self.index.insert(&block) {
                Ok(stored) => stored,
                Err(e) => panic!("cannot index block {}: {e}", block.height),
            };
            tracing::info!(height = block.height, txs = block.txs.len(), app_hash = %hex::encode_upper(block.app_hash), "committed");
            self.mempool.on_finalized(&block).await;
            if let Some(m) = &self.monitor {
                m.observe_block(&block);
                m.observe_state(self.mempool.committed()).await;
                m.evaluate_alerts();
            }
            // No subscriber is not an error.
            let _ = self.feed.send(Arc::new(stored));
        })
    }
}
