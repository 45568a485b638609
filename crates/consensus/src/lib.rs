//! Everything Commonware: the block type, the glue `stateful` application that runs Caspur's
//! state machine on QMDB batches, and the simplex + marshal + p2p wiring of a node.
//!
//! Nothing outside this crate (and the store adapter) names a Commonware type: the node talks
//! to consensus through [`TxSource`] (proposals pull txs from the mempool) and [`BlockSink`]
//! (finalized blocks and their results flow out), plus the opaque [`LiveState`] handle for reads.

pub mod application;
pub mod bench;
pub mod block;
pub mod catch_up;
pub mod engine;
pub mod epoch_proofs;
pub mod epochs;
pub mod evidence;
pub mod execution;
pub mod faults;
pub mod genesis;
pub mod gossip;
pub mod launch;
pub mod network;
pub mod pending_results;
pub mod presence;
pub mod seams;
pub mod statesync;
pub mod upgrade_halt;
pub mod validator_sets;

pub use genesis::{ConsensusGenesis, GenesisValidator};
pub use seams::{
    BlockSink, ChainTip, CommitVote, ConsensusFacts, FinalizedBlock, LastCommit, PeerTxSink,
    TxPublisher, TxSource,
};
