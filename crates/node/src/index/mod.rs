//! The block store and tx index behind `block`, `tx_search` and `block_search`: every finalized
//! block with its txs and results, keyed by height, each tx hash → (height, index), and every
//! indexed event attribute of txs and of blocks' ends. Stored in redb, one
//! ACID transaction per block; writing a height again replaces it (blocks can be delivered
//! more than once after a crash).

use base64::Engine as _;
use caspur_app::TxResult;
use caspur_consensus::FinalizedBlock;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const TXS: TableDefinition<&[u8], (u64, u32)> = TableDefinition::new("txs");
/// `type.key=value` NUL height index → (): every indexed event attribute of every tx.
const EVENTS: TableDefinition<&[u8], ()> = TableDefinition::new("events");
/// The same for the events of blocks' ends (`block_search`), with index 0.
const BLOCK_EVENTS: TableDefinition<&[u8], ()> = TableDefinition::new("block_events");
/// Block hash → height (`block_by_hash`, `header_by_hash`).
const BLOCK_HASHES: TableDefinition<&[u8], u64> = TableDefinition::new("block_hashes");

mod search;
pub use search::{AttrCondition, EventTable, SearchError, MAX_SEARCH_BLOCKS, MAX_SEARCH_ENTRIES};

/// The event-index key prefix of one condition `type.key=value`.
fn event_prefix(condition: &str) -> Vec<u8> {
    let mut key = condition.as_bytes().to_vec();
    key.push(0);
    key
}

fn event_key(prefix: &[u8], height: u64, index: u32) -> Vec<u8> {
    let mut key = prefix.to_vec();
    key.extend_from_slice(&height.to_be_bytes());
    key.extend_from_slice(&index.to_be_bytes());
    key
}

/// Adds to `keys` the event-index key of every indexed attribute of `events` (those of the
/// tx at `index` of the block at `height`, or index 0 for the block's end): `type.key=value`
/// NUL height index, as [`event_key`] builds it for a search.
fn add_event_keys(
    keys: &mut BTreeSet<Vec<u8>>,
    events: &[caspur_types::Event],
    height: u64,
    index: u32,
) {
    for e in events {
        for a in e.attributes.iter().filter(|a| a.index && !a.key.is_empty()) {
            let mut key = Vec::with_capacity(e.kind.len() + a.key.len() + a.value.len() + 15);
            key.extend_from_slice(e.kind.as_bytes());
            key.push(b'.');
            key.extend_from_slice(a.key.as_bytes());
            key.push(b'=');
            key.extend_from_slice(a.value.as_bytes());
            key.push(0);
            key.extend_from_slice(&height.to_be_bytes());
            key.extend_from_slice(&index.to_be_bytes());
            keys.insert(key);
        }
    }
}

/// A block's event-index keys: its txs' and its end's, each sorted and without repeats (a
/// tx naming its sender in both its fee's and its message's events is found by it once). In
/// key order, a block's inserts walk each table once instead of jumping about it.
fn block_event_keys(
    height: u64,
    results: &[TxResult],
    block_events: &[caspur_types::Event],
) -> (BTreeSet<Vec<u8>>, BTreeSet<Vec<u8>>) {
    let mut txs = BTreeSet::new();
    for (i, result) in results.iter().enumerate() {
        add_event_keys(&mut txs, &result.events, height, i as u32);
    }
    let mut end = BTreeSet::new();
    add_event_keys(&mut end, block_events, height, 0);
    (txs, end)
}

/// Fills the hash table of an index written before it existed (once: a table that already
/// holds an entry is left alone).
fn backfill_hashes(tx: &redb::WriteTransaction) -> Result<(), IndexError> {
    let mut hashes = tx.open_table(BLOCK_HASHES).map_err(err)?;
    if hashes.first().map_err(err)?.is_some() {
        return Ok(());
    }
    let blocks = tx.open_table(BLOCKS).map_err(err)?;
    for entry in blocks.iter().map_err(err)? {
        let (height, bytes) = entry.map_err(err)?;
        let stored: StoredBlock = serde_json::from_slice(bytes.value()).map_err(err)?;
        if let Ok(hash) = hex::decode(&stored.hash) {
            hashes
                .insert(hash.as_slice(), height.value())
                .map_err(err)?;
        }
    }
    Ok(())
}

/// An index failure.
#[derive(Debug, thiserror::Error)]
#[error("block index: {0}")]
pub struct IndexError(String);

fn err(e: impl std::fmt::Display) -> IndexError {
    IndexError(e.to_string())
}

