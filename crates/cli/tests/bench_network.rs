//! `caspurd bench network` end to end, short: four validator processes, load from genesis
//! sender accounts (`--senders`), every tx accepted and committed; the senders bound refused
//! before anything starts.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use serde_json::Value;
use std::process::Command;

#[test]
fn a_short_run_commits_every_senders_txs() {
    let out = Command::new(bin())
        .args(["bench", "network", "--loads", "40", "--seconds", "4"])
        .args(["--senders", "8", "-o", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = &rows[0];
    assert_eq!(row["offered_tps"], 40, "{row}");
    assert_eq!(
        row["refused"], 0,
        "every sender's account signs valid txs: {row}"
    );
    assert!(row["committed_tps"].as_f64().unwrap() > 0.0, "{row}");
    assert!(row["tx_finality_ms"]["median"].as_f64().is_some(), "{row}");
    // Four validators did the work of every committed tx, the generator signed and sent it.
    let cpu = &row["cpu_us_per_tx"];
    assert!(cpu["validators"].as_f64().unwrap() > 0.0, "{row}");
    assert!(cpu["generator"].as_f64().unwrap() > 0.0, "{row}");
}

#[test]
fn senders_are_bounded() {
    for bad in ["0", "257"] {
        let out = Command::new(bin())
            .args(["bench", "network", "--senders", bad])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--senders must be between 1 and 256"),
            "{bad}: {stderr}"
        );
    }
}
