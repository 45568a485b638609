//! Staking through real signed txs and whole blocks: delegation, undelegation (maturing exactly
//! at its completion time), redelegation and its no-hop rule, cancelled unbondings, the bonded
//! set and its hand-over to consensus, and supply conservation.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::staking::delegation::{bonded_pool, not_bonded_pool};
use caspur_app::modules::staking::state::{self as st, Status};
use caspur_app::modules::staking::StakingParams;
use caspur_app::TxResult;
use caspur_types::sign::to_any;
use common::*;
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;

#[test]
fn the_genesis_validator_is_bonded_and_handed_to_consensus() {
    let chain = Chain::new(StakingParams::default());
    let v = chain.validator(1);
    assert_eq!(v.status, Status::Bonded);
    assert_eq!(v.tokens, GENESIS_SELF);
    assert_eq!(chain.balance(&bonded_pool()), GENESIS_SELF);
    assert_eq!(chain.balance(&addr(1)), FUNDS - GENESIS_SELF);
    assert_eq!(chain.next_set(), Some(vec![member(1, GENESIS_SELF)]));
    assert_eq!(chain.supply(), 4 * FUNDS);
}

#[test]
fn delegation_and_undelegation_move_the_right_amounts_and_mature_exactly_on_time() {
    let mut chain = Chain::new(StakingParams::default());
    let unbonding = StakingParams::default().unbonding_time_ms();
    chain.ok(2, delegate(2, 1, 5_000_000));
    assert_eq!(chain.balance(&addr(2)), FUNDS - 5_000_000);
    assert_eq!(chain.shares_worth(2, 1), 5_000_000);
    assert_eq!(chain.validator(1).tokens, GENESIS_SELF + 5_000_000);
    assert_eq!(chain.balance(&bonded_pool()), GENESIS_SELF + 5_000_000);

    let r = chain.ok(2, undelegate(2, 1, 2_000_000));
    let completion = chain.time_ms + unbonding;
    let response = undelegate_response(&r);
    assert_eq!(response.amount.unwrap().amount, "2000000");
    assert_eq!(chain.shares_worth(2, 1), 3_000_000);
    assert_eq!(chain.balance(&not_bonded_pool()), 2_000_000);
    assert_eq!(chain.balance(&addr(2)), FUNDS - 5_000_000);
    // One millisecond before completion: still unbonding.
    let wait = completion - chain.time_ms - 1;
    chain.block(Vec::new(), wait);
    assert_eq!(chain.balance(&addr(2)), FUNDS - 5_000_000);
    // At completion: paid.
    chain.block(Vec::new(), 1);
    assert_eq!(chain.time_ms, completion);
    assert_eq!(chain.balance(&addr(2)), FUNDS - 3_000_000);
    assert_eq!(chain.balance(&not_bonded_pool()), 0);
    assert_eq!(chain.supply(), 4 * FUNDS);
}

#[test]
fn a_new_validator_joins_the_set_and_redelegations_cannot_hop() {
    let mut chain = Chain::new(StakingParams::default());
    chain.ok(3, create_validator(3, 4_000_000));
    assert_eq!(chain.validator(3).status, Status::Bonded);
    let mut expected = vec![member(1, GENESIS_SELF), member(3, 4_000_000)];
    expected.sort();
    assert_eq!(chain.next_set(), Some(expected));

    chain.ok(2, delegate(2, 1, 3_000_000));
    let r = chain.ok(2, redelegate(2, 1, 3, 1_000_000));
    assert!(r.events.iter().any(|e| e.kind == "redelegate"));
    assert_eq!(chain.shares_worth(2, 1), 2_000_000);
    assert_eq!(chain.shares_worth(2, 3), 1_000_000);
    assert_eq!(chain.validator(3).tokens, 5_000_000);
    // The redelegated tokens may not move on before the unbonding time passes.
    let hop = chain.run(2, redelegate(2, 3, 1, 500_000));
    assert_ne!(hop.code, 0);
    assert!(
        hop.log
            .contains("redelegation to this validator already in progress"),
        "{}",
        hop.log
    );
    chain.block(Vec::new(), StakingParams::default().unbonding_time_ms());
    chain.ok(2, redelegate(2, 3, 1, 500_000));
    assert_eq!(chain.shares_worth(2, 1), 2_500_000);
    assert_eq!(chain.supply(), 4 * FUNDS);
}

