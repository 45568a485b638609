//! The results of blocks this node executed, kept beside consensus until the block is finalized.
//!
//! A block's tx results are not part of its state: the header's results hash commits consensus
//! to them, and the node's index keeps them (as CometBFT keeps results in its own store, not in
//! the application's). Each execution here — a proposal, a verification, glue's reconstruction
//! of a finalized block after a restart — leaves its results under the block's digest, logs
//! included, and finalization takes them out for the node. The map is bounded; a block whose
//! results were pushed out is executed once more on its parent's state (see
//! `ChainApp::capture`), which gives the same results.

use caspur_app::TxResult;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Most executed-but-unfinalized blocks whose results are kept (a verifier may execute several
/// proposals per height; the lowest heights go first past this). A block of the most txs
/// keeps a few MiB of results, so this bounds the map to tens of MiB.
pub const MAX_PENDING_RESULT_BLOCKS: usize = 16;

type Key = (u64, [u8; 32]);

/// Results by (height, block digest), shared by the application's clones.
#[derive(Clone)]
pub struct PendingResults {
    blocks: Arc<Mutex<BTreeMap<Key, Vec<TxResult>>>>,
    capacity: usize,
}

impl Default for PendingResults {
    fn default() -> Self {
        PendingResults::with_capacity(MAX_PENDING_RESULT_BLOCKS)
    }
}

impl PendingResults {
    /// A map keeping at most `capacity` blocks (0: none, every finalization re-executes — the
    /// tests of that path use it).
    pub fn with_capacity(capacity: usize) -> Self {
        PendingResults {
            blocks: Arc::default(),
            capacity,
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<Key, Vec<TxResult>>) -> T) -> T {
        // A panic elsewhere while holding the lock leaves a map that is still consistent.
        let mut map = self
            .blocks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut map)
    }

    /// Keeps `results`, those of block `digest` at `height`.
    pub fn keep(&self, height: u64, digest: [u8; 32], results: Vec<TxResult>) {
        self.with(|map| {
            map.insert((height, digest), results);
            while map.len() > self.capacity {
                map.pop_first();
            }
        });
    }

    /// The kept results of finalized block `digest` at `height`, if still kept; forgets every
    /// block at or below its height (a competing block at a finalized height never finalizes).
    pub fn take(&self, height: u64, digest: [u8; 32]) -> Option<Vec<TxResult>> {
        self.with(|map| {
            let results = map.remove(&(height, digest));
            *map = map.split_off(&(height + 1, [0; 32]));
            results
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(log: &str) -> TxResult {
        TxResult {
            code: 5,
            codespace: "sdk".into(),
            log: log.into(),
            gas_wanted: 1,
            gas_used: 1,
            events: Vec::new(),
            data: Vec::new(),
        }
    }

    fn kept(results: &PendingResults) -> Vec<Key> {
        results.with(|m| m.keys().cloned().collect())
    }

    #[test]
    fn results_return_at_finalization_and_stay_bounded() {
        let pending = PendingResults::default();
        pending.keep(3, [1; 32], vec![result("three: poor")]);
        pending.keep(3, [2; 32], vec![result("other proposal")]);
        pending.keep(4, [4; 32], vec![result("four")]);
        let taken = pending.take(3, [1; 32]).unwrap();
        assert_eq!(taken[0].log, "three: poor");
        // The losing proposal at height 3 is forgotten; height 4 is kept.
        assert_eq!(kept(&pending), vec![(4, [4; 32])]);
        for h in 10..10 + MAX_PENDING_RESULT_BLOCKS as u64 + 5 {
            pending.keep(h, [0; 32], Vec::new());
        }
        assert_eq!(pending.with(|m| m.len()), MAX_PENDING_RESULT_BLOCKS);
        // The lowest heights went first: height 4 and the first five of the run.
        assert!(pending.take(4, [4; 32]).is_none());
        assert!(pending.take(14, [0; 32]).is_none());
        assert!(pending.take(15, [0; 32]).is_some());
        // A block this node never executed has nothing kept.
        assert!(pending.take(99, [9; 32]).is_none());
        assert!(kept(&pending).is_empty());
    }

    #[test]
    fn a_map_of_no_capacity_keeps_nothing() {
        let pending = PendingResults::with_capacity(0);
        pending.keep(1, [1; 32], vec![result("x")]);
        assert!(pending.take(1, [1; 32]).is_none());
    }
}
