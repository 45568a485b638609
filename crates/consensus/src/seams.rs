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

/// One member's part in a certificate: its key and, when it signed, its signature.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitVote {
    /// The member's consensus (ed25519) key.
    pub pub_key: [u8; 32],
    /// Its ed25519 signature (64 bytes) when the certificate holds one.
    pub signature: Option<Vec<u8>>,
}

/// The certificate a block carries over its parent, as explorers show it (CometBFT's
/// `last_commit`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LastCommit {
    /// CometBFT's round of the parent: views between the parent's parent and the parent.
    pub round: u64,
    /// Every member of the parent's epoch, in the set's order.
    pub votes: Vec<CommitVote>,
}

/// A finalized block as the node indexes it.
#[derive(Clone, Debug, Default)]
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
    /// Events of the block's end (CometBFT's `finalize_block_events`).
    pub block_events: Vec<caspur_types::Event>,
    /// State root after the block (the app hash).
    pub app_hash: [u8; 32],
    /// Operations in the state database after the block (what rollback reopens it at).
    pub state_size: u64,
    /// How consensus reached it (monitoring).
    pub consensus: ConsensusFacts,
    /// SHA-256 over the block's encoded tx results, as the block commits it.
    pub results_hash: [u8; 32],
    /// The validator set of the block's epoch (empty when this node does not know it).
    pub validators: Vec<caspur_app::validators::Validator>,
    /// The set of the next block: the next epoch's after an epoch's last block.
    pub next_validators: Vec<caspur_app::validators::Validator>,
    /// The certificate over the parent the block carries (`None`: it carries none).
    pub last_commit: Option<LastCommit>,
}

/// How consensus reached a block, for monitoring; nothing here is part of what the block
/// commits to.
#[derive(Clone, Debug, Default)]
pub struct ConsensusFacts {
    /// Who signed the parent's certificate, and the faults proven in the block.
    pub report: caspur_app::ConsensusReport,
    /// Views between the parent's and this block's (CometBFT's round: 0 when the next
    /// leader's proposal was finalized).
    pub rounds: u64,
    /// The encoded block's size in bytes.
    pub size_bytes: u64,
}

/// Receives every finalized block at least once, in height order (again after a crash: the
/// receiver must be idempotent per height).
pub trait BlockSink: Send + Sync + 'static {
    /// Handles one finalized block; consensus acknowledges the block once this resolves.
    fn finalized(&self, block: FinalizedBlock) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Sends a tx this node admitted to its peers (tx gossip).
pub trait TxPublisher: Send + Sync + 'static {
    /// Queues `tx` for peers; never blocks (a full queue drops it, the tx stays local).
    fn publish(&self, tx: &[u8]);
}

/// Receives txs gossiped by peers (the mempool, which checks them like any other tx).
pub trait PeerTxSink: Send + Sync + 'static {
    /// Handles one tx from a peer.
    fn received(&self, tx: Vec<u8>) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The highest finalized height this node has seen certified by the network (it may not have
/// executed up to it yet): with the node's own latest height, it tells whether it is catching
/// up.
#[derive(Clone, Debug, Default)]
pub struct ChainTip(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl ChainTip {
    /// The highest finalized height seen (0 before any).
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records a finalized height (never moves backward).
    pub fn observe(&self, height: u64) {
        self.0
            .fetch_max(height, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a node whose latest executed block is `latest` is behind the network by more
    /// than the blocks in flight between finalization and indexing.
    pub fn catching_up(&self, latest: u64) -> bool {
        self.get() > latest + 2
    }
}