#[test]
fn a_cancelled_unbonding_returns_to_the_delegation() {
    let mut chain = Chain::new(StakingParams::default());
    chain.ok(2, delegate(2, 1, 5_000_000));
    chain.ok(2, undelegate(2, 1, 2_000_000));
    let height = chain.height;
    chain.ok(
        2,
        to_any(
            "/cosmos.staking.v1beta1.MsgCancelUnbondingDelegation",
            &pb::MsgCancelUnbondingDelegation {
                delegator_address: addr(2).to_string(),
                validator_address: valoper(1),
                amount: coin(1_500_000),
                creation_height: height as i64,
            },
        ),
    );
    assert_eq!(chain.shares_worth(2, 1), 4_500_000);
    assert_eq!(chain.balance(&not_bonded_pool()), 500_000);
    chain.block(Vec::new(), StakingParams::default().unbonding_time_ms());
    assert_eq!(chain.balance(&addr(2)), FUNDS - 4_500_000);
    assert_eq!(chain.supply(), 4 * FUNDS);
}

#[test]
fn only_the_strongest_validators_are_bonded_and_the_others_unbond() {
    let params = StakingParams {
        max_validators: 1,
        unbonding_time_secs: 3600,
        ..StakingParams::default()
    };
    let mut chain = Chain::new(params);
    chain.ok(3, create_validator(3, 4_000_000));
    assert_eq!(chain.validator(3).status, Status::Unbonded);
    assert_eq!(chain.next_set(), Some(vec![member(1, GENESIS_SELF)]));
    // Validator 3 outgrows validator 1: they swap.
    chain.ok(4, delegate(4, 3, 2 * GENESIS_SELF));
    assert_eq!(chain.validator(3).status, Status::Bonded);
    assert_eq!(chain.validator(1).status, Status::Unbonding);
    let tokens3 = 4_000_000 + 2 * GENESIS_SELF;
    assert_eq!(chain.next_set(), Some(vec![member(3, tokens3)]));
    assert_eq!(chain.balance(&bonded_pool()), tokens3);
    assert_eq!(chain.balance(&not_bonded_pool()), GENESIS_SELF);
    chain.block(Vec::new(), 3600 * 1000);
    assert_eq!(chain.validator(1).status, Status::Unbonded);
    // Undelegating from an unbonded validator pays out at once (end of the same block).
    chain.ok(1, undelegate(1, 1, 1_000_000));
    assert_eq!(chain.balance(&addr(1)), FUNDS - GENESIS_SELF + 1_000_000);
    assert_eq!(chain.supply(), 4 * FUNDS);
}

#[test]
fn bad_staking_messages_fail_with_clear_errors_and_change_nothing() {
    let mut chain = Chain::new(StakingParams::default());
    let before = (chain.balance(&addr(1)), chain.balance(&addr(2)));
    for (signer, msg, needle) in [
        (2, delegate(2, 4, 1_000), "does not exist"),
        (2, undelegate(2, 1, 1_000), "no delegation"),
        (2, redelegate(2, 1, 1, 1_000), "same validator"),
        (1, create_validator(1, 2_000_000), "already exists"),
        (2, delegate(2, 1, FUNDS + 1), "insufficient funds"),
    ] {
        let r = chain.run(signer, msg);
        assert_ne!(r.code, 0);
        assert!(r.log.contains(needle), "{} lacks {needle:?}", r.log);
    }
    // The genesis validator's consensus key cannot be reused.
    use prost::Message as _;
    let mut reuse =
        pb::MsgCreateValidator::decode(create_validator(2, 2_000_000).value.as_slice()).unwrap();
    reuse.pubkey = Some(cosmos_sdk_proto::Any {
        type_url: st::ED25519_KEY_URL.into(),
        value: prost::Message::encode_to_vec(&cosmos_sdk_proto::cosmos::crypto::ed25519::PubKey {
            key: vec![1; 32],
        }),
    });
    let r = chain.run(
        2,
        to_any("/cosmos.staking.v1beta1.MsgCreateValidator", &reuse),
    );
    assert!(r.log.contains("consensus key"), "{}", r.log);
    assert_eq!((chain.balance(&addr(1)), chain.balance(&addr(2))), before);
    assert_eq!(chain.next_set(), Some(vec![member(1, GENESIS_SELF)]));
}

/// The `MsgUndelegateResponse` in a tx's `TxMsgData`.
fn undelegate_response(r: &TxResult) -> pb::MsgUndelegateResponse {
    use prost::Message as _;
    let data = cosmos_sdk_proto::cosmos::base::abci::v1beta1::TxMsgData::decode(r.data.as_slice())
        .unwrap();
    pb::MsgUndelegateResponse::decode(data.msg_responses[0].value.as_slice()).unwrap()
}

#[test]
fn two_nodes_executing_the_same_blocks_reach_the_same_state() {
    let run = || {
        let mut chain = Chain::new(StakingParams::default());
        chain.ok(3, create_validator(3, 4_000_000));
        chain.ok(2, delegate(2, 3, 7_000_000));
        chain.ok(2, undelegate(2, 3, 1_000_000));
        chain.block(Vec::new(), DAY_MS);
        chain.state
    };
    assert_eq!(run(), run());
}
