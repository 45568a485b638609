//! Searching the index: the txs (or blocks) within a height range whose indexed events satisfy
//! every condition. A condition with one exact value reads that value's entries directly;
//! any other (a range, `CONTAINS`, `EXISTS`) scans every value of its attribute. Each search
//! reads at most [`MAX_SEARCH_ENTRIES`] index entries and decodes at most
//! [`MAX_SEARCH_BLOCKS`] blocks; past that it asks for a narrower query.

use super::{err, event_key, BlockIndex, IndexError, BLOCKS, BLOCK_EVENTS, TX_EVENTS};
use redb::{ReadableDatabase, TableDefinition};
use std::collections::BTreeSet;
use std::ops::{Bound, RangeInclusive};

/// Most index entries one search reads (an entry holding several txs of a block counts each).
pub const MAX_SEARCH_ENTRIES: usize = 200_000;
/// Most blocks one search decodes (a tx search by height alone reads each block's txs).
pub const MAX_SEARCH_BLOCKS: usize = 10_000;

/// Whose events a search reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventTable {
    /// Txs' events (`tx_search`); matches are (height, tx index).
    Tx,
    /// Blocks' end events (`block_search`); matches are (height, 0).
    Block,
}

/// One condition on an event attribute.
pub struct AttrCondition<'a> {
    /// `type.attr`.
    pub key: &'a str,
    /// The one value that passes, when there is one (its entries are read directly).
    pub exact: Option<&'a str>,
    /// Whether a value passes (used when `exact` is `None`).
    pub test: &'a dyn Fn(&str) -> bool,
}

/// Why a search has no answer.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The index could not be read.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The query would read more than the bounds allow.
    #[error(
        "the query reads more than {MAX_SEARCH_ENTRIES} index entries or {MAX_SEARCH_BLOCKS} \
         blocks; narrow it (an exact condition, a tx.height or block.height range)"
    )]
    TooBroad,
}

/// Entries a search may still read.
struct Budget {
    entries: usize,
    blocks: usize,
}

impl Budget {
    fn entry(&mut self) -> Result<(), SearchError> {
        self.entries(1)
    }

    fn entries(&mut self, count: usize) -> Result<(), SearchError> {
        self.entries = self
            .entries
            .checked_sub(count)
            .ok_or(SearchError::TooBroad)?;
        Ok(())
    }
}

impl BlockIndex {
    /// The matches, ascending, within `heights` whose events satisfy every condition (no
    /// condition: every tx, or every block, in the range).
    pub fn search(
        &self,
        table: EventTable,
        conditions: &[AttrCondition<'_>],
        heights: RangeInclusive<u64>,
    ) -> Result<Vec<(u64, u32)>, SearchError> {
        let budget = Budget {
            entries: MAX_SEARCH_ENTRIES,
            blocks: MAX_SEARCH_BLOCKS,
        };
        self.search_within(table, conditions, heights, budget)
    }

    fn search_within(
        &self,
        table: EventTable,
        conditions: &[AttrCondition<'_>],
        heights: RangeInclusive<u64>,
        mut budget: Budget,
    ) -> Result<Vec<(u64, u32)>, SearchError> {
        let Some((first, rest)) = conditions.split_first() else {
            return self.everything(table, heights, &mut budget);
        };
        let mut found = self.matching(table, first, &heights, &mut budget)?;
        for c in rest {
            if found.is_empty() {
                break;
            }
            let other = self.matching(table, c, &heights, &mut budget)?;
            found.retain(|m| other.contains(m));
        }
        Ok(found.into_iter().collect())
    }

    fn matching(
        &self,
        table: EventTable,
        c: &AttrCondition<'_>,
        heights: &RangeInclusive<u64>,
        budget: &mut Budget,
    ) -> Result<BTreeSet<(u64, u32)>, SearchError> {
        // Exact: `key=value NUL height` for the heights wanted. Otherwise every value of the
        // attribute: `key=` then any value.
        let (start, end) = match c.exact {
            Some(value) => {
                let condition = format!("{}={value}", c.key);
                let start = event_key(condition.as_bytes(), *heights.start());
                let end = event_key(condition.as_bytes(), *heights.end());
                (start, end)
            }
            None => {
                let start = format!("{}=", c.key).into_bytes();
                // Values are UTF-8, which never holds the byte 0xff.
                let mut end = start.clone();
                end.push(0xff);
                (start, end)
            }
        };
        let range = (
            Bound::Included(start.as_slice()),
            Bound::Included(end.as_slice()),
        );
        let mut matcher = Matcher {
            condition: c,
            heights,
            value_at: c.key.len() + 1,
            found: BTreeSet::new(),
        };
        // Memory first: a batch is written to the tables before it leaves memory.
        for block in self.unflushed.read().iter() {
            if heights.contains(&block.height) {
                for (key, txs) in block.events(table).range::<[u8], _>(range) {
                    matcher.take(key, txs, budget)?;
                }
            }
        }
        let definition: TableDefinition<&[u8], &[u8]> = match table {
            EventTable::Tx => TX_EVENTS,
            EventTable::Block => BLOCK_EVENTS,
        };
        let tx = self.db.begin_read().map_err(err)?;
        let events = tx.open_table(definition).map_err(err)?;
        for entry in events.range::<&[u8]>(range).map_err(err)? {
            let (key, txs) = entry.map_err(err)?;
            matcher.take(key.value(), txs.value(), budget)?;
        }
        Ok(matcher.found)
    }

    fn everything(
        &self,
        table: EventTable,
        heights: RangeInclusive<u64>,
        budget: &mut Budget,
    ) -> Result<Vec<(u64, u32)>, SearchError> {
        let tx = self.db.begin_read().map_err(err)?;
        let blocks = tx.open_table(BLOCKS).map_err(err)?;
        let mut out = Vec::new();
        for entry in blocks.range(heights).map_err(err)? {
            budget.entry()?;
            let (height, bytes) = entry.map_err(err)?;
            match table {
                EventTable::Block => out.push((height.value(), 0)),
                EventTable::Tx => {
                    budget.blocks = budget.blocks.checked_sub(1).ok_or(SearchError::TooBroad)?;
                    let b: super::StoredBlock =
                        serde_json::from_slice(bytes.value()).map_err(err)?;
                    out.extend((0..b.txs.len() as u32).map(|i| (b.height, i)));
                }
            }
        }
        Ok(out)
    }
}

/// Collects the matches of one condition from event-index entries.
struct Matcher<'c> {
    condition: &'c AttrCondition<'c>,
    heights: &'c RangeInclusive<u64>,
    /// Where a key's value starts.
    value_at: usize,
    found: BTreeSet<(u64, u32)>,
}

impl Matcher<'_> {
    /// Reads one entry: `key` → `txs`.
    fn take(&mut self, key: &[u8], txs: &[u8], budget: &mut Budget) -> Result<(), SearchError> {
        // Each entry read counts, and each tx past the first a passing one holds.
        budget.entry()?;
        let Some((value, height)) = split_key(key, self.value_at) else {
            return Ok(());
        };
        if !self.heights.contains(&height) {
            return Ok(());
        }
        let passes = match self.condition.exact {
            // The range is that value's; a longer value whose tail holds a NUL can fall in
            // it, so the value is compared too.
            Some(exact) => value == exact.as_bytes(),
            None => std::str::from_utf8(value).is_ok_and(|v| (self.condition.test)(v)),
        };
        if passes {
            budget.entries((txs.len() / 4).saturating_sub(1))?;
            (self.found).extend(indices(txs).map(|index| (height, index)));
        }
        Ok(())
    }
}