/// A stored block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBlock {
    /// Height.
    pub height: u64,
    /// Hex block hash.
    pub hash: String,
    /// Hex parent hash.
    pub parent: String,
    /// Hex proposer key.
    pub proposer: String,
    /// Block time, ms since the Unix epoch.
    pub time_ms: u64,
    /// Base64 txs.
    pub txs: Vec<String>,
    /// One result per tx.
    pub results: Vec<TxResult>,
    /// Events of the block's end.
    #[serde(default)]
    pub block_events: Vec<caspur_types::Event>,
    /// Hex app hash after the block.
    pub app_hash: String,
    /// Operations in the state database after the block (0 in indexes written before it was
    /// recorded; such blocks cannot be rollback targets).
    #[serde(default)]
    pub state_size: u64,
    /// The block's encoded size in bytes (0 in indexes written before it was recorded).
    #[serde(default)]
    pub size_bytes: u64,
    /// Hex SHA-256 of the block's encoded tx results, as the block commits it (empty in
    /// indexes written before it was recorded, as are the hashes below).
    #[serde(default)]
    pub results_hash: String,
    /// Hex CometBFT hash of the set that finalized the block.
    #[serde(default)]
    pub validators_hash: String,
    /// Hex CometBFT hash of the next block's set.
    #[serde(default)]
    pub next_validators_hash: String,
    /// The certificate over the parent the block carries.
    #[serde(default)]
    pub last_commit: Option<crate::header::StoredCommit>,
}

impl StoredBlock {
    /// From a finalized block.
    pub fn from_finalized(b: &FinalizedBlock) -> Self {
        let b64 = base64::engine::general_purpose::STANDARD;
        StoredBlock {
            height: b.height,
            hash: hex::encode_upper(b.hash),
            parent: hex::encode_upper(b.parent),
            proposer: hex::encode_upper(b.proposer),
            time_ms: b.time_ms,
            txs: b.txs.iter().map(|t| b64.encode(t)).collect(),
            results: b.results.clone(),
            block_events: b.block_events.clone(),
            app_hash: hex::encode_upper(b.app_hash),
            state_size: b.state_size,
            size_bytes: b.consensus.size_bytes,
            results_hash: hex::encode_upper(b.results_hash),
            validators_hash: hex::encode_upper(crate::header::validators_hash(&b.validators)),
            next_validators_hash: hex::encode_upper(crate::header::validators_hash(
                &b.next_validators,
            )),
            last_commit: b
                .last_commit
                .as_ref()
                .map(crate::header::StoredCommit::from_consensus),
        }
    }

    /// The raw txs.
    pub fn raw_txs(&self) -> Vec<Vec<u8>> {
        let b64 = base64::engine::general_purpose::STANDARD;
        self.txs.iter().filter_map(|t| b64.decode(t).ok()).collect()
    }
}

/// Bytes of the index file redb may cache in memory. redb's default (1 GiB) let the node's
/// memory grow with every indexed tx (~4 KB each) under steady load; the index is read by
/// queries, which a bounded cache serves well enough.
pub const INDEX_CACHE_BYTES: usize = 16 << 20;

/// The index.
pub struct BlockIndex {
    db: Database,
}

impl BlockIndex {
    /// Opens or creates the index file.
    pub fn open(path: &Path) -> Result<Self, IndexError> {
        let db = redb::Builder::new()
            .set_cache_size(INDEX_CACHE_BYTES)
            .create(path)
            .map_err(err)?;
        let tx = db.begin_write().map_err(err)?;
        tx.open_table(BLOCKS).map_err(err)?;
        tx.open_table(TXS).map_err(err)?;
        tx.open_table(EVENTS).map_err(err)?;
        tx.open_table(BLOCK_EVENTS).map_err(err)?;
        backfill_hashes(&tx)?;
        tx.commit().map_err(err)?;
        Ok(BlockIndex { db })
    }

    /// Records a finalized block (idempotent per height); returns it as stored.
    pub fn insert(&self, block: &FinalizedBlock) -> Result<StoredBlock, IndexError> {
        let stored = StoredBlock::from_finalized(block);
        let bytes = serde_json::to_vec(&stored).map_err(err)?;
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut blocks = tx.open_table(BLOCKS).map_err(err)?;
            blocks.insert(block.height, bytes.as_slice()).map_err(err)?;
            let mut txs = tx.open_table(TXS).map_err(err)?;
            let mut hashes: Vec<([u8; 32], u32)> = (block.txs.iter().enumerate())
                .map(|(i, raw)| (caspur_types::tx::tx_hash(raw), i as u32))
                .collect();
            hashes.sort_unstable();
            for (hash, i) in hashes {
                txs.insert(hash.as_slice(), (block.height, i))
                    .map_err(err)?;
            }
            let (tx_keys, end_keys) =
                block_event_keys(block.height, &block.results, &block.block_events);
            let mut events = tx.open_table(EVENTS).map_err(err)?;
            for key in tx_keys {
                events.insert(key.as_slice(), ()).map_err(err)?;
            }
            tx.open_table(BLOCK_HASHES)
                .map_err(err)?
                .insert(block.hash.as_slice(), block.height)
                .map_err(err)?;
            let mut block_events = tx.open_table(BLOCK_EVENTS).map_err(err)?;
            for key in end_keys {
                block_events.insert(key.as_slice(), ()).map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        Ok(stored)
    }

    /// The block at `height`.
    pub fn block(&self, height: u64) -> Result<Option<StoredBlock>, IndexError> {
        let tx = self.db.begin_read().map_err(err)?;
        let blocks = tx.open_table(BLOCKS).map_err(err)?;
        match blocks.get(height).map_err(err)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(v.value()).map(Some).map_err(err),
        }
    }

