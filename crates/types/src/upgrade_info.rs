//! The upgrade plan's `info` (per platform: where the binary is and its SHA-256) and the
//! `upgrade-info.json` a halting node writes for its supervisor. Shared by the state machine
//! (which validates plans), the node (which writes the file) and caspurvisor (which reads it).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Exit code of a node that halted for an upgrade (after writing `upgrade-info.json`):
/// `EX_TEMPFAIL` of sysexits.h — "try again later", here: with the plan's binary.
pub const UPGRADE_EXIT_CODE: i32 = 75;

/// File name of the halt record in the node's data directory.
pub const UPGRADE_INFO_FILE: &str = "upgrade-info.json";

/// Longest plan name (it names a directory of the visor's layout).
pub const MAX_NAME_LEN: usize = 64;

/// One platform's binary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryRef {
    /// `https://…`, `http://…` or `file:///…`.
    pub url: String,
    /// Lower-case hex SHA-256 of the binary.
    pub sha256: String,
}

/// A plan's `info`: `{"binaries": {"linux/amd64": {"url": …, "sha256": …}}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanInfo {
    /// Binaries by platform (`<os>/<arch>` as Go names them: linux/amd64, darwin/arm64, …).
    pub binaries: BTreeMap<String, BinaryRef>,
}

impl PlanInfo {
    /// Parses and checks `info`: at least one binary, each with a URL of a supported scheme
    /// and a 64-digit lower-case hex checksum.
    pub fn parse(info: &str) -> Result<PlanInfo, String> {
        let parsed: PlanInfo = serde_json::from_str(info).map_err(|e| {
            format!("plan info must be JSON {{\"binaries\": {{\"<os>/<arch>\": {{\"url\": …, \"sha256\": …}}}}}}: {e}")
        })?;
        if parsed.binaries.is_empty() {
            return Err("plan info names no binary".into());
        }
        for (platform, b) in &parsed.binaries {
            if platform.split('/').count() != 2 || platform.split('/').any(str::is_empty) {
                return Err(format!("platform {platform:?} must be <os>/<arch>"));
            }
            if !["https://", "http://", "file://"]
                .iter()
                .any(|s| b.url.starts_with(s))
            {
                return Err(format!(
                    "binary URL {:?} for {platform} must start with https://, http:// or file://",
                    b.url
                ));
            }
            if !is_sha256_hex(&b.sha256) {
                return Err(format!(
                    "checksum {:?} for {platform} must be 64 lower-case hex digits (SHA-256)",
                    b.sha256
                ));
            }
        }
        Ok(parsed)
    }

    /// Whether `sha256` is the checksum of one of the plan's binaries.
    pub fn has_checksum(&self, sha256: &str) -> bool {
        self.binaries.values().any(|b| b.sha256 == sha256)
    }

    /// The binary for this machine's platform.
    pub fn for_this_platform(&self) -> Option<&BinaryRef> {
        self.binaries.get(&platform())
    }
}

/// The lower-case hex SHA-256 of everything `reader` yields (a binary's checksum as plans
/// carry it).
pub fn sha256_hex(mut reader: impl std::io::Read) -> std::io::Result<String> {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut reader, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Whether `s` is a lower-case hex SHA-256.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// Checks a plan name: 1–64 letters, digits, `.`, `_`, `-`, starting with a letter or digit
/// (it becomes a directory name, so no `/` and no `..`).
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "plan name {name:?} must be 1-{MAX_NAME_LEN} letters, digits, '.', '_' or '-', starting with a letter or digit"
        ))
    }
}

/// This machine's platform as plans name it (`linux/amd64`, `darwin/arm64`, …).
pub fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}/{arch}", std::env::consts::OS)
}

/// What a node halting for an upgrade writes to `<data dir>/upgrade-info.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeInfo {
    /// The plan's name.
    pub name: String,
    /// The height the node halted at (the first block the new binary executes).
    pub height: u64,
    /// The plan's `info` (JSON text).
    pub info: String,
    /// The node's last committed height when it halted (a supervisor's rollback target).
    #[serde(default)]
    pub committed_height: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_info() {
        let sha = "ab".repeat(32);
        let ok =
            format!(r#"{{"binaries":{{"linux/amd64":{{"url":"file:///x","sha256":"{sha}"}}}}}}"#);
        let info = PlanInfo::parse(&ok).unwrap();
        assert!(info.has_checksum(&sha));
        assert!(PlanInfo::parse("{}").is_err());
        assert!(PlanInfo::parse(&ok.replace("file://", "ftp://")).is_err());
        assert!(PlanInfo::parse(&ok.replace(&sha, &"AB".repeat(32))).is_err());
        assert!(PlanInfo::parse(&ok.replace("linux/amd64", "linux")).is_err());
        assert!(check_name("v2.0-rc1").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
