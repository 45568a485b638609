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

#[test]
fn blocks_since_the_last_batch_are_found_in_memory_and_survive_a_stop() {
    use caspur_node::index::FLUSH_BLOCKS;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index.redb");
    let last = FLUSH_BLOCKS as u64 + 3;
    let blocks: Vec<FinalizedBlock> = (1..=last)
        .map(|h| block(h, vec![result(0, "alice", &format!("r{h}"))]))
        .collect();
    let hash = |h: u64| caspur_types::tx::tx_hash(&blocks[h as usize - 1].txs[0]);
    let any = |_: &str| true;
    let check = |index: &BlockIndex, through: u64| {
        let sender = AttrCondition {
            key: "message.sender",
            exact: Some("alice"),
            test: &any,
        };
        let found = index
            .search(EventTable::Tx, &[sender], 0..=u64::MAX)
            .unwrap();
        assert_eq!(found, (1..=through).map(|h| (h, 0)).collect::<Vec<_>>());
        let recipients = AttrCondition {
            key: "transfer.recipient",
            exact: None,
            test: &any,
        };
        let found = index.search(EventTable::Tx, &[recipients], 2..=u64::MAX);
        assert_eq!(found.unwrap().len() as u64, through - 1);
        // A tx written in the first batch and one still in memory (or re-derived).
        for h in [3, through] {
            let (stored, i) = index.tx(&hash(h)).unwrap().unwrap();
            assert_eq!((stored.height, i), (h, 0));
        }
        // `status`'s tips follow inserts, rollback and reopening.
        let tips = index
            .tips()
            .map(|(first, last)| (first.height, last.height));
        assert_eq!(tips, Some((1, through)));
        // A rolled-back tx is gone.
        if through < last {
            assert!(index.tx(&hash(through + 1)).unwrap().is_none());
        }
    };
    {
        let index = BlockIndex::open(&path).unwrap();
        for b in &blocks {
            index.insert(b).unwrap();
        }
        check(&index, last);
    }
    // Stopped with three blocks' entries in memory only: opening derives them again.
    let index = BlockIndex::open(&path).unwrap();
    check(&index, last);
    index.truncate_above(last - 2).unwrap();
    check(&index, last - 2);
    drop(index);
    check(&BlockIndex::open(&path).unwrap(), last - 2);
}
