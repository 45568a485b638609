//! Helpers shared by the consensus integration tests.

#[allow(dead_code)]
pub mod sim;
#[allow(dead_code)]
pub mod single;

use caspur_consensus::TxSource;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// Pending txs offered to proposals in order, at most `per_block` a block, minus those of
/// unfinalized ancestors; finalized txs are removed by the test's block sink.
pub struct Pool {
    /// The txs, in the order they must execute.
    pub txs: Mutex<Vec<Vec<u8>>>,
    per_block: usize,
}

impl Pool {
    /// An empty pool proposing at most `per_block` txs a block.
    pub fn new(per_block: usize) -> Self {
        Pool {
            txs: Mutex::new(Vec::new()),
            per_block,
        }
    }

    /// Drops txs that a finalized block included.
    pub fn remove_included(&self, included: &[Vec<u8>]) {
        self.txs.lock().unwrap().retain(|t| !included.contains(t));
    }
}

impl TxSource for Pool {
    fn select(
        &self,
        max_bytes: usize,
        _max_gas: Option<u64>,
        exclude: &BTreeSet<[u8; 32]>,
    ) -> Vec<Vec<u8>> {
        let txs = self.txs.lock().unwrap();
        let mut used = 0;
        txs.iter()
            .filter(|t| !exclude.contains(&caspur_types::tx::tx_hash(t)))
            .take_while(|t| {
                used += t.len();
                used <= max_bytes
            })
            .take(self.per_block)
            .cloned()
            .collect()
    }
}
