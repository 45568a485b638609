//! Converting an event index written before entries were grouped per block: the old tables
//! held one entry per tx and attribute (`type.key=value` NUL height index → ()); each is
//! moved into its block's group ([`super::event_key`] → indices) and the old table dropped.
//! The move goes in bounded chunks, one transaction each, so a large index converts in
//! bounded memory and a crash mid-way resumes where it stopped.

use super::{err, IndexError, BLOCK_EVENTS, TX_EVENTS};
use redb::{Database, ReadableTable, TableDefinition, TableHandle};
use std::collections::BTreeMap;

/// The per-tx tables of indexes written before grouping.
const LEGACY_TX_EVENTS: TableDefinition<&[u8], ()> = TableDefinition::new("events");
const LEGACY_BLOCK_EVENTS: TableDefinition<&[u8], ()> = TableDefinition::new("block_events");

/// Old entries moved per transaction.
pub(super) const MIGRATION_CHUNK: usize = 100_000;

type Tables = (
    TableDefinition<'static, &'static [u8], ()>,
    TableDefinition<'static, &'static [u8], &'static [u8]>,
);

/// Moves every entry of the old per-tx tables into the grouped ones (nothing to do for an
/// index written since), `chunk` entries per transaction.
pub(super) fn migrate(db: &Database, chunk: usize) -> Result<(), IndexError> {
    let pairs: [Tables; 2] = [
        (LEGACY_TX_EVENTS, TX_EVENTS),
        (LEGACY_BLOCK_EVENTS, BLOCK_EVENTS),
    ];
    for (legacy, grouped) in pairs {
        let mut moved = 0usize;
        while let Some(count) = migrate_chunk(db, legacy, grouped, chunk)? {
            moved += count;
            tracing::info!(
                table = legacy.name(),
                moved,
                "grouping the event index per block"
            );
        }
    }
    Ok(())
}

/// Moves the first `chunk` entries of `legacy`, or drops it once empty; `None` when there is
/// no such table (left).
fn migrate_chunk(
    db: &Database,
    legacy: TableDefinition<&[u8], ()>,
    grouped: TableDefinition<&[u8], &[u8]>,
    chunk: usize,
) -> Result<Option<usize>, IndexError> {
    let tx = db.begin_write().map_err(err)?;
    let exists = tx
        .list_tables()
        .map_err(err)?
        .any(|t| t.name() == legacy.name());
    if !exists {
        return Ok(None);
    }
    let mut groups: BTreeMap<Vec<u8>, Vec<u32>> = BTreeMap::new();
    let count = {
        let mut old = tx.open_table(legacy).map_err(err)?;
        let mut last: Option<Vec<u8>> = None;
        for entry in old.iter().map_err(err)?.take(chunk) {
            let (key, _) = entry.map_err(err)?;
            let key = key.value();
            if let Some((group, index)) = split_legacy_key(key) {
                groups.entry(group.to_vec()).or_default().push(index);
            }
            last = Some(key.to_vec());
        }
        let Some(last) = last else {
            drop(old);
            tx.delete_table(legacy).map_err(err)?;
            tx.commit().map_err(err)?;
            return Ok(None);
        };
        old.retain_in(..=last.as_slice(), |_, _| false)
            .map_err(err)?;
        groups.values().map(Vec::len).sum()
    };
    {
        let mut table = tx.open_table(grouped).map_err(err)?;
        for (key, mut indices) in groups {
            // A block split across two chunks: its first part is stored already.
            if let Some(stored) = table.get(key.as_slice()).map_err(err)? {
                indices.extend(super::search::indices(stored.value()));
            }
            indices.sort_unstable();
            indices.dedup();
            let bytes: Vec<u8> = indices.iter().flat_map(|i| i.to_be_bytes()).collect();
            table
                .insert(key.as_slice(), bytes.as_slice())
                .map_err(err)?;
        }
    }
    tx.commit().map_err(err)?;
    Ok(Some(count))
}

/// An old key → its group's key (`type.key=value` NUL height) and the tx index.
fn split_legacy_key(key: &[u8]) -> Option<(&[u8], u32)> {
    let (group, index) = key.split_at_checked(key.len().checked_sub(4)?)?;
    Some((group, u32::from_be_bytes(index.try_into().ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{AttrCondition, BlockIndex, EventTable};

    fn legacy_key(condition: &str, height: u64, index: u32) -> Vec<u8> {
        let mut key = super::super::event_key(condition.as_bytes(), height);
        key.extend_from_slice(&index.to_be_bytes());
        key
    }

    /// Old entries moved per transaction here: a block's entries span two chunks.
    const CHUNK: usize = 2_500;

    #[test]
    fn an_index_of_per_tx_entries_is_grouped_when_opened() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("i.redb");
        {
            let db = Database::create(&path).unwrap_or_else(|e| panic!("{e}"));
            let tx = db.begin_write().unwrap_or_else(|e| panic!("{e}"));
            {
                let mut old = tx
                    .open_table(LEGACY_TX_EVENTS)
                    .unwrap_or_else(|e| panic!("{e}"));
                // More entries than one chunk, one block's split across the boundary.
                for i in 0..(CHUNK as u32 + 10) {
                    let key = legacy_key("message.sender=a", 1 + u64::from(i / 1000), i % 1000);
                    old.insert(key.as_slice(), ())
                        .unwrap_or_else(|e| panic!("{e}"));
                }
                old.insert(legacy_key("transfer.amount=5", 3, 2).as_slice(), ())
                    .unwrap_or_else(|e| panic!("{e}"));
                let mut old_end = tx
                    .open_table(LEGACY_BLOCK_EVENTS)
                    .unwrap_or_else(|e| panic!("{e}"));
                old_end
                    .insert(legacy_key("epoch.number=3", 7, 0).as_slice(), ())
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            tx.commit().unwrap_or_else(|e| panic!("{e}"));
            migrate(&db, CHUNK).unwrap_or_else(|e| panic!("{e}"));
        }
        let index = BlockIndex::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let never = |_: &str| false;
        let exact = |key, value| AttrCondition {
            key,
            exact: Some(value),
            test: &never,
        };
        let search = |table, c: AttrCondition<'_>, heights| {
            index
                .search(table, &[c], heights)
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let senders = search(EventTable::Tx, exact("message.sender", "a"), 0..=u64::MAX);
        assert_eq!(senders.len(), CHUNK + 10);
        assert_eq!(senders.last(), Some(&(3, 509)));
        let split = search(EventTable::Tx, exact("message.sender", "a"), 3..=3);
        assert_eq!(split.len(), 510);
        let amounts = search(EventTable::Tx, exact("transfer.amount", "5"), 0..=9);
        assert_eq!(amounts, vec![(3, 2)]);
        let epochs = search(EventTable::Block, exact("epoch.number", "3"), 0..=9);
        assert_eq!(epochs, vec![(7, 0)]);
        let read = redb::ReadableDatabase::begin_read(&index.db).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<String> = (read.list_tables().unwrap_or_else(|e| panic!("{e}")))
            .map(|t| t.name().to_string())
            .collect();
        assert!(!names.iter().any(|n| n == "events" || n == "block_events"));
    }
}
