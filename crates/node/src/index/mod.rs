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
use std::path::Path;

const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const TXS: TableDefinition<&[u8], (u64, u32)> = TableDefinition::new("txs");
/// `type.key=value` NUL height → the indices (u32, big-endian, ascending) of that block's txs
/// with the attribute: every indexed event attribute of every tx. One entry per value and
/// block, not per tx: the attributes a block's txs share (the action, the fee, a busy
/// address) are written once.
const TX_EVENTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("tx_event_groups");
/// The same for the events of blocks' ends (`block_search`), with index 0.
const BLOCK_EVENTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("block_event_groups");
/// Block hash → height (`block_by_hash`, `header_by_hash`).
const BLOCK_HASHES: TableDefinition<&[u8], u64> = TableDefinition::new("block_hashes");
/// The index's own facts: [`DERIVED_THROUGH`].
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// The height through which every stored block's derived entries are in their tables.
const DERIVED_THROUGH: &str = "derived_through";

mod derived;
mod legacy;
mod search;
pub use derived::FLUSH_BLOCKS;
use derived::{event_key, Derived, DerivedTables};
pub use search::{AttrCondition, EventTable, SearchError, MAX_SEARCH_BLOCKS, MAX_SEARCH_ENTRIES};

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

    /// What the index derives from it.
    fn derived(&self) -> Derived {
        let txs = self.raw_txs();
        Derived::new(
            self.height,
            txs.iter().map(Vec::as_slice),
            &self.results,
            &self.block_events,
        )
    }
}

/// Bytes of the index file redb may cache in memory. redb's default (1 GiB) let the node's
/// memory grow with every indexed tx (~4 KB each) under steady load; the index is read by
/// queries, which a bounded cache serves well enough.
pub const INDEX_CACHE_BYTES: usize = 16 << 20;

/// What `status` and `consensus_state` say of a block: its identity, none of its txs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockSummary {
    /// Height.
    pub height: u64,
    /// Hex block hash.
    pub hash: String,
    /// Hex app hash after the block.
    pub app_hash: String,
    /// Block time, ms since the Unix epoch.
    pub time_ms: u64,
}

impl BlockSummary {
    fn of(b: &StoredBlock) -> Self {
        BlockSummary {
            height: b.height,
            hash: b.hash.clone(),
            app_hash: b.app_hash.clone(),
            time_ms: b.time_ms,
        }
    }
}

/// The lowest and highest stored blocks' summaries, kept in memory: `status` is polled far
/// more often than blocks come, and a full block (megabytes under load) should not be decoded
/// for four of its fields.
type Tips = Option<(BlockSummary, BlockSummary)>;

/// The index.
pub struct BlockIndex {
    db: Database,
    /// The derived entries of the blocks stored since the last batch.
    unflushed: derived::Unflushed,
    /// The stored tips, as [`BlockIndex::tips`] answers.
    tips: std::sync::RwLock<Tips>,
}

impl BlockIndex {
    /// Opens or creates the index file; writes the derived entries a crash left unwritten.
    pub fn open(path: &Path) -> Result<Self, IndexError> {
        let db = redb::Builder::new()
            .set_cache_size(INDEX_CACHE_BYTES)
            .create(path)
            .map_err(err)?;
        let tx = db.begin_write().map_err(err)?;
        {
            let blocks = tx.open_table(BLOCKS).map_err(err)?;
            tx.open_table(TXS).map_err(err)?;
            tx.open_table(TX_EVENTS).map_err(err)?;
            tx.open_table(BLOCK_EVENTS).map_err(err)?;
            let mut meta = tx.open_table(META).map_err(err)?;
            if meta.get(DERIVED_THROUGH).map_err(err)?.is_none() {
                // Written before batches (or new): every stored block's entries are written.
                let last = blocks.last().map_err(err)?.map_or(0, |(k, _)| k.value());
                meta.insert(DERIVED_THROUGH, last).map_err(err)?;
            }
        }
        backfill_hashes(&tx)?;
        tx.commit().map_err(err)?;
        legacy::migrate(&db, legacy::MIGRATION_CHUNK)?;
        let index = BlockIndex {
            db,
            unflushed: Default::default(),
            tips: Default::default(),
        };
        index.derive_unwritten()?;
        index.reload_tips()?;
        Ok(index)
    }

