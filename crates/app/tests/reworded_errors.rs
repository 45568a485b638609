//! No error text reaches consensus: a chain whose txs fail in every way that quotes text (an
//! undecodable tx — prost's words, a bad address — bech32's, an unpaid send, a replayed
//! sequence, a passed proposal that fails to apply) is replayed into real QMDB stores twice,
//! once as is and once with every error message and log reworded; every block's app hash and
//! results hash must be the same, while the logs people read differ.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::gov::state::gov_address;
use caspur_app::{encode_results, App, BlockInfo};
use caspur_types::error::rewording;
use caspur_types::sign::{msg_send, to_any};
use caspur_types::{Coin, Coins};
use common::*;
use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
use cosmos_sdk_proto::cosmos::gov::v1 as gov;

fn ucsp(amount: u128) -> Coins {
    Coins::normalize([Coin::new("ucsp", amount)]).unwrap()
}

/// The chain: each kind of failure at least once, and successes around them.
fn failing_chain() -> Chain {
    let mut chain = Chain::new(Default::default());
    chain.ok(3, msg_send(&addr(3), &addr(4), &ucsp(10)));
    // Message failure: more than the account holds.
    let r = chain.run(3, msg_send(&addr(3), &addr(4), &ucsp(FUNDS * 2)));
    assert_ne!(r.code, 0);
    // Decode failure: prost's error text.
    let r = chain
        .block(vec![vec![0x0a, 0xff, 0xff, 0x01]], 1000)
        .remove(0);
    assert_ne!(r.code, 0);
    // A malformed address: bech32's error text.
    let bad_address = to_any(
        "/cosmos.bank.v1beta1.MsgSend",
        &bank::MsgSend {
            from_address: addr(3).to_string(),
            to_address: "cosmos1notanaddress".into(),
            amount: vec![Coin::new("ucsp", 1).to_proto()],
        },
    );
    let raw = chain.tx(3, vec![bad_address]);
    let r = chain.block(vec![raw], 1000).remove(0);
    assert_ne!(r.code, 0);
    // The same sequence twice: the second fails in the ante handler.
    let raw = chain.tx(4, vec![msg_send(&addr(4), &addr(3), &ucsp(1))]);
    let results = chain.block(vec![raw.clone(), raw], 1000);
    assert_eq!(results[0].code, 0, "{}", results[0].log);
    assert_ne!(results[1].code, 0);
    // A passed proposal whose message fails: the gov account cannot pay.
    let unpaid = msg_send(&gov_address(), &addr(3), &ucsp(FUNDS * 10));
    let id = decide(&mut chain, vec![unpaid], 10_000_000, true);
    let p = proposal(&chain, id);
    assert_eq!(status(&p), gov::ProposalStatus::Failed);
    assert_eq!(
        p.failed_reason, "message 0 failed: sdk code 5: insufficient funds",
        "the stored reason is our own fixed text"
    );
    chain
}

/// Replays `blocks` into a fresh QMDB store; per block, the app hash, the committed results
/// encoding, and the logs.
fn replay(
    app: &App,
    blocks: &[(BlockInfo, Vec<Vec<u8>>)],
    reworded: bool,
) -> Vec<([u8; 32], Vec<u8>, Vec<String>)> {
    rewording::set(reworded);
    replay_into_qmdb(app, blocks)
        .into_iter()
        .map(|(hash, results)| {
            let logs = results.iter().map(|r| r.log.clone()).collect();
            (hash, encode_results(&results), logs)
        })
        .collect()
}

#[test]
fn rewording_every_error_changes_no_app_hash() {
    let chain = failing_chain();
    let plain = replay(&chain.app, &chain.blocks, false);
    let reworded = replay(&chain.app, &chain.blocks, true);
    rewording::set(false);
    assert_eq!(plain.len(), chain.blocks.len());
    let mut logs_differ = 0;
    for (height, (a, b)) in plain.iter().zip(&reworded).enumerate() {
        assert_eq!(a.0, b.0, "app hash differs at height {}", height + 1);
        assert_eq!(a.1, b.1, "results differ at height {}", height + 1);
        logs_differ += a.2.iter().zip(&b.2).filter(|(x, y)| x != y).count();
    }
    // The hook did reword what people read: every failed tx's log (4 of them).
    assert!(logs_differ >= 4, "only {logs_differ} logs were reworded");
    assert!(reworded
        .iter()
        .flat_map(|b| &b.2)
        .any(|log| log.starts_with("[reworded]")));
}
