//! The tx index answers event queries (every condition must hold, optionally at one height),
//! indexes failed txs too, and forgets a rolled-back block's events.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use caspur_app::TxResult;
use caspur_consensus::FinalizedBlock;
use caspur_node::index::{AttrCondition, BlockIndex, EventTable};
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
        ..Default::default()
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
        let never = |_: &str| false;
        let conds: Vec<AttrCondition<'_>> = conds
            .iter()
            .map(|c| {
                let (key, value) = c.split_once('=').unwrap();
                AttrCondition {
                    key,
                    exact: Some(value),
                    test: &never,
                }
            })
            .collect();
        let heights = h.map_or(0..=u64::MAX, |h| h..=h);
        index.search(EventTable::Tx, &conds, heights).unwrap()
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

#[test]
fn ranges_contains_exists_and_block_events_are_searched_within_heights() {
    use caspur_node::index::SearchError;
    let dir = tempfile::tempdir().unwrap();
    let index = BlockIndex::open(&dir.path().join("index.redb")).unwrap();
    for h in 1..=6u64 {
        let mut b = block(h, vec![result(0, &format!("s{h}"), "bob")]);
        b.block_events = vec![Event::new("mint").attr("amount", (h * 10).to_string())];
        index.insert(&b).unwrap();
    }
    let above_20 = |v: &str| v.parse::<u64>().is_ok_and(|n| n > 20);
    let c = AttrCondition {
        key: "mint.amount",
        exact: None,
        test: &above_20,
    };
    let found = index.search(EventTable::Block, &[c], 0..=u64::MAX).unwrap();
    assert_eq!(found, vec![(3, 0), (4, 0), (5, 0), (6, 0)]);
    let c = AttrCondition {
        key: "mint.amount",
        exact: None,
        test: &above_20,
    };
    let found = index.search(EventTable::Block, &[c], 2..=4).unwrap();
    assert_eq!(found, vec![(3, 0), (4, 0)]);
    // No condition: every block, or every tx, in the range.
    let blocks = index.search(EventTable::Block, &[], 5..=u64::MAX).unwrap();
    assert_eq!(blocks, vec![(5, 0), (6, 0)]);
    let txs = index.search(EventTable::Tx, &[], 2..=3).unwrap();
    assert_eq!(txs, vec![(2, 0), (3, 0)]);
    // CONTAINS-like tests scan every value of the attribute; tx events are not block events.
    let has_5 = |v: &str| v.contains('5');
    let c = AttrCondition {
        key: "message.sender",
        exact: None,
        test: &has_5,
    };
    assert_eq!(
        index.search(EventTable::Tx, &[c], 0..=u64::MAX).unwrap(),
        vec![(5, 0)]
    );
    let c = AttrCondition {
        key: "message.sender",
        exact: None,
        test: &has_5,
    };
    assert!(index
        .search(EventTable::Block, &[c], 0..=u64::MAX)
        .unwrap()
        .is_empty());
    // Rolled back, a block's end events are gone too.
    index.truncate_above(4).unwrap();
    let any = |_: &str| true;
    let c = AttrCondition {
        key: "mint.amount",
        exact: None,
        test: &any,
    };
    assert_eq!(
        index
            .search(EventTable::Block, &[c], 0..=u64::MAX)
            .unwrap()
            .len(),
        4
    );
    // An error type for queries past the bounds exists and names them.
    assert!(SearchError::TooBroad.to_string().contains("narrow it"));
}
