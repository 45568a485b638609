//! A block this node cannot apply stops it once, with the height, the cause and the remedy —
//! never a panic on every restart (issue 16). The fixture binary carries `v2-failing`, an
//! upgrade handler that returns an error: governance schedules it, the single validator halts
//! at its height with exit code 70 and a message naming the block and the remedies; a restart
//! stops the same way, once; a restart with `--unsafe-skip-upgrade H` goes past the block.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

const FIXTURE: &str = env!("CARGO_BIN_EXE_caspurd-upgrade-test");

/// Waits for the node process to exit; its code and log.
fn exit_of(node: &mut Node) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = node.child.try_wait().unwrap() {
            return (status.code(), node.log());
        }
        assert!(
            Instant::now() < deadline,
            "the node never stopped:\n{}",
            node.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_block_that_cannot_be_applied_stops_the_node_once_with_the_remedy() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let (rpc_port, p2p) = (free_port(), free_port());
    let voting = ["--voting-period-secs", "3"];
    let mut node = Node::start_bin(FIXTURE, &home, rpc_port, p2p, &voting);

    let authority = node.json(&["query", "gov", "authority"])["authority"].clone();
    let planned = node.height() + 40;
    let info = json!({"binaries": {caspur_types::upgrade_info::platform(): {
        "url": "file:///nonexistent/v2-failing", "sha256": "ab".repeat(32)}}});
    let proposal = json!({
        "messages": [{"@type": "/caspur.upgrade.v1.MsgSoftwareUpgrade", "authority": authority,
            "plan": {"name": "v2-failing", "height": planned, "info": info.to_string(),
                     "routes_to_reopen": []}}],
        "deposit": "10000000ucsp", "title": "failing upgrade", "summary": "its handler fails"
    });
    node.propose_and_vote_yes(dir.path(), &proposal, 1);
    // Once scheduled, the validator signals readiness (or the plan would be postponed).
    let deadline = Instant::now() + Duration::from_secs(60);
    while node.json(&["query", "upgrade", "plan"])["plan"].is_null() {
        assert!(Instant::now() < deadline, "the plan was never scheduled");
        std::thread::sleep(Duration::from_millis(300));
    }
    let checksum = "ab".repeat(32);
    node.tx_from(
        "dev",
        &[
            "tx",
            "upgrade",
            "signal-ready",
            "v2-failing",
            "--sha256",
            &checksum,
        ],
    );
    // The height the plan is due at now (readiness may have postponed it before the signal).
    let plan = node.json(&["query", "upgrade", "plan"]);
    let height = plan["plan"]["plan"]["height"]
        .as_u64()
        .unwrap_or_else(|| panic!("{plan}"));

    let (code, log) = exit_of(&mut node);
    assert_eq!(code, Some(70), "{log}");
    let message = format!("BLOCK {height} CANNOT BE APPLIED");
    assert!(log.contains(&message), "{log}");
    assert!(log.contains("v2-failing: the migration refuses"), "{log}");
    assert!(
        log.contains(&format!("--unsafe-skip-upgrade {height}")),
        "{log}"
    );
    assert!(!log.contains("panicked"), "{log}");

    // A restart stops the same way, once: no panic loop.
    let before = log.matches(&message).count();
    let mut again = Node::spawn_dev(FIXTURE, &home, rpc_port, p2p, &voting);
    let (code, log) = exit_of(&mut again);
    assert_eq!(code, Some(70), "{log}");
    assert!(log.matches(&message).count() > before, "{log}");
    assert!(!log.contains("panicked"), "{log}");

    // The operator's remedy for a failing handler: skip that upgrade height.
    let skip = height.to_string();
    let mut extra = voting.to_vec();
    extra.extend(["--unsafe-skip-upgrade", &skip]);
    let skipped = Node::spawn_dev(FIXTURE, &home, rpc_port, p2p, &extra);
    skipped.wait_height(height + 3, Duration::from_secs(60));
}
