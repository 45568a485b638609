//! A sorted set of equal-length byte entries kept in state, for rankings that block execution
//! must consult without iterating over state (the dCERT election's best challengers).
//!
//! Entries live in pages of at most [`PAGE_MAX`] sorted entries (`prefix ‖ 1 ‖ page id`); a
//! directory (`prefix ‖ 0`) lists each page's first entry and id in order. An insert or removal
//! reads and writes the directory and one page, so its cost grows with the number of pages
//! (entries / 32 at worst), never with anything else; the largest entry is one page read away.

use crate::context::{KvRead, KvWrite};
use crate::error::ExecError;
use caspur_store::keys::key;

/// Most entries in one page; a fuller page splits in two.
pub const PAGE_MAX: usize = 64;

/// A sorted index under a module's key prefix, of entries `len` bytes long.
#[derive(Clone, Copy, Debug)]
pub struct SortedIndex {
    prefix: [u8; 2],
    len: usize,
}

/// The directory as stored: the next page id (4 bytes), then (first entry, page id) per page
/// in order; read and edited in place, without unpacking.
struct Directory {
    bytes: Vec<u8>,
    len: usize,
}

impl Directory {
    fn step(&self) -> usize {
        self.len + 4
    }

    fn count(&self) -> usize {
        self.bytes.len().saturating_sub(4) / self.step()
    }

    fn at(&self, i: usize) -> usize {
        4 + i * self.step()
    }

    fn first(&self, i: usize) -> &[u8] {
        let at = self.at(i);
        &self.bytes[at..at + self.len]
    }

    fn id(&self, i: usize) -> u32 {
        let at = self.at(i) + self.len;
        be_u32(&self.bytes[at..at + 4])
    }

    fn set_first(&mut self, i: usize, first: &[u8]) {
        let at = self.at(i);
        self.bytes[at..at + self.len].copy_from_slice(first);
    }

    /// Takes a fresh page id.
    fn take_id(&mut self) -> u32 {
        if self.bytes.is_empty() {
            self.bytes.extend_from_slice(&0u32.to_be_bytes());
        }
        let id = be_u32(&self.bytes[..4]);
        self.bytes[..4].copy_from_slice(&(id + 1).to_be_bytes());
        id
    }

    fn insert(&mut self, i: usize, first: &[u8], id: u32) {
        let at = self.at(i);
        let mut entry = first.to_vec();
        entry.extend_from_slice(&id.to_be_bytes());
        self.bytes.splice(at..at, entry);
    }

    fn remove(&mut self, i: usize) {
        let at = self.at(i);
        self.bytes.drain(at..at + self.step());
    }

    /// The slot whose page would hold `entry`.
    fn slot(&self, entry: &[u8]) -> usize {
        let (mut lo, mut hi) = (0, self.count());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.first(mid) <= entry {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo.saturating_sub(1)
    }
}

fn corrupt() -> ExecError {
    ExecError::logic("corrupt sorted index")
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

    async fn directory(&self, kv: &mut impl KvRead) -> Result<Directory, ExecError> {
        let bytes = kv.get(&self.dir_key()).await?.unwrap_or_default();
        if !bytes.is_empty() && (bytes.len() < 4 || (bytes.len() - 4) % (self.len + 4) != 0) {
            return Err(corrupt());
        }
        Ok(Directory {
            bytes,
            len: self.len,
        })
    }

    fn set_directory(&self, kv: &mut impl KvWrite, dir: &Directory) -> Result<(), ExecError> {
        if dir.count() == 0 {
            return kv.delete(self.dir_key());
        }
        kv.put(self.dir_key(), dir.bytes.clone())
    }

    async fn page(&self, kv: &mut impl KvRead, id: u32) -> Result<Vec<Vec<u8>>, ExecError> {
        let bytes = kv.get(&self.page_key(id)).await?.ok_or_else(corrupt)?;
        if bytes.len() % self.len != 0 {
            return Err(corrupt());
        }
        Ok(bytes.chunks_exact(self.len).map(<[u8]>::to_vec).collect())
    }

    fn set_page(
        &self,
        kv: &mut impl KvWrite,
        id: u32,
        entries: &[Vec<u8>],
    ) -> Result<(), ExecError> {
        kv.put(self.page_key(id), entries.concat())
    }

    fn check_len(&self, entry: &[u8]) -> Result<(), ExecError> {
        if entry.len() != self.len {
            return Err(ExecError::logic("sorted index entry of the wrong length"));
        }
        Ok(())
    }

    /// Adds `entry` (no effect if present).
    pub async fn insert(&self, kv: &mut impl KvWrite, entry: &[u8]) -> Result<(), ExecError> {
        self.check_len(entry)?;
        let mut dir = self.directory(kv).await?;
        if dir.count() == 0 {
            let id = dir.take_id();
            dir.insert(0, entry, id);
            self.set_page(kv, id, &[entry.to_vec()])?;
            return self.set_directory(kv, &dir);
        }
        let slot = dir.slot(entry);
        let id = dir.id(slot);
        let mut page = self.page(kv, id).await?;
        let at = match page.binary_search_by(|e| e.as_slice().cmp(entry)) {
            Ok(_) => return Ok(()),
            Err(at) => at,
        };
        page.insert(at, entry.to_vec());
        // The directory changes only when this page's first entry does or the page splits.
        let mut dir_changed = at == 0;
        dir.set_first(slot, &page[0]);
        if page.len() > PAGE_MAX {
            let upper = page.split_off(page.len() / 2);
            let new_id = dir.take_id();
            dir.insert(slot + 1, &upper[0], new_id);
            self.set_page(kv, new_id, &upper)?;
            dir_changed = true;
        }
        self.set_page(kv, id, &page)?;
        if dir_changed {
            self.set_directory(kv, &dir)?;
        }
        Ok(())
    }

    /// Removes `entry`; returns whether it was present.
    pub async fn remove(&self, kv: &mut impl KvWrite, entry: &[u8]) -> Result<bool, ExecError> {
        self.check_len(entry)?;
        let mut dir = self.directory(kv).await?;
        if dir.count() == 0 {
            return Ok(false);
        }
        let slot = dir.slot(entry);
        let id = dir.id(slot);
        let mut page = self.page(kv, id).await?;
        let Ok(at) = page.binary_search_by(|e| e.as_slice().cmp(entry)) else {
            return Ok(false);
        };
        page.remove(at);
        if page.is_empty() {
            dir.remove(slot);
            kv.delete(self.page_key(id))?;
            self.set_directory(kv, &dir)?;
        } else {
            self.set_page(kv, id, &page)?;
            if at == 0 {
                dir.set_first(slot, &page[0]);
                self.set_directory(kv, &dir)?;
            }
        }
        Ok(true)
    }

    /// Up to `limit` entries from the largest down.
    pub async fn descending(
        &self,
        kv: &mut impl KvRead,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, ExecError> {
        let dir = self.directory(kv).await?;
        let mut out = Vec::new();
        for slot in (0..dir.count()).rev() {
            if out.len() >= limit {
                break;
            }
            let page = self.page(kv, dir.id(slot)).await?;
            out.extend(page.into_iter().rev().take(limit - out.len()));
        }
        Ok(out)
    }

    /// The largest entry.
    pub async fn last(&self, kv: &mut impl KvRead) -> Result<Option<Vec<u8>>, ExecError> {
        Ok(self.descending(kv, 1).await?.pop())
    }
}
/// A big-endian u32 from exactly four bytes (the page layout's id slots).
fn be_u32(four: &[u8]) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(four);
    u32::from_be_bytes(b)
}