/// `key=value NUL height(8)` → (value, height), given where the value starts.
fn split_key(key: &[u8], value_at: usize) -> Option<(&[u8], u64)> {
    let tail_at = key.len().checked_sub(9)?;
    if tail_at < value_at || key[tail_at] != 0 {
        return None;
    }
    let height = u64::from_be_bytes(key[tail_at + 1..].try_into().ok()?);
    Some((&key[value_at..tail_at], height))
}

/// The tx indices an event-index entry holds (u32s, big-endian).
pub(super) fn indices(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes
        .chunks_exact(4)
        .filter_map(|b| b.try_into().ok().map(u32::from_be_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_past_its_budget_asks_for_a_narrower_query() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let index = BlockIndex::open(&dir.path().join("i.redb")).unwrap_or_else(|e| panic!("{e}"));
        for h in 1..=5 {
            let b = caspur_consensus::FinalizedBlock {
                height: h,
                hash: [h as u8; 32],
                parent: [0; 32],
                proposer: [0; 32],
                time_ms: h,
                txs: vec![vec![h as u8]],
                results: vec![caspur_app::TxResult {
                    code: 0,
                    codespace: String::new(),
                    log: String::new(),
                    gas_wanted: 1,
                    gas_used: 1,
                    events: vec![caspur_types::Event::new("message").attr("sender", "a")],
                    data: Vec::new(),
                }],
                block_events: Vec::new(),
                app_hash: [0; 32],
                state_size: 0,
                consensus: Default::default(),
                ..Default::default()
            };
            index.insert(&b).unwrap_or_else(|e| panic!("{e}"));
        }
        let any = |_: &str| true;
        let c = || AttrCondition {
            key: "message.sender",
            exact: None,
            test: &any,
        };
        let small = |entries, blocks| Budget { entries, blocks };
        let all = index.search_within(EventTable::Tx, &[c()], 0..=9, small(5, 0));
        assert_eq!(all.map(|m| m.len()).ok(), Some(5));
        let cut = index.search_within(EventTable::Tx, &[c()], 0..=9, small(4, 0));
        assert!(matches!(cut, Err(SearchError::TooBroad)));
        // By height alone, a tx search decodes blocks: bounded by the block budget.
        let cut = index.search_within(EventTable::Tx, &[], 0..=9, small(100, 2));
        assert!(matches!(cut, Err(SearchError::TooBroad)));
        let blocks = index.search_within(EventTable::Block, &[], 0..=9, small(100, 0));
        assert_eq!(blocks.map(|m| m.len()).ok(), Some(5));
    }
}
