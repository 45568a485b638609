//! Why the node stopped: recorded where the next start and the supervisor look for it
//! (`upgrade-info.json`, `bad-block.json`) and told to the operator with the exit code the
//! supervisor acts on.

use anyhow::{Context, Result};
use caspur_consensus::launch;
use caspur_node::index::BlockIndex;
use std::path::Path;

/// Records why the node stopped where the next start (or the supervisor) looks for it.
pub fn record(
    data_dir: &Path,
    index: &BlockIndex,
    mut stopped: launch::Stopped,
) -> Result<launch::Stopped> {
    match &mut stopped {
        launch::Stopped::UpgradeNeeded { info, halted_at } => {
            info.committed_height = index.latest()?.map_or(0, |b| b.height);
            write_upgrade_info(data_dir, info)?;
            backdate_upgrade_info(data_dir, *halted_at)?;
        }
        launch::Stopped::BadBlock { height, error } => {
            write_bad_block(data_dir, *height, error)?;
        }
        launch::Stopped::Interrupted => {}
    }
    Ok(stopped)
}

/// After the node stopped: an upgrade halt (`upgrade-info.json` already written) exits the
/// process with [`caspur_types::upgrade_info::UPGRADE_EXIT_CODE`]; a block this node cannot
/// apply exits with [`launch::BAD_BLOCK_EXIT_CODE`] after saying what failed and what to do.
pub fn finish(stopped: launch::Stopped) -> Result<()> {
    use caspur_types::upgrade_info::UPGRADE_EXIT_CODE;
    match stopped {
        launch::Stopped::Interrupted => Ok(()),
        launch::Stopped::UpgradeNeeded { info, .. } => {
            eprintln!(
                "UPGRADE {:?} NEEDED at height {}: this binary has no handler for it. Install the plan's binary (caspurvisor does it) and restart; see docs/upgrades.md. Exiting with code {UPGRADE_EXIT_CODE}.",
                info.name, info.height
            );
            std::process::exit(UPGRADE_EXIT_CODE);
        }
        launch::Stopped::BadBlock { height, error } => {
            eprintln!("{}", bad_block_message(height, &error));
            std::process::exit(launch::BAD_BLOCK_EXIT_CODE);
        }
    }
}

/// The record of the block this node last stopped at (`data/bad-block.json`): lets a binary
/// carrying a failing plan's handler start again at that height.
const BAD_BLOCK_FILE: &str = "bad-block.json";

fn write_bad_block(data_dir: &Path, height: u64, error: &str) -> Result<()> {
    let path = data_dir.join(BAD_BLOCK_FILE);
    std::fs::write(
        &path,
        serde_json::json!({"height": height, "error": error}).to_string(),
    )
    .with_context(|| format!("writing {}", path.display()))
}

pub fn read_bad_block(data_dir: &Path) -> Option<u64> {
    let bytes = std::fs::read(data_dir.join(BAD_BLOCK_FILE)).ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes).ok()?["height"].as_u64()
}

/// What an operator reads when block `height` cannot be applied.
pub fn bad_block_message(height: u64, error: &str) -> String {
    format!(
        "BLOCK {height} CANNOT BE APPLIED by this node: {error}. Nothing of it was committed; the node stopped at height {}. \
         If other nodes applied it, this node's storage or binary is at fault: check the disk, then restart (or restore a backup, or `caspurd rollback`). \
         If no node can apply it (a failing upgrade handler or block hook), the chain needs a fixed binary: an emergency upgrade (docs/upgrades.md), \
         or, when the failure is in the upgrade due at {height}, restart every validator with `--unsafe-skip-upgrade {height}`. \
         Exiting with code {}.",
        height.saturating_sub(1),
        launch::BAD_BLOCK_EXIT_CODE
    )
}

/// Writes `upgrade-info.json` into `data_dir` (atomically: a supervisor may be reading).
pub fn write_upgrade_info(
    data_dir: &Path,
    info: &caspur_types::upgrade_info::UpgradeInfo,
) -> Result<()> {
    let path = data_dir.join(caspur_types::upgrade_info::UPGRADE_INFO_FILE);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(info)?)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))
}

/// Dates `upgrade-info.json` at the halt itself: a supervisor counts the switch's downtime
/// from the file's modification time, and the node stays up a moment after the halt
/// ([`launch::HALT_SETTLE`]).
fn backdate_upgrade_info(data_dir: &Path, halted_at: std::time::SystemTime) -> Result<()> {
    let path = data_dir.join(caspur_types::upgrade_info::UPGRADE_INFO_FILE);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_modified(halted_at))
        .with_context(|| format!("cannot date {}", path.display()))
}
