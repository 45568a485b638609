//! The visor's directory layout under the node home (as cosmovisor's):
//!
//! ```text
//! <home>/visor/genesis/bin/caspurd          the chain's first binary
//! <home>/visor/upgrades/<plan>/bin/caspurd  each plan's binary
//! <home>/visor/current -> genesis | upgrades/<plan>
//! <home>/visor/backups/<plan>/              the checkpoint taken before switching
//! <home>/visor/status.json                  what the visor is doing (for operators and tools)
//! <home>/visor/state.json                   what it must remember across restarts
//! ```

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// Name of the node binary inside each `bin/`.
pub const BINARY: &str = "caspurd";

/// Paths of one home's visor.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The node home.
    pub home: PathBuf,
}

impl Layout {
    /// The layout under `home`.
    pub fn new(home: &Path) -> Self {
        Layout {
            home: home.to_path_buf(),
        }
    }

    /// `<home>/visor`.
    pub fn root(&self) -> PathBuf {
        self.home.join("visor")
    }

    /// `<home>/data`: the node's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.home.join("data")
    }

    /// The directory of the genesis binary.
    pub fn genesis(&self) -> PathBuf {
        self.root().join("genesis")
    }

    /// The directory of plan `name`'s binary.
    pub fn upgrade(&self, name: &str) -> PathBuf {
        self.root().join("upgrades").join(name)
    }

    /// The binary inside a version directory.
    pub fn binary_in(dir: &Path) -> PathBuf {
        dir.join("bin").join(BINARY)
    }

    /// The `current` link.
    pub fn current_link(&self) -> PathBuf {
        self.root().join("current")
    }

    /// The version directory `current` points at.
    pub fn current(&self) -> Result<PathBuf> {
        let link = self.current_link();
        let target = std::fs::read_link(&link).with_context(|| {
            format!(
                "{} is missing: run `caspurvisor init` first",
                link.display()
            )
        })?;
        Ok(self.root().join(target))
    }

    /// Points `current` at `dir` (a directory under the visor root), atomically.
    pub fn switch_to(&self, dir: &Path) -> Result<()> {
        let relative = dir
            .strip_prefix(self.root())
            .with_context(|| format!("{} is outside the visor directory", dir.display()))?;
        let tmp = self.root().join("current.tmp");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(relative, &tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        std::fs::rename(&tmp, self.current_link())
            .with_context(|| format!("cannot switch {}", self.current_link().display()))
    }

    /// `<home>/visor/backups/<name>`.
    pub fn backup(&self, name: &str) -> PathBuf {
        self.root().join("backups").join(name)
    }

    /// `<home>/visor/status.json`.
    pub fn status_file(&self) -> PathBuf {
        self.root().join("status.json")
    }

    /// `<home>/visor/state.json`.
    pub fn state_file(&self) -> PathBuf {
        self.root().join("state.json")
    }

    /// The node's halt record.
    pub fn upgrade_info(&self) -> PathBuf {
        self.data_dir()
            .join(caspur_types::upgrade_info::UPGRADE_INFO_FILE)
    }
}

/// Copies `binary` to `dir/bin/caspurd`, executable.
pub fn install(binary: &Path, dir: &Path) -> Result<PathBuf> {
    if !binary.is_file() {
        bail!("{} is not a file", binary.display());
    }
    let target = Layout::binary_in(dir);
    if let Some(bin_dir) = target.parent() {
        std::fs::create_dir_all(bin_dir)?;
    }
    let tmp = target.with_extension("tmp");
    std::fs::copy(binary, &tmp)
        .with_context(|| format!("cannot copy {} to {}", binary.display(), tmp.display()))?;
    make_executable(&tmp)?;
    std::fs::rename(&tmp, &target)?;
    Ok(target)
}

/// Sets the executable bits.
pub fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut perms = std::fs::metadata(path)?.permissions();
    perms.set_mode(0o755);
    std::fs::set_permissions(path, perms)
        .with_context(|| format!("cannot make {} executable", path.display()))
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
