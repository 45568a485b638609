//! What the index derives from each block besides storing it: its txs' hashes and its event
//! entries. These are written in batches of [`FLUSH_BLOCKS`] blocks, in key order, so the
//! table pages many blocks touch (a busy address's, the action's) are rewritten once per
//! batch rather than once per block. Until its batch is written a block's entries are kept
//! in memory ([`Unflushed`]) and searched there; the block itself is stored at once, so after a
//! crash the entries of the blocks since the last batch are derived again from the stored
//! blocks when the index is opened.

use super::{err, IndexError, BLOCK_EVENTS, TXS, TX_EVENTS};
use caspur_app::TxResult;
use redb::{Table, WriteTransaction};
use std::collections::BTreeMap;

/// Blocks whose derived entries are written together.
pub const FLUSH_BLOCKS: usize = 16;

/// The event-index key of one condition `type.key=value` at `height`.
pub(super) fn event_key(condition: &[u8], height: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(condition.len() + 9);
    key.extend_from_slice(condition);
    key.push(0);
    key.extend_from_slice(&height.to_be_bytes());
    key
}

/// A block's event-index entries: key ([`event_key`]) → the indices it holds, as stored.
pub(super) type EventGroups = BTreeMap<Vec<u8>, Vec<u8>>;

/// Adds to `groups` the index `index` (the tx's in the block at `height`, or 0 for the
/// block's end) under the key of every indexed attribute of `events`. Indices arrive in
/// ascending order, so a repeat (a tx naming its sender in both its fee's and its message's
/// events) is the last one and is skipped: a tx is found by a value once.
fn add_event_keys(
    groups: &mut EventGroups,
    events: &[caspur_types::Event],
    height: u64,
    index: u32,
) {
    let index = index.to_be_bytes();
    let mut key = Vec::new();
    for e in events {
        for a in e.attributes.iter().filter(|a| a.index && !a.key.is_empty()) {
            key.clear();
            key.extend_from_slice(e.kind.as_bytes());
            key.push(b'.');
            key.extend_from_slice(a.key.as_bytes());
            key.push(b'=');
            key.extend_from_slice(a.value.as_bytes());
            key.push(0);
            key.extend_from_slice(&height.to_be_bytes());
            match groups.get_mut(key.as_slice()) {
                Some(indices) if indices.ends_with(&index) => {}
                Some(indices) => indices.extend_from_slice(&index),
                None => {
                    groups.insert(key.clone(), index.to_vec());
                }
            }
        }
    }
}

/// A block's event-index entries: its txs' and its end's. In key order, a block's inserts
/// walk each table once instead of jumping about it.
fn block_event_keys(
    height: u64,
    results: &[TxResult],
    block_events: &[caspur_types::Event],
) -> (EventGroups, EventGroups) {
    let mut txs = BTreeMap::new();
    for (i, result) in results.iter().enumerate() {
        add_event_keys(&mut txs, &result.events, height, i as u32);
    }
    let mut end = BTreeMap::new();
    add_event_keys(&mut end, block_events, height, 0);
    (txs, end)
}

/// One block's derived entries.
pub(super) struct Derived {
    /// The block's height.
    pub height: u64,
    /// Each tx's hash and index.
    pub hashes: Vec<([u8; 32], u32)>,
    /// Its txs' event entries.
    pub tx_events: EventGroups,
    /// Its end's event entries.
    pub end_events: EventGroups,
}

impl Derived {
    /// The entries of the block at `height` with `txs`, their `results` and the end's
    /// `block_events`.
    pub fn new<'t>(
        height: u64,
        txs: impl Iterator<Item = &'t [u8]>,
        results: &[TxResult],
        block_events: &[caspur_types::Event],
    ) -> Self {
        let hashes = txs
            .enumerate()
            .map(|(i, raw)| (caspur_types::tx::tx_hash(raw), i as u32))
            .collect();
        let (tx_events, end_events) = block_event_keys(height, results, block_events);
        Derived {
            height,
            hashes,
            tx_events,
            end_events,
        }
    }

    /// The event entries of `table` (txs' or the end's).
    pub fn events(&self, table: super::EventTable) -> &EventGroups {
        match table {
            super::EventTable::Tx => &self.tx_events,
            super::EventTable::Block => &self.end_events,
        }
    }
}

