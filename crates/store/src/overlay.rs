//! Layered writes over a read-only base: a block layer and a tx layer.

use crate::{StateRead, StoreError};
use std::collections::BTreeMap;

/// Writes of a block, sorted by key: `Some(value)` upserts, `None` deletes.
pub type WriteSet = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A base state plus uncommitted writes of the current block and the current tx (a clone is
/// a scratch copy: what it writes stays in it).
#[derive(Clone)]
pub struct Overlay<B> {
    base: B,
    block: WriteSet,
    tx: WriteSet,
}

impl<B: StateRead> Overlay<B> {
    /// An overlay with no writes.
    pub fn new(base: B) -> Self {
        Overlay {
            base,
            block: WriteSet::new(),
            tx: WriteSet::new(),
        }
    }

    /// Reads through the tx layer, then the block layer, then the base.
    pub async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(v) = self.tx.get(key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.block.get(key) {
            return Ok(v.clone());
        }
        self.base.get(key).await
    }

    /// Records an upsert in the tx layer.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.tx.insert(key, Some(value));
    }

    /// Records a delete in the tx layer.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.tx.insert(key, None);
    }

    /// Moves the tx layer's writes into the block layer.
    pub fn commit_tx(&mut self) {
        let tx = std::mem::take(&mut self.tx);
        self.block.extend(tx);
    }

    /// Drops the tx layer's writes.
    pub fn discard_tx(&mut self) {
        self.tx.clear();
    }

    /// The committed writes of the block (the tx layer must be empty or is discarded).
    pub fn into_writes(self) -> WriteSet {
        self.block
    }

    /// The base this overlay reads from.
    pub fn base(&self) -> &B {
        &self.base
    }
}

impl<B: StateRead> StateRead for Overlay<B> {
    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Overlay::get(self, key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemState;

    #[test]
    fn layers() {
        futures::executor::block_on(async {
            let mut base = MemState::default();
            base.apply(&[(b"a".to_vec(), Some(b"1".to_vec()))].into_iter().collect());
            let mut o = Overlay::new(&base);
            o.put(b"a".to_vec(), b"2".to_vec());
            assert_eq!(o.get(b"a").await.unwrap(), Some(b"2".to_vec()));
            o.discard_tx();
            assert_eq!(o.get(b"a").await.unwrap(), Some(b"1".to_vec()));
            o.delete(b"a".to_vec());
            o.commit_tx();
            o.put(b"b".to_vec(), b"3".to_vec());
            o.discard_tx();
            assert_eq!(o.get(b"a").await.unwrap(), None);
            let w = o.into_writes();
            assert_eq!(w.len(), 1);
            assert_eq!(w.get(&b"a"[..]), Some(&None));
        });
    }
}
