//! Structural bounds (issue 15): nesting depth is one limit on every path, counted from the
//! top level; a tx's message tree and its events are bounded; a tx over a structural bound is
//! refused by CheckTx and Simulate and bars any block that carries it.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::limits::{MAX_NESTING_DEPTH, MAX_PROPOSAL_MSGS, MAX_TX_MSGS};
use caspur_app::modules::gov::state::gov_address;
use caspur_types::sign::{sign_tx, to_any, TxParams};
use caspur_types::{Coin, ErrorCode};
use common::*;
use cosmos_sdk_proto::cosmos::bank::v1beta1 as bank;
use cosmos_sdk_proto::Any;

/// A send from key 2 wrapped in `depth` execs by key 2 (the send sits at `depth`).
fn nested_send(depth: u32) -> Any {
    let mut msg = send(2, 4);
    for _ in 0..depth {
        msg = exec(2, vec![msg]);
    }
    msg
}

#[test]
fn nesting_is_bounded_from_the_top_level_on_every_path() {
    let mut chain = Chain::new(Default::default());
    // The deepest allowed tree is admitted and executes.
    assert!(check_tx(&mut chain, 2, vec![nested_send(MAX_NESTING_DEPTH)]).is_ok());
    assert!(simulate(&mut chain, 2, vec![nested_send(MAX_NESTING_DEPTH)]).is_ok());
    chain.ok(2, nested_send(MAX_NESTING_DEPTH));
    // One level deeper is refused by CheckTx and Simulate, and bars a block that carries it.
    let too_deep = nested_send(MAX_NESTING_DEPTH + 1);
    for e in [
        check_tx(&mut chain, 2, vec![too_deep.clone()]).unwrap_err(),
        simulate(&mut chain, 2, vec![too_deep.clone()]).unwrap_err(),
    ] {
        assert_eq!(e.code, ErrorCode::LimitExceeded, "{e:?}");
        assert!(e.message.contains("nested deeper than 6"), "{}", e.message);
    }
    let r = chain.run(2, too_deep);
    assert_eq!(r.code, ErrorCode::LimitExceeded.code(), "{}", r.log);
    assert!(r.bars_block());
}

#[test]
fn a_nine_thousand_deep_exec_is_refused_without_recursion() {
    // The crash seen through broadcast_tx_sync and Simulate: ~0.8 MB of MsgExec nested 9,000
    // deep overflowed the stack while signers were extracted.
    let deep = nested_send(9_000);
    assert!(deep.value.len() > 500_000, "{}", deep.value.len());
    // max_tx_bytes is a genesis parameter: start a chain whose limit admits the bytes.
    let mut chain = Chain::configured(|g| g.auth.params.max_tx_bytes = 2 << 20);
    for e in [
        check_tx(&mut chain, 2, vec![deep.clone()]).unwrap_err(),
        simulate(&mut chain, 2, vec![deep.clone()]).unwrap_err(),
    ] {
        assert_eq!(e.code, ErrorCode::LimitExceeded, "{e:?}");
    }
}

#[test]
fn messages_per_tx_are_counted_across_the_whole_tree() {
    let mut chain = Chain::new(Default::default());
    let sends = |n: usize| (0..n).map(|_| send(2, 4)).collect::<Vec<_>>();
    // At the bound the tree passes (this chain's 1M gas limit then runs out, a different code).
    if let Err(e) = check_tx(&mut chain, 2, sends(MAX_TX_MSGS)) {
        assert_eq!(e.code, ErrorCode::OutOfGas, "{e:?}");
    }
    // 5,000 sends (the tx whose results once bricked the chain) and one over the bound.
    for msgs in [
        sends(5_000),
        sends(MAX_TX_MSGS + 1),
        vec![exec(2, sends(MAX_TX_MSGS))],
    ] {
        let e = check_tx(&mut chain, 2, msgs).unwrap_err();
        assert_eq!(e.code, ErrorCode::LimitExceeded, "{e:?}");
        assert!(e.message.contains("the limit is 256"), "{}", e.message);
    }
    // Proposals: at most MAX_PROPOSAL_MSGS messages.
    let gov_sends: Vec<Any> = (0..=MAX_PROPOSAL_MSGS)
        .map(|_| {
            to_any(
                "/cosmos.bank.v1beta1.MsgSend",
                &bank::MsgSend {
                    from_address: gov_address().to_string(),
                    to_address: addr(4).to_string(),
                    amount: vec![Coin::new("ucsp", 1).to_proto()],
                },
            )
        })
        .collect();
    let e = check_tx(&mut chain, 2, vec![submit(2, gov_sends, 10_000_000, false)]).unwrap_err();
    assert_eq!(e.code, ErrorCode::LimitExceeded, "{e:?}");
}

#[test]
fn a_tx_emitting_too_many_events_fails_at_execution_and_pays_its_fee() {
    let mut chain = Chain::new(Default::default());
    chain.fee = 1;
    let outputs: Vec<bank::Output> = (0..1000)
        .map(|i| bank::Output {
            address: addr(3 + (i % 2) as u8).to_string(),
            coins: vec![Coin::new("ucsp", 1).to_proto()],
        })
        .collect();
    let multi = to_any(
        "/cosmos.bank.v1beta1.MsgMultiSend",
        &bank::MsgMultiSend {
            inputs: vec![bank::Input {
                address: addr(2).to_string(),
                coins: vec![Coin::new("ucsp", 1000).to_proto()],
            }],
            outputs,
        },
    );
    let raw = sign_tx(
        &key(2),
        vec![multi; 5],
        &TxParams {
            chain_id: CHAIN.into(),
            account_number: 1,
            sequence: 0,
            fee: "1ucsp".parse().unwrap(),
            gas_limit: 1 << 40,
            memo: String::new(),
            include_pubkey: true,
        },
    );
    let before = chain.balance(&addr(2));
    let r = chain.block(vec![raw], 1000).remove(0);
    assert_eq!(r.code, ErrorCode::ResultTooLarge.code(), "{}", r.log);
    assert!(
        !r.bars_block(),
        "a state-dependent failure is an ordinary tx failure"
    );
    assert!(r.events.len() < 100, "only the ante events are kept");
    assert_eq!(chain.balance(&addr(2)), before - 1, "only the fee is paid");
}