    /// The height of the block whose hash is `hash`.
    pub fn height_of(&self, hash: &[u8; 32]) -> Result<Option<u64>, IndexError> {
        let tx = self.db.begin_read().map_err(err)?;
        let hashes = tx.open_table(BLOCK_HASHES).map_err(err)?;
        Ok(hashes.get(hash.as_slice()).map_err(err)?.map(|v| v.value()))
    }

    /// The lowest and highest stored heights.
    pub fn bounds(&self) -> Result<Option<(u64, u64)>, IndexError> {
        let tx = self.db.begin_read().map_err(err)?;
        let blocks = tx.open_table(BLOCKS).map_err(err)?;
        let first = blocks.first().map_err(err)?.map(|(k, _)| k.value());
        let last = blocks.last().map_err(err)?.map(|(k, _)| k.value());
        Ok(first.zip(last))
    }

    /// The highest stored block.
    pub fn latest(&self) -> Result<Option<StoredBlock>, IndexError> {
        match self.bounds()? {
            None => Ok(None),
            Some((_, last)) => self.block(last),
        }
    }

    /// Where a tx landed: its block and index.
    pub fn tx(&self, hash: &[u8; 32]) -> Result<Option<(StoredBlock, u32)>, IndexError> {
        let location = {
            let tx = self.db.begin_read().map_err(err)?;
            let txs = tx.open_table(TXS).map_err(err)?;
            txs.get(hash.as_slice()).map_err(err)?.map(|v| v.value())
        };
        match location {
            None => Ok(None),
            Some((height, index)) => Ok(self.block(height)?.map(|b| (b, index))),
        }
    }

    /// Removes every block above `height` and its tx entries (rollback).
    pub fn truncate_above(&self, height: u64) -> Result<usize, IndexError> {
        let tx = self.db.begin_write().map_err(err)?;
        let mut removed = 0;
        {
            let mut blocks = tx.open_table(BLOCKS).map_err(err)?;
            let mut txs = tx.open_table(TXS).map_err(err)?;
            let mut events = tx.open_table(EVENTS).map_err(err)?;
            let mut block_events = tx.open_table(BLOCK_EVENTS).map_err(err)?;
            let mut hashes = tx.open_table(BLOCK_HASHES).map_err(err)?;
            let doomed = blocks
                .range(height + 1..)
                .map_err(err)?
                .map(|r| r.map(|(k, v)| (k.value(), v.value().to_vec())).map_err(err))
                .collect::<Result<Vec<(u64, Vec<u8>)>, IndexError>>()?;
            for (h, bytes) in doomed {
                let stored: StoredBlock = serde_json::from_slice(&bytes).map_err(err)?;
                for raw in stored.raw_txs() {
                    txs.remove(caspur_types::tx::tx_hash(&raw).as_slice())
                        .map_err(err)?;
                }
                let (tx_keys, end_keys) =
                    block_event_keys(h, &stored.results, &stored.block_events);
                for key in tx_keys {
                    events.remove(key.as_slice()).map_err(err)?;
                }
                for key in end_keys {
                    block_events.remove(key.as_slice()).map_err(err)?;
                }
                if let Ok(hash) = hex::decode(&stored.hash) {
                    hashes.remove(hash.as_slice()).map_err(err)?;
                }
                blocks.remove(h).map_err(err)?;
                removed += 1;
            }
        }
        tx.commit().map_err(err)?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use caspur_types::Event;

    #[test]
    fn a_block_indexes_each_attribute_once_under_the_key_a_search_builds() {
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
        let key = |c: &str, h, i| event_key(&event_prefix(c), h, i);
        let expected: BTreeSet<Vec<u8>> = [0, 1]
            .into_iter()
            .flat_map(|i| {
                [
                    key("transfer.sender=caspur1a", 9, i),
                    key("transfer.recipient=caspur1b", 9, i),
                ]
            })
            .collect();
        assert_eq!(txs, expected);
        assert_eq!(ends, BTreeSet::from([key("epoch.number=3", 9, 0)]));
    }
}