/// The tables derived entries go to, open in one write transaction.
pub(super) struct DerivedTables<'t> {
    txs: Table<'t, &'static [u8], (u64, u32)>,
    tx_events: Table<'t, &'static [u8], &'static [u8]>,
    end_events: Table<'t, &'static [u8], &'static [u8]>,
}

impl<'t> DerivedTables<'t> {
    /// Opens them in `tx`.
    pub fn open(tx: &'t WriteTransaction) -> Result<Self, IndexError> {
        Ok(DerivedTables {
            txs: tx.open_table(TXS).map_err(err)?,
            tx_events: tx.open_table(TX_EVENTS).map_err(err)?,
            end_events: tx.open_table(BLOCK_EVENTS).map_err(err)?,
        })
    }

    /// Writes the entries of `blocks`, each table in key order.
    pub fn write(&mut self, blocks: &[&Derived]) -> Result<(), IndexError> {
        let mut hashes: Vec<(&[u8; 32], (u64, u32))> = blocks
            .iter()
            .flat_map(|d| d.hashes.iter().map(|(h, i)| (h, (d.height, *i))))
            .collect();
        hashes.sort_unstable();
        for (hash, location) in hashes {
            self.txs.insert(hash.as_slice(), location).map_err(err)?;
        }
        // Keys carry their height: those of different blocks never collide.
        let sorted = |groups: fn(&Derived) -> &EventGroups| {
            let mut all: Vec<(&Vec<u8>, &Vec<u8>)> =
                blocks.iter().flat_map(|d| groups(d)).collect();
            all.sort_unstable();
            all
        };
        for (key, indices) in sorted(|d| &d.tx_events) {
            (self.tx_events.insert(key.as_slice(), indices.as_slice())).map_err(err)?;
        }
        for (key, indices) in sorted(|d| &d.end_events) {
            (self.end_events.insert(key.as_slice(), indices.as_slice())).map_err(err)?;
        }
        Ok(())
    }

    /// Removes the entries of `block` (rollback).
    pub fn remove(&mut self, block: &Derived) -> Result<(), IndexError> {
        for (hash, _) in &block.hashes {
            self.txs.remove(hash.as_slice()).map_err(err)?;
        }
        for key in block.tx_events.keys() {
            self.tx_events.remove(key.as_slice()).map_err(err)?;
        }
        for key in block.end_events.keys() {
            self.end_events.remove(key.as_slice()).map_err(err)?;
        }
        Ok(())
    }
}

/// The derived entries of the blocks stored since the last batch, ascending by height.
#[derive(Default)]
pub(super) struct Unflushed(std::sync::RwLock<Vec<Derived>>);

impl Unflushed {
    /// Reads them.
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Derived>> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Changes them.
    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Derived>> {
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a block's, stored by now (replacing those of a block at its height, delivered
    /// again).
    pub fn push(&self, block: Derived) {
        let mut blocks = self.write();
        blocks.retain(|d| d.height != block.height);
        blocks.push(block);
    }

    /// Where a tx landed, if its block is among them.
    pub fn tx(&self, hash: &[u8; 32]) -> Option<(u64, u32)> {
        self.read().iter().find_map(|d| {
            (d.hashes.iter())
                .find(|(h, _)| h == hash)
                .map(|(_, i)| (d.height, *i))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use caspur_types::Event;

    #[test]
    fn a_block_indexes_each_value_once_with_the_txs_holding_it() {
        let fee = Event::new("transfer").attr("sender", "caspur1a");
        let send = Event::new("transfer")
            .attr("sender", "caspur1a")
            .attr("recipient", "caspur1b");
        let mut quiet = Event::new("message").attr("action", "/x.Msg");
        quiet.attributes[0].index = false;
        let result = TxResult {
            code: 0,
            codespace: String::new(),
            log: String::new(),
            gas_wanted: 1,
            gas_used: 1,
            events: vec![fee, send, quiet],
            data: Vec::new(),
        };
        let end = [Event::new("epoch").attr("number", "3")];
        let (txs, ends) = block_event_keys(9, &[result.clone(), result], &end);
        let key = |c: &str| event_key(c.as_bytes(), 9);
        let both = vec![0, 0, 0, 0, 0, 0, 0, 1];
        let expected = EventGroups::from([
            (key("transfer.sender=caspur1a"), both.clone()),
            (key("transfer.recipient=caspur1b"), both),
        ]);
        assert_eq!(txs, expected);
        assert_eq!(
            ends,
            EventGroups::from([(key("epoch.number=3"), vec![0, 0, 0, 0])])
        );
    }
}
