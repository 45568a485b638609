//! An in-memory state: genesis construction and unit tests of module logic. Nodes persist
//! state in [`crate::qmdb`].

use crate::{StateRead, StateScan, StoreError, WriteSet};
use std::collections::BTreeMap;

/// A plain sorted map of state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemState(pub BTreeMap<Vec<u8>, Vec<u8>>);

impl MemState {
    /// Applies a block's writes.
    pub fn apply(&mut self, writes: &WriteSet) {
        for (k, v) in writes {
            match v {
                Some(v) => {
                    self.0.insert(k.clone(), v.clone());
                }
                None => {
                    self.0.remove(k);
                }
            }
        }
    }
}

impl StateRead for MemState {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.get(key).cloned())
    }
}

/// A memory state has no Merkle structure: it proves nothing (a query asking for a proof gets
/// this error), as a node keeping no proofs would answer.
impl crate::StateProve for MemState {
    async fn prove(&self, _key: &[u8]) -> Result<crate::Proven, StoreError> {
        Err(StoreError("this state keeps no proofs".into()))
    }
}

impl StateScan for MemState {
    async fn scan_prefix(&self, prefix: &[u8], limit: usize) -> Result<crate::Rows, StoreError> {
        Ok(self
            .0
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}
