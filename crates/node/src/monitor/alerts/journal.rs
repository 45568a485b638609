//! The alert journal (`data/alerts/journal.jsonl`): every transition, numbered, appended as
//! one JSON line — what webhook deliveries read from their cursor, so an alert is sent once
//! even across restarts. It keeps its newest [`KEEP_ON_COMPACT`] lines once it outgrows
//! [`MAX_JOURNAL_BYTES`].

use super::engine::Transition;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;

/// Size at which the journal is compacted.
pub const MAX_JOURNAL_BYTES: u64 = 4 << 20;
/// Lines kept by a compaction.
pub const KEEP_ON_COMPACT: usize = 1_000;

/// One journal line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Position (from 1, never reused).
    pub seq: u64,
    /// The transition.
    #[serde(flatten)]
    pub transition: Transition,
}

/// The journal file.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    next: u64,
}

impl Journal {
    /// Opens (or starts) the journal at `path`.
    pub fn open(path: PathBuf) -> Self {
        let next = read_all(&path).last().map_or(1, |e| e.seq + 1);
        Journal { path, next }
    }

    /// The seq the next entry gets.
    pub fn next_seq(&self) -> u64 {
        self.next
    }

    /// Appends `t`.
    pub fn append(&mut self, t: &Transition) {
        let entry = Entry {
            seq: self.next,
            transition: t.clone(),
        };
        self.next += 1;
        let written = serde_json::to_string(&entry)
            .map_err(std::io::Error::other)
            .and_then(|line| {
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)?;
                writeln!(f, "{line}")?;
                f.sync_data()
            });
        if let Err(e) = written {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot write the alert journal");
        }
        if std::fs::metadata(&self.path).is_ok_and(|m| m.len() > MAX_JOURNAL_BYTES) {
            self.compact();
        }
    }

    fn compact(&self) {
        let all = read_all(&self.path);
        let keep = &all[all.len().saturating_sub(KEEP_ON_COMPACT)..];
        let text: String = keep
            .iter()
            .filter_map(|e| serde_json::to_string(e).ok())
            .map(|l| l + "\n")
            .collect();
        if let Err(e) = crate::files::write_atomic(&self.path, text.as_bytes()) {
            tracing::warn!(error = %e, "cannot compact the alert journal");
        }
    }
}

/// The entries of the journal at `path` with `seq >= from`, at most `max`.
pub fn read_from(path: &std::path::Path, from: u64, max: usize) -> Vec<Entry> {
    read_all(path)
        .into_iter()
        .filter(|e| e.seq >= from)
        .take(max)
        .collect()
}

fn read_all(path: &std::path::Path) -> Vec<Entry> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}
