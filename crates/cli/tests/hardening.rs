//! Issue 15's findings, replayed against the real binary: a 9,000-deep `MsgExec` through
//! `broadcast_tx_sync` and through Simulate, a 5,000-message tx, a tx with the most messages a
//! tx may carry committed and read back across a restart, and JSON-RPC batches (too many calls,
//! an empty batch). The node answers each with a refusal that names the bound, and keeps
//! producing blocks.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_types::sign::{msg_send, to_any, AccountKey};
use common::*;
use cosmos_sdk_proto::Any;
use prost::Message as _;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn sends(key: &AccountKey, n: usize) -> Vec<Any> {
    let to = AccountKey::from_secret(&[3; 32]).unwrap().address();
    let one: caspur_types::Coins = "1ucsp".parse().unwrap();
    (0..n)
        .map(|_| msg_send(&key.address(), &to, &one))
        .collect()
}

/// A send from the dev account wrapped in `depth` execs it signs itself.
fn nested(key: &AccountKey, depth: usize) -> Any {
    let mut msg = sends(key, 1).remove(0);
    for _ in 0..depth {
        msg = to_any(
            "/cosmos.authz.v1beta1.MsgExec",
            &cosmos_sdk_proto::cosmos::authz::v1beta1::MsgExec {
                grantee: key.address().to_string(),
                msgs: vec![msg],
            },
        );
    }
    msg
}

/// A raw JSON-RPC POST body and its parsed answer.
fn post(node: &DevNode, body: &str) -> Value {
    ureq::post(&node.rpc)
        .set("Content-Type", "application/json")
        .send_string(body)
        .expect("the node answers")
        .into_json()
        .unwrap()
}

#[test]
fn bounded_inputs_are_refused_and_a_full_tx_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let (rpc_port, p2p) = (free_port(), free_port());
    let key = dev_key();
    let node = DevNode::start(&home, rpc_port, p2p);

    // 1. ~0.8 MB of MsgExec nested 9,000 deep: once a stack overflow that killed the node.
    let deep = dev_signed_tx(&key, vec![nested(&key, 9_000)], 0);
    assert!(deep.len() > 500_000, "{}", deep.len());
    let r = broadcast(&node, &deep);
    assert_eq!(r["code"], 1002, "{r}");
    assert_eq!(r["codespace"], "limits", "{r}");
    assert!(
        r["log"].as_str().unwrap().contains("nested deeper than 6"),
        "{r}"
    );
    let request = cosmos_sdk_proto::cosmos::tx::v1beta1::SimulateRequest {
        tx_bytes: deep,
        ..Default::default()
    };
    let r = node
        .rpc(
            "abci_query",
            json!({
                "path": "/cosmos.tx.v1beta1.Service/Simulate",
                "data": hex::encode(request.encode_to_vec()),
            }),
        )
        .unwrap();
    assert_eq!(r["response"]["code"], 1002, "{r}");

    // 2. 5,000 sends in one tx: once committed with results no restart could read back.
    let r = broadcast(&node, &dev_signed_tx(&key, sends(&key, 5_000), 0));
    assert_eq!(r["code"], 1002, "{r}");
    assert!(r["log"].as_str().unwrap().contains("256"), "{r}");

    // 3. The most messages a tx may carry: committed, and read back after a restart.
    let full = dev_signed_tx(&key, sends(&key, caspur_app::limits::MAX_TX_MSGS), 0);
    let r = broadcast(&node, &full);
    assert_eq!(r["code"], 0, "{r}");
    let hash = r["hash"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let height = loop {
        if let Some(h) = committed_height(&node, &hash) {
            break h;
        }
        assert!(Instant::now() < deadline, "the full tx was never committed");
        std::thread::sleep(Duration::from_millis(200));
    };

    // 4. Batches: more calls than max_request_batch_size, and an empty batch, are refused
    //    whole; a batch within the bound is answered call by call.
    let calls: Vec<Value> = (0..1500)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "block", "params": {}}))
        .collect();
    let r = post(&node, &Value::Array(calls).to_string());
    assert_eq!(r["error"]["code"], -32600, "{r}");
    assert!(
        r["error"]["data"].as_str().unwrap().contains("limit is 10"),
        "{r}"
    );
    let r = post(&node, "[]");
    assert_eq!(r["error"]["code"], -32600, "{r}");
    let calls: Vec<Value> = (0..10)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "health", "params": {}}))
        .collect();
    let r = post(&node, &Value::Array(calls).to_string());
    assert_eq!(r.as_array().map(Vec::len), Some(10), "{r}");

    // 5. Restart: the block with the full tx reads back, and the chain goes on.
    let top = node.height();
    let status = node.interrupt();
    assert!(status.success(), "clean stop: {status:?}");
    let node = DevNode::start(&home, rpc_port, p2p);
    node.wait_height(top + 3, Duration::from_secs(60));
    assert_eq!(committed_height(&node, &hash), Some(height));
    let results = node
        .rpc("block_results", json!({"height": height.to_string()}))
        .unwrap();
    let ours = results["txs_results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["code"] == 0)
        .count();
    assert!(ours >= 1, "{results}");
}
