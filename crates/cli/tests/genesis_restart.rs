//! A chain restarted from `caspurd export` continues at the exported genesis'
//! `initial_height` (as CometBFT does): its first block is the next height, state and
//! account sequences carry over, and `rollback` counts in the same heights.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use serde_json::json;
use std::process::Command;
use std::time::Duration;

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn an_exported_genesis_restarts_at_its_initial_height() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("old");
    let (rpc_port, p2p) = (free_port(), free_port());
    let node = Node::start(&home, rpc_port, p2p);
    let bob = node.add_key("bob");
    let sent = node.send(&bob, "777ucsp");
    assert_eq!(sent["code"], 0, "{sent}");
    node.wait_height(node.height() + 3, Duration::from_secs(60));
    assert!(node.interrupt().success());

    // Export to a file (`--output-document`) with the next height as initial_height.
    let genesis_file = dir.path().join("exported.json");
    succeed(
        Command::new(bin())
            .args(["export", "--output-document"])
            .arg(&genesis_file)
            .arg("--home")
            .arg(&home),
    );
    let exported: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&genesis_file).unwrap()).unwrap();
    let first: u64 = exported["initial_height"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(first > 4, "{}", exported["initial_height"]);

    // The operators' way: same keys and config, the exported genesis, no data.
    let new_home = dir.path().join("new");
    copy_dir(&home.join("config"), &new_home.join("config"));
    for entry in std::fs::read_dir(&home).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().starts_with("keyring") {
            copy_dir(&entry.path(), &new_home.join(entry.file_name()));
        }
    }
    std::fs::copy(&genesis_file, new_home.join("config/genesis.json")).unwrap();
    let node = Node::start(&new_home, rpc_port, p2p);
    node.wait_height(first + 2, Duration::from_secs(60));

    let status = node.rpc("status", json!({})).unwrap();
    assert_eq!(
        status["sync_info"]["earliest_block_height"],
        first.to_string(),
        "{status}"
    );
    let block = node
        .rpc("block", json!({"height": first.to_string()}))
        .unwrap();
    assert_eq!(block["block"]["header"]["height"], first.to_string());
    let before = node.rpc("block", json!({"height": (first - 1).to_string()}));
    assert!(before.is_none(), "a block below initial_height: {before:?}");
    let genesis = node.rpc("genesis", json!({})).unwrap();
    assert_eq!(genesis["genesis"]["initial_height"], first.to_string());

    // State carried over, and the dev account's next tx (sequence 1) is accepted.
    let balances = node.json(&["query", "bank", "balances", &bob]);
    assert_eq!(balances["balances"][0]["amount"], "777", "{balances}");
    let again = node.send(&bob, "1ucsp");
    assert_eq!(again["code"], 0, "{again}");
    let height = committed_height(&node, again["txhash"].as_str().unwrap());
    assert!(height.is_some_and(|h| h >= first), "{height:?}");

    // Rollback counts chain heights: back to the first block, not before it.
    let tip = node.height();
    assert!(node.interrupt().success());
    let refused = Command::new(bin())
        .args([
            "rollback",
            "--to-height",
            &(first - 1).to_string(),
            "--home",
        ])
        .arg(&new_home)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("before this chain's first block"), "{said}");
    succeed(
        Command::new(bin())
            .args(["rollback", "--to-height", &first.to_string(), "--home"])
            .arg(&new_home),
    );
    let node = Node::start(&new_home, rpc_port, p2p);
    assert!(node.wait_height(tip + 1, Duration::from_secs(60)) > tip);
    let balances = node.json(&["query", "bank", "balances", &bob]);
    assert_eq!(balances["balances"][0]["amount"], "778", "{balances}");
}
