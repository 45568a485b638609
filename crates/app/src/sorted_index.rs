//! A sorted set of equal-length byte entries kept in state, for rankings that block execution
//! must consult without iterating over state (the dCERT election's best challengers).
//!
//! Entries live in pages of at most [`PAGE_MAX`] sorted entries (`prefix ‖ 1 ‖ page id`); a
//! directory (`prefix ‖ 0`) lists each page's first entry and id in order. An insert or removal
//! reads and writes the directory and one page, so its cost grows with the number of pages
//! (entries / 32 at worst), never with anything else; the largest entry is one page read away.

use crate::context::{KvRead, KvWrite};
use caspur_store::keys::key;
use caspur_types::TxError;

/// Most entries in one page; a fuller page splits in two.
pub const PAGE_MAX: usize = 64;

/// A sorted index under a module's key prefix, of entries `len` bytes long.
#[derive(Clone, Copy, Debug)]
pub struct SortedIndex {
    prefix: [u8; 2],
    len: usize,
}

struct Directory {
    /// (first entry, page id), sorted by first entry.
    pages: Vec<(Vec<u8>, u32)>,
    next_id: u32,
}

fn corrupt() -> TxError {
    TxError::logic("corrupt sorted index")
}

impl SortedIndex {
    /// The index under `prefix` of `len`-byte entries.
    pub const fn new(prefix: [u8; 2], len: usize) -> Self {
        SortedIndex { prefix, len }
    }

    fn dir_key(&self) -> Vec<u8> {
        key(&self.prefix, &[&[0]])
    }

    fn page_key(&self, id: u32) -> Vec<u8> {
        key(&self.prefix, &[&[1], &id.to_be_bytes()])
    }

    async fn directory(&self, kv: &mut impl KvRead) -> Result<Directory, TxError> {
        let bytes = kv.get(&self.dir_key()).await?.unwrap_or_default();
        let (head, body) = match bytes.len() {
            0 => {
                return Ok(Directory {
                    pages: Vec::new(),
                    next_id: 0,
                })
            }
            n if n >= 4 => bytes.split_at(4),
            _ => return Err(corrupt()),
        };
        let next_id = u32::from_be_bytes(head.try_into().map_err(|_| corrupt())?);
        let step = self.len + 4;
        if body.len() % step != 0 {
            return Err(corrupt());
        }
        let pages = body
            .chunks_exact(step)
            .map(|c| {
                let (first, id) = c.split_at(self.len);
                let id = u32::from_be_bytes(id.try_into().expect("4 bytes"));
                (first.to_vec(), id)
            })
            .collect();
        Ok(Directory { pages, next_id })
    }

    fn set_directory(&self, kv: &mut impl KvWrite, dir: &Directory) -> Result<(), TxError> {
        if dir.pages.is_empty() {
            return kv.delete(self.dir_key());
        }
        let mut out = dir.next_id.to_be_bytes().to_vec();
        for (first, id) in &dir.pages {
            out.extend_from_slice(first);
            out.extend_from_slice(&id.to_be_bytes());
        }
        kv.put(self.dir_key(), out)
    }

    async fn page(&self, kv: &mut impl KvRead, id: u32) -> Result<Vec<Vec<u8>>, TxError> {
        let bytes = kv.get(&self.page_key(id)).await?.ok_or_else(corrupt)?;
        if bytes.len() % self.len != 0 {
            return Err(corrupt());
        }
        Ok(bytes.chunks_exact(self.len).map(<[u8]>::to_vec).collect())
    }

    fn set_page(&self, kv: &mut impl KvWrite, id: u32, entries: &[Vec<u8>]) -> Result<(), TxError> {
        kv.put(self.page_key(id), entries.concat())
    }

    /// The directory slot whose page would hold `entry`.
    fn slot(dir: &Directory, entry: &[u8]) -> usize {
        dir.pages
            .partition_point(|(first, _)| first.as_slice() <= entry)
            .saturating_sub(1)
    }

    fn check_len(&self, entry: &[u8]) -> Result<(), TxError> {
        if entry.len() != self.len {
            return Err(TxError::logic("sorted index entry of the wrong length"));
        }
        Ok(())
    }

    /// Adds `entry` (no effect if present).
    pub async fn insert(&self, kv: &mut impl KvWrite, entry: &[u8]) -> Result<(), TxError> {
        self.check_len(entry)?;
        let mut dir = self.directory(kv).await?;
        if dir.pages.is_empty() {
            let id = dir.next_id;
            dir.next_id += 1;
            dir.pages.push((entry.to_vec(), id));
            self.set_page(kv, id, &[entry.to_vec()])?;
            return self.set_directory(kv, &dir);
        }
        let slot = Self::slot(&dir, entry);
        let id = dir.pages[slot].1;
        let mut page = self.page(kv, id).await?;
        let at = match page.binary_search_by(|e| e.as_slice().cmp(entry)) {
            Ok(_) => return Ok(()),
            Err(at) => at,
        };
        page.insert(at, entry.to_vec());
        dir.pages[slot].0 = page[0].clone();
        if page.len() > PAGE_MAX {
            let upper = page.split_off(page.len() / 2);
            let new_id = dir.next_id;
            dir.next_id += 1;
            dir.pages.insert(slot + 1, (upper[0].clone(), new_id));
            self.set_page(kv, new_id, &upper)?;
        }
        self.set_page(kv, id, &page)?;
        self.set_directory(kv, &dir)
    }

    /// Removes `entry`; returns whether it was present.
    pub async fn remove(&self, kv: &mut impl KvWrite, entry: &[u8]) -> Result<bool, TxError> {
        self.check_len(entry)?;
        let mut dir = self.directory(kv).await?;
        if dir.pages.is_empty() {
            return Ok(false);
        }
        let slot = Self::slot(&dir, entry);
        let id = dir.pages[slot].1;
        let mut page = self.page(kv, id).await?;
        let Ok(at) = page.binary_search_by(|e| e.as_slice().cmp(entry)) else {
            return Ok(false);
        };
        page.remove(at);
        if page.is_empty() {
            dir.pages.remove(slot);
            kv.delete(self.page_key(id))?;
        } else {
            dir.pages[slot].0 = page[0].clone();
            self.set_page(kv, id, &page)?;
        }
        self.set_directory(kv, &dir)?;
        Ok(true)
    }

    /// Up to `limit` entries from the largest down.
    pub async fn descending(
        &self,
        kv: &mut impl KvRead,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, TxError> {
        let dir = self.directory(kv).await?;
        let mut out = Vec::new();
        for (_, id) in dir.pages.iter().rev() {
            if out.len() >= limit {
                break;
            }
            let page = self.page(kv, *id).await?;
            out.extend(page.into_iter().rev().take(limit - out.len()));
        }
        Ok(out)
    }

    /// The largest entry.
    pub async fn last(&self, kv: &mut impl KvRead) -> Result<Option<Vec<u8>>, TxError> {
        Ok(self.descending(kv, 1).await?.pop())
    }
}
