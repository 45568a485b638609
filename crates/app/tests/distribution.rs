//! Distribution through real signed txs and blocks: fees and inflation reach the community
//! pool, the validator's commission and its delegators; rewards are paid on withdrawal and
//! whenever a delegation changes; the community pool pays out only what it holds.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::distribution::rewards::pending;
use caspur_app::modules::distribution::state::{commission, community_pool, distribution_address};
use caspur_app::modules::gov::state::gov_address;
use caspur_types::sign::to_any;
use common::*;
use cosmos_sdk_proto::cosmos::distribution::v1beta1 as pb;
use cosmos_sdk_proto::cosmos::gov::v1 as gov;

const FEE: u128 = 1_000_000;

fn pool(chain: &Chain) -> u128 {
    chain.read(async |kv| community_pool(kv).await.unwrap())
}

fn rewards(chain: &Chain, delegator: u8, validator: u8) -> u128 {
    chain.read(async |kv| {
        pending(kv, &addr(delegator), &addr(validator))
            .await
            .unwrap()
    })
}

fn withdraw(delegator: u8, validator: u8) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward",
        &pb::MsgWithdrawDelegatorReward {
            delegator_address: addr(delegator).to_string(),
            validator_address: valoper(validator),
        },
    )
}

#[test]
fn fees_reach_the_pool_the_commission_and_the_delegators() {
    let mut chain = Chain::new(Default::default());
    chain.fee = FEE;
    chain.ok(2, delegate(2, 1, GENESIS_SELF));
    // One fee: 2 % to the pool; the validator's 10 % commission of the rest; the remainder
    // split between the operator's and key 2's equal delegations.
    let tax = FEE * 2 / 100;
    let commission_part = (FEE - tax) / 10;
    let each = (FEE - tax - commission_part) / 2;
    assert_eq!(pool(&chain), tax);
    assert_eq!(
        chain.read(async |kv| commission(kv, &addr(1)).await.unwrap()),
        commission_part
    );
    assert!(rewards(&chain, 1, 1).abs_diff(each) <= 1);
    assert!(rewards(&chain, 2, 1).abs_diff(each) <= 1);
    // Withdrawing pays exactly what was pending (minus this tx's own fee, which is the next
    // block's to distribute).
    let before = chain.balance(&addr(2));
    let due = rewards(&chain, 2, 1);
    chain.ok(2, withdraw(2, 1));
    assert_eq!(chain.balance(&addr(2)), before - FEE + due);
    assert_eq!(
        chain.supply(),
        4 * FUNDS,
        "fees and rewards move coins, never mint"
    );
}

#[test]
fn a_changing_delegation_is_paid_its_rewards_first() {
    let mut chain = Chain::new(Default::default());
    chain.fee = FEE;
    chain.ok(2, delegate(2, 1, GENESIS_SELF));
    let due = rewards(&chain, 2, 1);
    assert!(due > 0);
    let before = chain.balance(&addr(2));
    let r = chain.ok(2, delegate(2, 1, 1_000_000));
    assert!(r.events.iter().any(|e| e.kind == "withdraw_rewards"));
    assert_eq!(chain.balance(&addr(2)), before - FEE - 1_000_000 + due);
    // Earned from this block on, with the new shares.
    assert!(rewards(&chain, 2, 1) > 0);
}

#[test]
fn inflation_mints_the_yearly_rate_into_rewards_and_the_pool() {
    let mut chain = Chain::configured(|g| g.distribution.params.inflation_rate = "0.1".into());
    let supply = chain.supply();
    chain.block(Vec::new(), 365 * DAY_MS);
    let minted = chain.supply() - supply;
    assert_eq!(minted, supply / 10, "one year at 10 %");
    assert_eq!(pool(&chain), minted * 2 / 100);
    let operator = rewards(&chain, 1, 1);
    let commission_part = chain.read(async |kv| commission(kv, &addr(1)).await.unwrap());
    assert!(minted - pool(&chain) - commission_part - operator <= 1);
}

#[test]
fn the_community_pool_pays_governance_only_what_it_holds() {
    let mut chain = Chain::new(Default::default());
    let fund = to_any(
        "/cosmos.distribution.v1beta1.MsgFundCommunityPool",
        &pb::MsgFundCommunityPool {
            amount: vec![caspur_types::Coin::new("ucsp", 5_000_000).to_proto()],
            depositor: addr(3).to_string(),
        },
    );
    chain.ok(3, fund);
    assert_eq!(pool(&chain), 5_000_000);
    let spend = |amount: u128| {
        to_any(
            "/cosmos.distribution.v1beta1.MsgCommunityPoolSpend",
            &pb::MsgCommunityPoolSpend {
                authority: gov_address().to_string(),
                recipient: addr(4).to_string(),
                amount: vec![caspur_types::Coin::new("ucsp", amount).to_proto()],
            },
        )
    };
    let propose = |msg| {
        to_any(
            "/cosmos.gov.v1.MsgSubmitProposal",
            &gov::MsgSubmitProposal {
                messages: vec![msg],
                initial_deposit: vec![caspur_types::Coin::new("ucsp", 10_000_000).to_proto()],
                proposer: addr(2).to_string(),
                metadata: String::new(),
                title: "spend".into(),
                summary: "pay from the pool".into(),
                expedited: false,
            },
        )
    };
    let vote = |id: u64| {
        to_any(
            "/cosmos.gov.v1.MsgVote",
            &gov::MsgVote {
                proposal_id: id,
                voter: addr(1).to_string(),
                option: gov::VoteOption::Yes as i32,
                metadata: String::new(),
            },
        )
    };
    let voting = caspur_app::modules::gov::GovParams::default().voting_period_secs * 1000;
    // Too much: the proposal passes but fails to execute; nothing is minted.
    chain.ok(2, propose(spend(6_000_000)));
    chain.ok(1, vote(1));
    chain.block(Vec::new(), voting);
    let p = chain.read(async |kv| {
        caspur_app::modules::gov::state::get_proposal(kv, 1)
            .await
            .unwrap()
            .unwrap()
    });
    assert_eq!(p.status, gov::ProposalStatus::Failed as i32);
    // Our own fixed reason: the failing message and its code, never foreign text.
    assert_eq!(
        p.failed_reason,
        "message 0 failed: sdk code 5: insufficient funds"
    );
    assert_eq!(chain.supply(), 4 * FUNDS);
    // Within the pool: paid.
    let before = chain.balance(&addr(4));
    chain.ok(2, propose(spend(4_000_000)));
    chain.ok(1, vote(2));
    chain.block(Vec::new(), voting);
    assert_eq!(chain.balance(&addr(4)), before + 4_000_000);
    assert_eq!(pool(&chain), 1_000_000);
    assert_eq!(chain.balance(&distribution_address()), 1_000_000);
}
