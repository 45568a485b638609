//! kill -9 of `caspurd dev --home DIR` during a stream of txs, then the same command again:
//! every tx that `tx_search` reported committed is still there, and the chain continues from
//! where it was, with no repair step.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn kill9_during_tx_stream_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let (rpc_port, p2p) = (free_port(), free_port());
    let key = dev_key();
    let node = DevNode::start(&home, rpc_port, p2p);

    // Stream txs with consecutive sequences; record the ones reported committed.
    let mut sent = Vec::new();
    let mut confirmed = Vec::new();
    let start = Instant::now();
    let mut seq = 0u64;
    while confirmed.len() < 15 && start.elapsed() < Duration::from_secs(60) {
        for _ in 0..3 {
            let tx = dev_send_tx(&key, seq);
            let r = node
                .rpc("broadcast_tx_sync", json!({"tx": tx}))
                .expect("broadcast");
            assert_eq!(r["code"], 0, "{r}");
            sent.push(r["hash"].as_str().unwrap().to_string());
            seq += 1;
        }
        std::thread::sleep(Duration::from_millis(150));
        confirmed = sent
            .iter()
            .filter(|h| committed_height(&node, h).is_some())
            .cloned()
            .collect();
    }
    assert!(
        confirmed.len() >= 15,
        "only {} txs committed",
        confirmed.len()
    );
    // Kill while txs are still in flight.
    for _ in 0..3 {
        node.rpc("broadcast_tx_sync", json!({"tx": dev_send_tx(&key, seq)}));
        seq += 1;
    }
    let height_before = node.height();
    node.kill9();

    let node = DevNode::start(&home, rpc_port, p2p);
    let height = node.wait_height(height_before + 3, Duration::from_secs(60));
    assert!(height > height_before);
    for h in &confirmed {
        assert!(
            committed_height(&node, h).is_some(),
            "committed tx {h} lost after kill -9"
        );
    }
    // State agrees with the index: the account's sequence counts exactly the committed txs.
    let on_chain = dev_sequence(&node);
    let indexed = sent
        .iter()
        .filter(|h| committed_height(&node, h).is_some())
        .count() as u64;
    assert!(on_chain >= confirmed.len() as u64);
    assert!(
        indexed <= on_chain && on_chain <= seq,
        "sequence {on_chain}, indexed {indexed}, sent {seq}"
    );
    // No tx was included twice (proposals build on unfinalized parents and must skip their
    // txs) and none failed: every sequence was valid when proposed.
    let mut seen = std::collections::BTreeSet::new();
    for h in 1..=node.height() {
        let r = node
            .rpc("tx_search", json!({"query": format!("tx.height={h}")}))
            .unwrap();
        for t in r["txs"].as_array().unwrap() {
            assert_eq!(t["tx_result"]["code"], 0, "failed tx at height {h}: {t}");
            assert!(
                seen.insert(t["hash"].as_str().unwrap().to_string()),
                "tx included twice: {t}"
            );
        }
    }
    assert_eq!(seen.len() as u64, on_chain);
    // And the chain still takes txs from where the account is.
    let r = node
        .rpc(
            "broadcast_tx_sync",
            json!({"tx": dev_send_tx(&key, on_chain)}),
        )
        .unwrap();
    assert_eq!(r["code"], 0, "{r}");
}
