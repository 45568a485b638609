//! The two narrow interfaces between consensus and the node.

use caspur_app::TxResult;
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;

/// Where proposals get their txs: the mempool. Selection must not remove anything, since a
/// proposal may be abandoned; finalized txs are removed when the sink hears of them.
pub trait TxSource: Send + Sync + 'static {
    /// Up to `max_bytes` of txs whose declared gas sums to at most `max_gas`, in the order
    /// they must execute, leaving out `exclude` (txs of ancestors not finalized yet: consensus
    /// builds on a parent before it is finalized, and the mempool drops txs only then).
    fn select(
        &self,
        max_bytes: usize,
        max_gas: Option<u64>,
        exclude: &BTreeSet<[u8; 32]>,
    ) -> Vec<Vec<u8>>;
}

/// A finalized block as the node indexes it.
#[derive(Clone, Debug)]
pub struct FinalizedBlock {
    /// Height.
    pub height: u64,
    /// Block hash (hex-encodable 32 bytes).
    pub hash: [u8; 32],
    /// Parent hash.
    pub parent: [u8; 32],
    /// Proposer's ed25519 key.
    pub proposer: [u8; 32],
    /// Block time, ms since the Unix epoch.
    pub time_ms: u64,
    /// Raw txs.
    pub txs: Vec<Vec<u8>>,
    /// One result per tx.
    pub results: Vec<TxResult>,
    /// State root after the block (the app hash).
    pub app_hash: [u8; 32],
    /// Operations in the state database after the block (what rollback reopens it at).
    pub state_size: u64,
}

/// Receives every finalized block at least once, in height order (again after a crash: the
/// receiver must be idempotent per height).
pub trait BlockSink: Send + Sync + 'static {
    /// Handles one finalized block; consensus acknowledges the block once this resolves.
    fn finalized(&self, block: FinalizedBlock) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}
