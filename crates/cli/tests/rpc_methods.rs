//! CometBFT RPC methods explorers and relayers call (issue 19), curl-shaped against a dev node
//! with 3 s blocks (so that txs wait in the mempool long enough to be seen there): headers and
//! blocks by height and hash, `blockchain`, `consensus_params`, `genesis` whole and chunked, the
//! pending txs, `check_tx` (which admits nothing) and `broadcast_tx_commit`.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

fn call(node: &Node, method: &str, params: Value) -> Value {
    node.rpc(method, params.clone())
        .unwrap_or_else(|| panic!("{method} {params} failed"))
}

/// The node's own validator address, as `status` gives it.
fn status_address(node: &Node) -> Value {
    call(node, "status", json!({}))["validator_info"]["address"].clone()
}

#[test]
fn explorer_and_relayer_methods_answer_in_cometbfts_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("node");
    let (rpc, p2p) = (free_port(), free_port());
    let first = Node::start(&home, rpc, p2p);
    first.wait_height(3, Duration::from_secs(30));
    first.interrupt();
    edit_toml(&home.join("config/config.toml"), |c| {
        c["consensus"]["block_time_ms"] = 3000.into()
    });
    let node = Node::spawn(&home, &["start"], rpc, p2p);
    node.wait_height(4, Duration::from_secs(30));

    // Headers and blocks, by height and by hash.
    let block = call(&node, "block", json!({"height": "2"}));
    let header = call(&node, "header", json!({"height": "2"}));
    assert_eq!(header["header"], block["block"]["header"]);
    let hash = block["block_id"]["hash"].as_str().unwrap();
    assert_eq!(call(&node, "block_by_hash", json!({ "hash": hash })), block);
    let by_hash = call(
        &node,
        "header_by_hash",
        json!({ "hash": format!("0x{hash}") }),
    );
    assert_eq!(by_hash["header"], block["block"]["header"]);
    assert!(node
        .rpc("block_by_hash", json!({"hash": "AB".repeat(32)}))
        .is_none());
    let chain = call(
        &node,
        "blockchain",
        json!({"minHeight": "1", "maxHeight": "3"}),
    );
    let metas = chain["block_metas"].as_array().unwrap();
    let heights: Vec<&str> = metas
        .iter()
        .map(|m| m["header"]["height"].as_str().unwrap())
        .collect();
    assert_eq!(heights, ["3", "2", "1"], "{chain}");
    assert_eq!(metas[1]["block_id"]["hash"], hash);
    assert!(
        metas[1]["block_size"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    let params = call(&node, "consensus_params", json!({}));
    let max_bytes = &params["consensus_params"]["block"]["max_bytes"];
    assert!(
        max_bytes.as_str().unwrap().parse::<u64>().unwrap() > 0,
        "{params}"
    );
    assert_eq!(
        params["consensus_params"]["validator"]["pub_key_types"],
        json!(["ed25519"])
    );

    // Genesis, whole and in chunks: the file the node started from.
    let file: Value =
        serde_json::from_slice(&std::fs::read(home.join("config/genesis.json")).unwrap()).unwrap();
    let genesis = call(&node, "genesis", json!({}));
    let doc = &genesis["genesis"];
    assert_eq!(doc["chain_id"], "caspur-dev-1");
    assert_eq!(doc["app_state"], file["app_state"]);
    assert_eq!(doc["genesis_time"], file["genesis_time"]);
    assert_eq!(doc["consensus_params"], params["consensus_params"]);
    let v = &doc["validators"][0];
    assert_eq!(v["pub_key"]["type"], "tendermint/PubKeyEd25519");
    assert_eq!(v["power"], "10");
    assert_eq!(v["address"], status_address(&node));
    let chunk = call(&node, "genesis_chunked", json!({"chunk": "0"}));
    assert_eq!(chunk["total"], "1");
    let data = base64::engine::general_purpose::STANDARD
        .decode(chunk["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&data).unwrap(), *doc);
    assert!(node.rpc("genesis_chunked", json!({"chunk": "1"})).is_none());

    // check_tx judges without admitting; broadcast fills the mempool until the next block.
    let key = dev_key();
    let sequence = dev_sequence(&node);
    let checked = call(
        &node,
        "check_tx",
        json!({"tx": dev_send_tx(&key, sequence)}),
    );
    assert_eq!(checked["code"], 0, "{checked}");
    assert_eq!(checked["gas_wanted"], "200000");
    let stale = call(
        &node,
        "check_tx",
        json!({"tx": dev_send_tx(&key, sequence + 5)}),
    );
    assert_ne!(stale["code"], 0, "{stale}");
    let none = call(&node, "num_unconfirmed_txs", json!({}));
    assert_eq!(
        (none["total"].as_str(), none["txs"].is_null()),
        (Some("0"), true),
        "{none}"
    );
    for s in sequence..sequence + 2 {
        let r = call(
            &node,
            "broadcast_tx_sync",
            json!({"tx": dev_send_tx(&key, s)}),
        );
        assert_eq!(r["code"], 0, "{r}");
    }
    let pending = call(&node, "unconfirmed_txs", json!({"limit": "1"}));
    assert_eq!(pending["total"], "2", "{pending}");
    assert_eq!(pending["n_txs"], "1");
    assert_eq!(pending["txs"][0], dev_send_tx(&key, sequence).as_str());
    assert!(
        pending["total_bytes"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );

    // broadcast_tx_commit returns with the block.
    let committed = call(
        &node,
        "broadcast_tx_commit",
        json!({"tx": dev_send_tx(&key, sequence + 2)}),
    );
    assert_eq!(committed["check_tx"]["code"], 0, "{committed}");
    assert_eq!(committed["tx_result"]["code"], 0, "{committed}");
    let height: u64 = committed["height"].as_str().unwrap().parse().unwrap();
    assert!(height > 4);
    let hash = committed["hash"].as_str().unwrap();
    assert_eq!(committed_height(&node, hash), Some(height));
    let refused = call(
        &node,
        "broadcast_tx_commit",
        json!({"tx": dev_send_tx(&key, 0)}),
    );
    assert_ne!(refused["check_tx"]["code"], 0, "{refused}");
    assert_eq!(refused["height"], "0");

    // GET / lists every method, and each answers in the URI form (never "method not found").
    let page = ureq::get(&format!("{}/", node.rpc))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    for (method, _) in caspur_node::rpc::METHODS {
        assert!(
            page.contains(&format!("/{method}")),
            "{method} missing from GET /"
        );
        let reply: Value = match ureq::get(&format!("{}/{method}", node.rpc)).call() {
            Ok(r) => r.into_json().unwrap(),
            Err(ureq::Error::Status(_, r)) => r.into_json().unwrap(),
            Err(e) => panic!("GET /{method}: {e}"),
        };
        assert_ne!(reply["error"]["code"], -32601, "{method}: {reply}");
    }
    let header = ureq::get(&format!("{}/header?height=2", node.rpc))
        .call()
        .unwrap()
        .into_json::<Value>()
        .unwrap();
    assert_eq!(header["result"]["header"]["height"], "2");

    // status says which Caspur answers.
    let status = call(&node, "status", json!({}));
    assert_eq!(
        status["node_info"]["other"]["caspur_version"],
        env!("CARGO_PKG_VERSION")
    );
}
