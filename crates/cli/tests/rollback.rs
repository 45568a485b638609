//! `caspurd rollback --to-height H` then `start` re-executes the later heights and reproduces
//! the same app hashes.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

fn app_hashes(node: &DevNode, upto: u64) -> BTreeMap<u64, String> {
    (1..=upto)
        .map(|h| {
            let b = node
                .rpc("block", json!({"height": h.to_string()}))
                .expect("block");
            (
                h,
                b["block"]["header"]["app_hash"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn rollback_then_start_reproduces_app_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let (rpc_port, p2p) = (free_port(), free_port());
    let node = DevNode::start(&home, rpc_port, p2p);
    // Some txs so the re-executed blocks change state.
    let bob = node.add_key("bob");
    for amount in ["11ucsp", "22ucsp", "33ucsp"] {
        assert_eq!(node.send(&bob, amount)["code"], 0);
    }
    let top = node.wait_height(12, Duration::from_secs(60));
    let before = app_hashes(&node, top);
    assert!(node.interrupt().success());

    let target = 4;
    let out = std::process::Command::new(bin())
        .args([
            "rollback",
            "--to-height",
            &target.to_string(),
            "-o",
            "json",
            "--home",
        ])
        .arg(&home)
        .output()
        .unwrap();
    let report = json_out(&out);
    assert_eq!(report["height"], target);
    assert!(report["blocks_removed_from_index"].as_u64().unwrap() >= top - target);

    // Rolling back to a height that is not retained is a clear error.
    let bad = std::process::Command::new(bin())
        .args(["rollback", "--to-height", "99999", "--home"])
        .arg(&home)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not retained"));

    let node = DevNode::start(&home, rpc_port, p2p);
    node.wait_height(top + 2, Duration::from_secs(90));
    let after = app_hashes(&node, top);
    assert_eq!(
        before, after,
        "re-executed heights must reproduce the same app hashes"
    );
}
