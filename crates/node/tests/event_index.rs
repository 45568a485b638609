//! The tx index answers event queries (every condition must hold, optionally at one height),
//! indexes failed txs too, and forgets a rolled-back block's events.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caspur_app::TxResult;
use caspur_consensus::FinalizedBlock;
use caspur_node::index::BlockIndex;
use caspur_types::Event;

fn result(code: u32, sender: &str, recipient: &str) -> TxResult {
    TxResult {
        code,
        codespace: String::new(),
        log: String::new(),
        gas_wanted: 1,
        gas_used: 1,
        events: vec![
            Event::new("message").attr("sender", sender),
            Event::new("transfer").attr("recipient", recipient),
        ],
        data: Vec::new(),
    }
}

fn block(height: u64, results: Vec<TxResult>) -> FinalizedBlock {
    FinalizedBlock {
        height,
        hash: [height as u8; 32],
        parent: [0; 32],
        proposer: [0; 32],
        time_ms: height,
        txs: (0..results.len())
            .map(|i| vec![height as u8, i as u8])
            .collect(),
        results,
        block_events: Vec::new(),
        app_hash: [0; 32],
        state_size: 0,
        consensus: Default::default(),
    }
}

#[test]
fn event_queries_intersect_conditions_and_follow_rollback() {
    let dir = tempfile::tempdir().unwrap();
    let index = BlockIndex::open(&dir.path().join("index.redb")).unwrap();
    index
        .insert(&block(
            1,
            vec![result(0, "alice", "bob"), result(5, "carol", "bob")],
        ))
        .unwrap();
    index
        .insert(&block(2, vec![result(0, "alice", "dave")]))
        .unwrap();
    let q = |conds: &[&str], h: Option<u64>| {
        let conds: Vec<String> = conds.iter().map(|c| c.to_string()).collect();
        index.search(&conds, h).unwrap()
    };
    assert_eq!(q(&["message.sender=alice"], None), vec![(1, 0), (2, 0)]);
    // The failed tx is indexed too.
    assert_eq!(q(&["transfer.recipient=bob"], None), vec![(1, 0), (1, 1)]);
    assert_eq!(
        q(&["message.sender=alice", "transfer.recipient=bob"], None),
        vec![(1, 0)]
    );
    assert_eq!(q(&["message.sender=alice"], Some(2)), vec![(2, 0)]);
    assert_eq!(q(&[], Some(1)), vec![(1, 0), (1, 1)]);
    // A value that is a prefix of another does not match it.
    assert_eq!(q(&["message.sender=ali"], None), vec![]);
    // Re-indexing a height is idempotent; rolling back removes its events.
    index
        .insert(&block(2, vec![result(0, "alice", "dave")]))
        .unwrap();
    assert_eq!(q(&["message.sender=alice"], None), vec![(1, 0), (2, 0)]);
    index.truncate_above(1).unwrap();
    assert_eq!(q(&["transfer.recipient=dave"], None), vec![]);
    assert_eq!(q(&["message.sender=alice"], None), vec![(1, 0)]);
}
