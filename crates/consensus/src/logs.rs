//! The logs of blocks this node executed, kept beside consensus until the block is finalized.
//!
//! A tx's log is never committed (see `caspur_app::results`), so a block's results read back
//! from state carry logs derived from their codes alone. The node still shows the full log of
//! every block it executed itself — as CometBFT keeps logs in its local results store: each
//! execution (proposal or verification) leaves its logs here under the block's digest, and
//! finalization takes them back out.

use caspur_app::TxResult;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Most executed-but-unfinalized blocks whose logs are kept (a verifier may execute several
/// proposals per height; the lowest heights go first past this).
pub const MAX_PENDING_LOG_BLOCKS: usize = 64;

type Key = (u64, [u8; 32]);

/// Logs by (height, block digest), shared by the application's clones.
#[derive(Clone, Default)]
pub struct BlockLogs(Arc<Mutex<BTreeMap<Key, Vec<String>>>>);

impl BlockLogs {
    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<Key, Vec<String>>) -> T) -> T {
        // A panic elsewhere while holding the lock leaves a map that is still consistent.
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut map)
    }

    /// Keeps the logs of block `digest` at `height`, executed with `results`.
    pub fn keep(&self, height: u64, digest: [u8; 32], results: &[TxResult]) {
        let logs = results.iter().map(|r| r.log.clone()).collect();
        self.with(|map| {
            map.insert((height, digest), logs);
            while map.len() > MAX_PENDING_LOG_BLOCKS {
                map.pop_first();
            }
        });
    }

    /// Puts the kept logs of finalized block `digest` into `results` (read back from state),
    /// and forgets every block at or below its height.
    pub fn attach(&self, height: u64, digest: [u8; 32], results: &mut [TxResult]) {
        let logs = self.with(|map| {
            let logs = map.remove(&(height, digest));
            *map = map.split_off(&(height + 1, [0; 32]));
            logs
        });
        if let Some(logs) = logs.filter(|l| l.len() == results.len()) {
            for (result, log) in results.iter_mut().zip(logs) {
                result.log = log;
            }
        }
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

    #[test]
    fn logs_return_at_finalization_and_stay_bounded() {
        let logs = BlockLogs::default();
        logs.keep(3, [1; 32], &[result("three: poor")]);
        logs.keep(3, [2; 32], &[result("other proposal")]);
        logs.keep(4, [4; 32], &[result("four")]);
        let mut read = vec![result("insufficient funds")];
        logs.attach(3, [1; 32], &mut read);
        assert_eq!(read[0].log, "three: poor");
        // The losing proposal at height 3 is forgotten; height 4 is kept.
        assert_eq!(
            logs.with(|m| m.keys().cloned().collect::<Vec<_>>()),
            vec![(4, [4; 32])]
        );
        for h in 10..10 + MAX_PENDING_LOG_BLOCKS as u64 + 5 {
            logs.keep(h, [0; 32], &[]);
        }
        assert_eq!(logs.with(|m| m.len()), MAX_PENDING_LOG_BLOCKS);
        // A block this node did not execute keeps its derived logs.
        let mut unknown = vec![result("insufficient funds")];
        logs.attach(99, [9; 32], &mut unknown);
        assert_eq!(unknown[0].log, "insufficient funds");
    }
}
