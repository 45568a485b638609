//! `caspurvisor bench`: what a pre-upgrade backup costs as the data directory grows, and how
//! long `caspurd rollback` takes to rewind 100 heights. For each target height a dev chain
//! (`caspurd dev`, 10 ms blocks) runs in a fresh home until it gets there and stops; then the
//! checkpoint and a full copy of the same data directory are timed and sized, and the node is
//! rolled back 100 heights.

use crate::checkpoint::{self, Mode};
use crate::supervisor::committed_height;
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Runs a dev chain in `home` until `target` blocks are committed, then stops it.
fn grow(caspurd: &Path, home: &Path, target: u64) -> Result<u64> {
    let (rpc, p2p) = (free_port()?, free_port()?);
    let mut child = Command::new(caspurd)
        .args(["dev", "--block-time-ms", "10", "--grpc-laddr", ""])
        .args(["--rpc-laddr", &format!("127.0.0.1:{rpc}")])
        .args(["--p2p-laddr", &format!("127.0.0.1:{p2p}")])
        .arg("--home")
        .arg(home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", caspurd.display()))?;
    let url = format!("http://127.0.0.1:{rpc}");
    let bar = indicatif::ProgressBar::new(target);
    bar.set_message(format!("growing a chain to {target} blocks"));
    let deadline = Instant::now() + Duration::from_secs(target / 5 + 120);
    let reached = loop {
        let h = committed_height(&url);
        bar.set_position(h.min(target));
        if h >= target {
            break h;
        }
        if Instant::now() > deadline || child.try_wait()?.is_some() {
            let _ = child.kill();
            bail!("the dev chain did not reach {target} blocks (at {h})");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    bar.finish_and_clear();
    // SAFETY: SIGINT to our own child, which stops cleanly on it.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    child.wait()?;
    Ok(reached)
}

fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            total += if p.is_dir() {
                dir_bytes(&p)
            } else {
                e.metadata().map_or(0, |m| m.len())
            };
        }
    }
    total
}

/// Runs the benchmark for each of `heights` with `caspurd`; prints a table.
pub fn run(caspurd: &Path, heights: &[u64]) -> Result<()> {
    println!("| blocks | data dir | checkpoint | checkpoint bytes | full copy | full copy bytes | rollback 100 heights |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for &target in heights {
        let home = tempfile::Builder::new().prefix("caspur-bench-").tempdir()?;
        let home = home.path().join("node");
        let reached = grow(caspurd, &home, target)?;
        let data = home.join("data");
        let size = dir_bytes(&data);
        let cp = checkpoint::create(&data, &home.join("cp"), "bench", reached, Mode::Checkpoint)?;
        let full = checkpoint::create(&data, &home.join("full"), "bench", reached, Mode::Full)?;
        let started = Instant::now();
        let out = Command::new(caspurd)
            .args([
                "rollback",
                "--to-height",
                &reached.saturating_sub(100).to_string(),
                "--home",
            ])
            .arg(&home)
            .output()?;
        let rollback = started.elapsed();
        if !out.status.success() {
            bail!("rollback failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        println!(
            "| {reached} | {:.1} MB | {} ms | {:.1} KB | {} ms | {:.1} MB | {} ms |",
            size as f64 / 1e6,
            cp.millis,
            cp.copied_bytes as f64 / 1e3,
            full.millis,
            full.copied_bytes as f64 / 1e6,
            rollback.as_millis()
        );
    }
    Ok(())
}
