//! Cheap backups of a stopped node's data directory (DESIGN §1, fact 12).
//!
//! The store is append-mostly: QMDB journals and marshal's archive only grow (or lose whole
//! pruned sections), while Commonware `Metadata` partitions (their `left`/`right` blobs) are
//! rewritten in place. A **checkpoint** therefore hard-links every append-only file — costing
//! no data blocks, and keeping pruned files alive — and copies only the metadata blobs; it
//! records the committed height. Restoring brings back the metadata blobs and any file deleted
//! since, after which `caspurd rollback --to-height <height>` cuts what was appended (the
//! rewind of DESIGN fact 3). The block index (`index.redb`, transactional) is not copied: the
//! rollback truncates it to the height. A **full** backup copies everything, for operators who
//! want one.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How a backup is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Hard links plus copies of the small in-place files.
    Checkpoint,
    /// A full copy of the data directory.
    Full,
    /// No backup (rollback then relies on the rewind alone).
    None,
}

/// A backup's record (`checkpoint.json` inside it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The plan it was taken for.
    pub plan: String,
    /// The node's last committed height when taken.
    pub height: u64,
    /// How it was taken.
    pub mode: Mode,
    /// Files hard-linked.
    pub linked_files: u64,
    /// Files copied.
    pub copied_files: u64,
    /// Bytes copied (what the backup costs on disk; links cost none).
    pub copied_bytes: u64,
    /// Bytes of the data directory it covers.
    pub data_bytes: u64,
    /// Time taken, in milliseconds.
    pub millis: u64,
}

/// Metadata blobs are named by their side, hex-encoded: "left", "right".
fn rewritten_in_place(path: &Path) -> bool {
    matches!(
        path.file_name().and_then(|n| n.to_str()),
        Some("6c656674") | Some("7269676874")
    )
}

/// Not backed up: the transactional block index and the halt record.
fn skipped(relative: &Path) -> bool {
    matches!(
        relative.to_str(),
        Some("index.redb") | Some(caspur_types::upgrade_info::UPGRADE_INFO_FILE)
    )
}

