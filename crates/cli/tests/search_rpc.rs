//! `tx_search` and `block_search` over JSON-RPC against a dev node, in CometBFT's whole query
//! language (issue 19): height ranges, `CONTAINS`, `EXISTS`, numeric comparisons, `tx.hash`,
//! `tm.event`, paging and order; a query past the bounds is refused with the way out.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

fn count(node: &Node, method: &str, query: &str) -> u64 {
    let r = node
        .rpc(method, json!({"query": query, "per_page": "100"}))
        .unwrap_or_else(|| panic!("{method} {query:?} failed"));
    r["total_count"].as_str().unwrap().parse().unwrap()
}

fn error(node: &Node, method: &str, query: &str) -> String {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": {"query": query}});
    let v: Value = ureq::post(&node.rpc)
        .send_json(body)
        .unwrap()
        .into_json()
        .unwrap();
    assert!(v["result"].is_null(), "{query:?} accepted: {v}");
    v["error"]["data"].as_str().unwrap_or_default().to_string()
}

#[test]
fn tx_search_and_block_search_speak_cometbfts_query_language() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start_with(
        &dir.path().join("node"),
        free_port(),
        free_port(),
        &["--voting-period-secs", "2"],
    );
    let key = dev_key();
    let mut heights = Vec::new();
    for sequence in 0..3 {
        let tx = dev_send_tx(&key, sequence);
        let r = node.rpc("broadcast_tx_sync", json!({ "tx": tx })).unwrap();
        assert_eq!(r["code"], 0, "{r}");
        let hash = r["hash"].as_str().unwrap().to_string();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let h = loop {
            if let Some(h) = committed_height(&node, &hash) {
                break h;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "tx {hash} not committed"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        heights.push((h, hash));
    }
    let (first, _) = heights[0];
    let (last, last_hash) = heights[2].clone();
    let tx = |q: &str| count(&node, "tx_search", q);
    assert_eq!(
        tx(&format!("tx.height >= {first} AND tx.height <= {last}")),
        3
    );
    assert_eq!(tx(&format!("tx.height > {last}")), 0);
    assert_eq!(tx(&format!("tx.height < {first}")), 0);
    assert_eq!(tx(&format!("tx.height = {first}")), 1);
    assert_eq!(tx(&format!("message.sender = '{DEV_ADDRESS}'")), 3);
    assert_eq!(
        tx(&format!(
            "message.sender = '{DEV_ADDRESS}' AND tx.height > {first}"
        )),
        2
    );
    assert_eq!(tx("transfer.amount CONTAINS 'ucsp'"), 3);
    assert_eq!(tx("transfer.amount CONTAINS 'uatom'"), 0);
    assert_eq!(tx("transfer.recipient EXISTS"), 3);
    assert_eq!(tx("no_such.attribute EXISTS"), 0);
    assert_eq!(
        tx(&format!("tm.event = 'Tx' AND tx.hash = '{last_hash}'")),
        1
    );
    assert_eq!(
        tx(&format!("tx.hash = '{last_hash}' AND tx.height < {last}")),
        0
    );
    // Order and paging, as CometBFT pages.
    let page = node
        .rpc(
            "tx_search",
            json!({"query": format!("tx.height >= {first}"), "order_by": "desc", "per_page": "2", "page": "1"}),
        )
        .unwrap();
    assert_eq!(page["txs"].as_array().unwrap().len(), 2);
    assert_eq!(page["txs"][0]["hash"], last_hash.as_str(), "{page}");

    // Blocks: by height, and by the events of their ends.
    let blocks = node
        .rpc(
            "block_search",
            json!({"query": format!("block.height >= {first} AND block.height <= {last}")}),
        )
        .unwrap();
    assert_eq!(
        blocks["total_count"],
        (last - first + 1).to_string(),
        "{blocks}"
    );
    assert_eq!(
        blocks["blocks"][0]["block"]["header"]["height"],
        first.to_string()
    );
    // A proposal that passes leaves an `active_proposal` event at the end of a block.
    let proposal = json!({"messages": [], "deposit": "10000000ucsp", "title": "t", "summary": "s"});
    node.propose_and_vote_yes(dir.path(), &proposal, 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let query = "active_proposal.proposal_id = '1'";
    while count(&node, "block_search", query) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no block ended the vote"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let ended = node.rpc("block_search", json!({ "query": query })).unwrap();
    let at: u64 = ended["blocks"][0]["block"]["header"]["height"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let results = node
        .rpc("block_results", json!({"height": at.to_string()}))
        .unwrap();
    assert!(results.to_string().contains("active_proposal"), "{results}");
    assert_eq!(
        count(
            &node,
            "block_search",
            &format!("{query} AND block.height < {at}")
        ),
        0
    );
    assert_eq!(
        count(&node, "block_search", "active_proposal.proposal_id > 0"),
        1
    );

    // Wrong queries are refused with what to do; tx.hash belongs to tx_search.
    assert!(error(&node, "tx_search", "tx.height > 'x'").contains("whole number"));
    assert!(error(&node, "tx_search", "sender = 'x'").contains("unsupported query key"));
    assert!(
        error(&node, "block_search", &format!("tx.hash = '{last_hash}'"))
            .contains("unsupported query key")
    );
    assert!(error(&node, "tx_search", "message.sender == 'x'").contains("parse"));
}
