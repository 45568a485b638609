//! Getting a plan's binary in place: verify a pre-placed one, or fetch it from the plan's
//! location (`file://`, `http://`, `https://`) with a progress bar, always checking its
//! SHA-256 against the plan before the visor may switch to it.

use crate::layout::{make_executable, Layout};
use anyhow::{bail, Context, Result};
use caspur_types::upgrade_info::{platform, PlanInfo, UpgradeInfo};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Why a plan's binary is not usable yet.
#[derive(Debug, PartialEq, Eq)]
pub enum NotReady {
    /// Nothing at the expected path (and no download allowed or possible).
    Missing(String),
    /// A binary is there but its checksum is not the plan's.
    ChecksumMismatch(String),
}

impl std::fmt::Display for NotReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotReady::Missing(m) | NotReady::ChecksumMismatch(m) => f.write_str(m),
        }
    }
}

/// The lower-case hex SHA-256 of a file.
pub fn sha256_file(path: &Path) -> Result<String> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    caspur_types::upgrade_info::sha256_hex(file)
        .with_context(|| format!("cannot read {}", path.display()))
}

/// Makes sure plan `info`'s binary for this platform is at `upgrades/<name>/bin/caspurd` with
/// the plan's checksum: verifies a pre-placed one, otherwise downloads it when `download`.
pub fn ensure(
    layout: &Layout,
    info: &UpgradeInfo,
    download: bool,
) -> Result<std::result::Result<PathBuf, NotReady>> {
    let plan = PlanInfo::parse(&info.info)
        .map_err(|e| anyhow::anyhow!("plan {:?} carries unusable info: {e}", info.name))?;
    let Some(wanted) = plan.for_this_platform() else {
        return Ok(Err(NotReady::Missing(format!(
            "plan {:?} names no binary for {}; nothing can be verified",
            info.name,
            platform()
        ))));
    };
    let target = Layout::binary_in(&layout.upgrade(&info.name));
    if !target.exists() {
        if !download {
            return Ok(Err(NotReady::Missing(format!(
                "binary for upgrade {:?} missing at {} (plan location {}; pass --allow-download to fetch it)",
                info.name,
                target.display(),
                wanted.url
            ))));
        }
        if let Err(e) = fetch(&wanted.url, &target) {
            return Ok(Err(NotReady::Missing(format!(
                "cannot fetch the binary of upgrade {:?} from {}: {e:#}",
                info.name, wanted.url
            ))));
        }
    }
    let actual = sha256_file(&target)?;
    if actual != wanted.sha256 {
        return Ok(Err(NotReady::ChecksumMismatch(format!(
            "checksum mismatch: {} has SHA-256 {actual}, plan {:?} requires {}; refusing to switch",
            target.display(),
            info.name,
            wanted.sha256
        ))));
    }
    make_executable(&target)?;
    Ok(Ok(target))
}

/// Downloads `url` to `target` (through a temporary file), showing progress.
pub fn fetch(url: &str, target: &Path) -> Result<()> {
    std::fs::create_dir_all(target.parent().context("target has no directory")?)?;
    let tmp = target.with_extension("download");
    let (mut reader, len): (Box<dyn Read>, Option<u64>) =
        if let Some(path) = url.strip_prefix("file://") {
            let f = std::fs::File::open(path).with_context(|| format!("cannot open {path}"))?;
            let len = f.metadata().ok().map(|m| m.len());
            (Box::new(f), len)
        } else if url.starts_with("http://") || url.starts_with("https://") {
            let resp = ureq::get(url)
                .call()
                .with_context(|| format!("GET {url}"))?;
            let len = resp.header("Content-Length").and_then(|l| l.parse().ok());
            (Box::new(resp.into_reader()), len)
        } else {
            bail!("unsupported URL scheme in {url}");
        };
    let bar = match len {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(format!("fetching {url}"));
    let mut out =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])?;
        bar.inc(n as u64);
    }
    out.sync_all()?;
    bar.finish_and_clear();
    std::fs::rename(&tmp, target)?;
    tracing::info!(url, target = %target.display(), "fetched upgrade binary");
    Ok(())
}

/// Signals readiness for `plan` with the checksum of the binary the visor will run for it
/// (`upgrades/<plan>/bin/caspurd`), through the current binary's `tx upgrade signal-ready`;
/// returns its exit code. Hashing the visor's own copy means a signal can never vouch for a
/// binary other than the one that will run.
pub fn signal_ready(layout: &Layout, plan: &str, from: &str, tx_flags: &[String]) -> Result<i32> {
    let placed = Layout::binary_in(&layout.upgrade(plan));
    if !placed.exists() {
        anyhow::bail!(
            "no binary for plan {plan:?} at {}: place it first (caspurvisor add-upgrade {plan} PATH)",
            placed.display()
        );
    }
    let sha256 = sha256_file(&placed)?;
    let current = Layout::binary_in(&layout.current()?);
    let status = std::process::Command::new(&current)
        .args([
            "tx",
            "upgrade",
            "signal-ready",
            plan,
            "--sha256",
            &sha256,
            "--from",
            from,
        ])
        .args(tx_flags)
        .arg("--home")
        .arg(&layout.home)
        .status()
        .with_context(|| format!("cannot run {}", current.display()))?;
    Ok(status.code().unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info_for(url: &str, sha256: &str) -> UpgradeInfo {
        UpgradeInfo {
            name: "v2".into(),
            height: 10,
            info: serde_json::json!({"binaries": {platform(): {"url": url, "sha256": sha256}}})
                .to_string(),
            committed_height: 9,
        }
    }

    /// Serves `body` once over plain HTTP/1.1 on 127.0.0.1; returns the URL.
    fn serve_once(body: Vec<u8>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/caspurd", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = conn.read(&mut request);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            conn.write_all(head.as_bytes()).unwrap();
            conn.write_all(&body).unwrap();
        });
        url
    }

    #[test]
    fn fetches_over_file_and_http_and_refuses_a_wrong_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("caspurd-v2");
        std::fs::write(&source, b"#!/bin/sh\necho v2\n").unwrap();
        let sha = sha256_file(&source).unwrap();
        let file_url = format!("file://{}", source.display());

        let layout = Layout::new(&dir.path().join("a"));
        let missing = ensure(&layout, &info_for(&file_url, &sha), false).unwrap();
        assert!(matches!(missing, Err(NotReady::Missing(m)) if m.contains("--allow-download")));
        let placed = ensure(&layout, &info_for(&file_url, &sha), true)
            .unwrap()
            .unwrap();
        assert_eq!(sha256_file(&placed).unwrap(), sha);

        let layout = Layout::new(&dir.path().join("b"));
        let url = serve_once(std::fs::read(&source).unwrap());
        let placed = ensure(&layout, &info_for(&url, &sha), true)
            .unwrap()
            .unwrap();
        assert_eq!(sha256_file(&placed).unwrap(), sha);

        let wrong = "0".repeat(64);
        let refused = ensure(&layout, &info_for(&url, &wrong), true).unwrap();
        assert!(matches!(refused, Err(NotReady::ChecksumMismatch(m)) if m.contains("refusing")));
    }
}
