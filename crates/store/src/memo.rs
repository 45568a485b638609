//! A read-through memo over a state that does not change while the memo lives: the mempool's
//! check-state between two blocks. Its re-check after a block reads the same few keys for
//! every pending tx (the auth params, the circuit breaker's keys for each message's route,
//! the fee collector's balance); each read of the node's committed state goes through the
//! consensus engine's reader and QMDB, and was most of a re-check's state cost under load.
//!
//! The memo is bounded in bytes ([`MAX_MEMO_BYTES`]): past it, reads go through unremembered.
//! Clones share one memo. A memo must be replaced when the state under it changes — the
//! mempool builds a new one with each re-check.

use crate::{StateRead, StoreError};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Most bytes (keys and values) one memo remembers.
pub const MAX_MEMO_BYTES: usize = 16 << 20;

/// What a memo remembers.
#[derive(Default)]
struct Remembered {
    values: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    bytes: usize,
}

/// Reads of `S`, each remembered after the first (absent keys too).
pub struct ReadMemo<S> {
    inner: S,
    remembered: Arc<Mutex<Remembered>>,
}

impl<S: Clone> Clone for ReadMemo<S> {
    fn clone(&self) -> Self {
        ReadMemo {
            inner: self.inner.clone(),
            remembered: Arc::clone(&self.remembered),
        }
    }
}

impl<S> ReadMemo<S> {
    /// An empty memo over `inner`.
    pub fn new(inner: S) -> Self {
        ReadMemo {
            inner,
            remembered: Arc::default(),
        }
    }

    /// Bytes remembered (keys and values).
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// The memo (a panic elsewhere while holding the lock leaves it consistent: each update
    /// is one insert and one addition).
    fn lock(&self) -> std::sync::MutexGuard<'_, Remembered> {
        self.remembered.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<S: StateRead> StateRead for ReadMemo<S> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(value) = self.lock().values.get(key) {
            return Ok(value.clone());
        }
        let value = self.inner.get(key).await?;
        let size = key.len() + value.as_ref().map_or(0, Vec::len);
        let mut memo = self.lock();
        if memo.bytes + size <= MAX_MEMO_BYTES && !memo.values.contains_key(key) {
            memo.bytes += size;
            memo.values.insert(key.to_vec(), value.clone());
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemState;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        futures::executor::block_on(f)
    }

    #[test]
    fn remembers_values_and_absences_until_replaced() {
        let mut state = MemState::default();
        state.0.insert(b"a".to_vec(), b"1".to_vec());
        let memo = ReadMemo::new(state.clone());
        assert_eq!(block_on(memo.get(b"a")), Ok(Some(b"1".to_vec())));
        assert_eq!(block_on(memo.get(b"b")), Ok(None));
        assert_eq!(memo.bytes(), 3);
        // The state under a memo changes: the memo still answers what it read (which is why
        // the mempool replaces it after every block); a new memo reads the new state.
        let mut changed = state;
        changed.0.insert(b"a".to_vec(), b"2".to_vec());
        changed.0.insert(b"b".to_vec(), b"3".to_vec());
        let stale = ReadMemo {
            inner: changed.clone(),
            remembered: Arc::clone(&memo.remembered),
        };
        assert_eq!(block_on(stale.get(b"a")), Ok(Some(b"1".to_vec())));
        assert_eq!(block_on(stale.get(b"b")), Ok(None));
        let fresh = ReadMemo::new(changed);
        assert_eq!(block_on(fresh.get(b"a")), Ok(Some(b"2".to_vec())));
        assert_eq!(block_on(fresh.get(b"b")), Ok(Some(b"3".to_vec())));
    }

    #[test]
    fn stops_remembering_at_its_bound() {
        let mut state = MemState::default();
        let big = vec![7u8; MAX_MEMO_BYTES / 2];
        for k in [b"x", b"y", b"z"] {
            state.0.insert(k.to_vec(), big.clone());
        }
        let memo = ReadMemo::new(state);
        for k in [b"x", b"y", b"z"] {
            assert_eq!(block_on(memo.get(k)), Ok(Some(big.clone())));
        }
        // The first fits, the second would pass the bound by its key: only one is kept, and
        // every read is still answered.
        assert!(memo.bytes() <= MAX_MEMO_BYTES);
        assert_eq!(memo.lock().values.len(), 1);
        assert_eq!(block_on(memo.get(b"z")), Ok(Some(big)));
    }
}