fn files(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?
        {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path().strip_prefix(root)?.to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Backs up `data_dir` (the node stopped, last committed at `height`) into `backup` for
/// `plan`, replacing an older backup there.
pub fn create(
    data_dir: &Path,
    backup: &Path,
    plan: &str,
    height: u64,
    mode: Mode,
) -> Result<Record> {
    let started = Instant::now();
    if backup.exists() {
        std::fs::remove_dir_all(backup)
            .with_context(|| format!("cannot clear {}", backup.display()))?;
    }
    let target = backup.join("data");
    std::fs::create_dir_all(&target)?;
    let mut record = Record {
        plan: plan.into(),
        height,
        mode,
        linked_files: 0,
        copied_files: 0,
        copied_bytes: 0,
        data_bytes: 0,
        millis: 0,
    };
    if mode != Mode::None {
        for rel in files(data_dir)? {
            let (from, to) = (data_dir.join(&rel), target.join(&rel));
            let len = std::fs::metadata(&from)?.len();
            record.data_bytes += len;
            if skipped(&rel) && mode == Mode::Checkpoint {
                continue;
            }
            create_parent(&to)?;
            if mode == Mode::Full || rewritten_in_place(&rel) {
                std::fs::copy(&from, &to)
                    .with_context(|| format!("cannot copy {}", from.display()))?;
                record.copied_files += 1;
                record.copied_bytes += len;
            } else {
                std::fs::hard_link(&from, &to)
                    .with_context(|| format!("cannot link {}", from.display()))?;
                record.linked_files += 1;
            }
        }
    }
    record.millis = started.elapsed().as_millis() as u64;
    crate::layout::write_atomic(
        &backup.join("checkpoint.json"),
        &serde_json::to_vec_pretty(&record)?,
    )?;
    Ok(record)
}

/// Reads a backup's record.
pub fn read(backup: &Path) -> Result<Record> {
    let path = backup.join("checkpoint.json");
    let bytes = std::fs::read(&path).with_context(|| format!("no backup at {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is corrupt", path.display()))
}

/// Puts a backup back into `data_dir` (the node stopped). After a checkpoint, the caller
/// rewinds with `caspurd rollback --to-height <record.height>`.
pub fn restore(data_dir: &Path, backup: &Path) -> Result<Record> {
    let record = read(backup)?;
    let source = backup.join("data");
    match record.mode {
        Mode::None => {}
        Mode::Full => {
            std::fs::remove_dir_all(data_dir)
                .with_context(|| format!("cannot clear {}", data_dir.display()))?;
            std::fs::create_dir_all(data_dir)?;
            for rel in files(&source)? {
                let to = data_dir.join(&rel);
                create_parent(&to)?;
                std::fs::copy(source.join(&rel), &to)?;
            }
        }
        Mode::Checkpoint => {
            use std::os::unix::fs::MetadataExt as _;
            for rel in files(&source)? {
                let (from, to) = (source.join(&rel), data_dir.join(&rel));
                create_parent(&to)?;
                if rewritten_in_place(&rel) {
                    std::fs::copy(&from, &to)?;
                    continue;
                }
                // A linked file still shared with the live one needs nothing; one deleted
                // (pruned) or replaced since comes back as a link.
                let same = std::fs::metadata(&to)
                    .map(|m| m.ino() == std::fs::metadata(&from).map(|f| f.ino()).unwrap_or(0))
                    .unwrap_or(false);
                if !same {
                    let _ = std::fs::remove_file(&to);
                    std::fs::hard_link(&from, &to)?;
                }
            }
        }
    }
    if !data_dir.is_dir() {
        bail!("{} is missing after the restore", data_dir.display());
    }
    Ok(record)
}

/// Creates the directory `file` goes in.
fn create_parent(file: &Path) -> std::io::Result<()> {
    match file.parent() {
        Some(dir) => std::fs::create_dir_all(dir),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(p: &Path, bytes: &[u8]) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    #[test]
    fn a_checkpoint_copies_only_metadata_and_restores_deleted_and_rewritten_files() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        write(
            &data.join("caspur-state-log_data/0000000000000000"),
            &[1; 100_000],
        );
        write(&data.join("caspur-blocks-metadata/6c656674"), b"left-v1");
        write(&data.join("index.redb"), &[2; 50_000]);
        let backup = dir.path().join("backup");
        let r = create(&data, &backup, "v2", 10, Mode::Checkpoint).unwrap();
        assert_eq!((r.linked_files, r.copied_files, r.copied_bytes), (1, 1, 7));
        assert_eq!(r.data_bytes, 150_007);
        // The new binary rewrites metadata and prunes a journal section.
        write(&data.join("caspur-blocks-metadata/6c656674"), b"left-v2!");
        std::fs::remove_file(data.join("caspur-state-log_data/0000000000000000")).unwrap();
        let back = restore(&data, &backup).unwrap();
        assert_eq!(back.height, 10);
        assert_eq!(
            std::fs::read(data.join("caspur-blocks-metadata/6c656674")).unwrap(),
            b"left-v1"
        );
        assert_eq!(
            std::fs::read(data.join("caspur-state-log_data/0000000000000000"))
                .unwrap()
                .len(),
            100_000
        );
        // A full backup costs the whole directory and puts back every byte, index included.
        let full = create(&data, &dir.path().join("full"), "v2", 10, Mode::Full).unwrap();
        assert_eq!(full.copied_bytes, full.data_bytes);
        write(&data.join("index.redb"), b"rewritten");
        write(&data.join("caspur-new-partition/0000000000000000"), b"new");
        restore(&data, &dir.path().join("full")).unwrap();
        assert_eq!(
            std::fs::read(data.join("index.redb")).unwrap().len(),
            50_000
        );
        assert!(!data.join("caspur-new-partition").exists());
    }
}