    /// The lowest and highest stored blocks (none stored: `None`), from memory.
    pub fn tips(&self) -> Tips {
        self.tips
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn reload_tips(&self) -> Result<(), IndexError> {
        let tips = match self.bounds()? {
            None => None,
            Some((first, last)) => {
                let summary = |h| Ok::<_, IndexError>(self.block(h)?.map(|b| BlockSummary::of(&b)));
                summary(first)?.zip(summary(last)?)
            }
        };
        *self
            .tips
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = tips;
        Ok(())
    }

    /// Counts `stored` among the tips.
    fn extend_tips(&self, stored: &StoredBlock) {
        let summary = BlockSummary::of(stored);
        let mut tips = self
            .tips
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *tips = Some(match tips.take() {
            None => (summary.clone(), summary),
            Some((first, last)) => (
                if summary.height <= first.height {
                    summary.clone()
                } else {
                    first
                },
                if summary.height >= last.height {
                    summary
                } else {
                    last
                },
            ),
        });
    }

    /// Writes the derived entries of the blocks stored after the last batch, derived again
    /// from the stored blocks (at most [`FLUSH_BLOCKS`]: the memory that held them is gone).
    fn derive_unwritten(&self) -> Result<(), IndexError> {
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut meta = tx.open_table(META).map_err(err)?;
            let through = meta
                .get(DERIVED_THROUGH)
                .map_err(err)?
                .map_or(0, |v| v.value());
            let blocks = tx.open_table(BLOCKS).map_err(err)?;
            let mut unwritten = Vec::new();
            for entry in blocks.range(through.saturating_add(1)..).map_err(err)? {
                let (_, bytes) = entry.map_err(err)?;
                let stored: StoredBlock = serde_json::from_slice(bytes.value()).map_err(err)?;
                unwritten.push(stored.derived());
            }
            let Some(last) = unwritten.last().map(|d| d.height) else {
                return Ok(());
            };
            tracing::info!(
                blocks = unwritten.len(),
                "writing the index entries of blocks stored before a stop"
            );
            DerivedTables::open(&tx)?.write(&unwritten.iter().collect::<Vec<_>>())?;
            meta.insert(DERIVED_THROUGH, last).map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// Records a finalized block (idempotent per height); returns it as stored. The block
    /// is durable on return; its derived entries are written with those of the next blocks
    /// (every [`FLUSH_BLOCKS`]) and searched in memory until then.
    pub fn insert(&self, block: &FinalizedBlock) -> Result<StoredBlock, IndexError> {
        let stored = StoredBlock::from_finalized(block);
        let bytes = serde_json::to_vec(&stored).map_err(err)?;
        let txs = block.txs.iter().map(Vec::as_slice);
        let derived = Derived::new(block.height, txs, &block.results, &block.block_events);
        // The block's entries reach memory only once it is stored (a search never finds a
        // tx whose block cannot be read yet), or go to the tables with the batch it completes.
        let due = self.unflushed.read().len() + 1 >= FLUSH_BLOCKS;
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut blocks = tx.open_table(BLOCKS).map_err(err)?;
            blocks.insert(block.height, bytes.as_slice()).map_err(err)?;
            tx.open_table(BLOCK_HASHES)
                .map_err(err)?
                .insert(block.hash.as_slice(), block.height)
                .map_err(err)?;
            if due {
                let unflushed = self.unflushed.read();
                let batch: Vec<&Derived> = (unflushed.iter())
                    .filter(|d| d.height != block.height)
                    .chain([&derived])
                    .collect();
                DerivedTables::open(&tx)?.write(&batch)?;
                let through = batch.iter().map(|d| d.height).max().unwrap_or(0);
                (tx.open_table(META).map_err(err)?)
                    .insert(DERIVED_THROUGH, through)
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)?;
        if due {
            // Readers look here before the tables: once cleared, the tables hold them.
            self.unflushed.write().clear();
        } else {
            self.unflushed.push(derived);
        }
        self.extend_tips(&stored);
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
        // Memory first: a batch is written before it leaves memory.
        let location = match self.unflushed.tx(hash) {
            Some(location) => Some(location),
            None => {
                let tx = self.db.begin_read().map_err(err)?;
                let txs = tx.open_table(TXS).map_err(err)?;
                txs.get(hash.as_slice()).map_err(err)?.map(|v| v.value())
            }
        };
        match location {
            None => Ok(None),
            Some((height, index)) => Ok(self.block(height)?.map(|b| (b, index))),
        }
    }

    /// Removes every block above `height` and its tx entries (rollback).
    pub fn truncate_above(&self, height: u64) -> Result<usize, IndexError> {
        self.unflushed.write().retain(|d| d.height <= height);
        let tx = self.db.begin_write().map_err(err)?;
        let mut removed = 0;
        {
            let mut blocks = tx.open_table(BLOCKS).map_err(err)?;
            let mut derived = DerivedTables::open(&tx)?;
            let mut hashes = tx.open_table(BLOCK_HASHES).map_err(err)?;
            let doomed = blocks
                .range(height + 1..)
                .map_err(err)?
                .map(|r| r.map(|(k, v)| (k.value(), v.value().to_vec())).map_err(err))
                .collect::<Result<Vec<(u64, Vec<u8>)>, IndexError>>()?;
            for (h, bytes) in doomed {
                let stored: StoredBlock = serde_json::from_slice(&bytes).map_err(err)?;
                derived.remove(&stored.derived())?;
                if let Ok(hash) = hex::decode(&stored.hash) {
                    hashes.remove(hash.as_slice()).map_err(err)?;
                }
                blocks.remove(h).map_err(err)?;
                removed += 1;
            }
            let mut meta = tx.open_table(META).map_err(err)?;
            let through = meta
                .get(DERIVED_THROUGH)
                .map_err(err)?
                .map_or(0, |v| v.value());
            (meta.insert(DERIVED_THROUGH, through.min(height))).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        self.reload_tips()?;
        Ok(removed)
    }
}
