//! Governance through real signed txs and blocks: proposals that pass (and run their messages
//! through the router as the gov account), miss quorum, miss the threshold, are vetoed, or are
//! expedited and converted — each with its deposit outcome — and parameter updates that apply
//! or fail without effect.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::bank::GenesisCoin;
use caspur_app::modules::gov::params::MessageMinDeposit;
use caspur_app::modules::gov::state::{self as gs, gov_address};
use caspur_app::modules::gov::GovParams;
use caspur_app::modules::staking::state as st;
use caspur_types::sign::to_any;
use common::*;
use cosmos_sdk_proto::cosmos::gov::v1 as gov;
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;
use cosmos_sdk_proto::tendermint::google::protobuf::Duration;

const DEPOSIT: u128 = 10_000_000;

/// A staking `MsgUpdateParams` from the gov account setting `max_entries` (and `bond_denom`).
fn staking_params(max_entries: u32, bond_denom: &str) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.staking.v1beta1.MsgUpdateParams",
        &pb::MsgUpdateParams {
            authority: gov_address().to_string(),
            params: Some(pb::Params {
                unbonding_time: Some(Duration {
                    seconds: 21 * 24 * 3600,
                    nanos: 0,
                }),
                max_validators: 100,
                max_entries,
                historical_entries: 0,
                bond_denom: bond_denom.into(),
                min_commission_rate: "0".into(),
            }),
        },
    )
}

fn max_entries(chain: &Chain) -> u32 {
    chain.read(async |kv| st::get_params(kv).await.unwrap().max_entries)
}

/// Submits a proposal with `deposit` from key 2, has the genesis validator (all bonded stake)
/// vote `option`, and runs past the voting period; returns the proposal.
fn decided(
    option: Option<gov::VoteOption>,
    messages: Vec<cosmos_sdk_proto::Any>,
) -> (Chain, gov::Proposal, u128) {
    let mut chain = Chain::new(Default::default());
    let before = chain.balance(&addr(2));
    chain.ok(2, submit(2, messages, DEPOSIT, false));
    assert_eq!(
        status(&proposal(&chain, 1)),
        gov::ProposalStatus::VotingPeriod
    );
    assert_eq!(chain.balance(&gov_address()), DEPOSIT);
    if let Some(option) = option {
        chain.ok(1, vote(1, 1, option));
    }
    chain.block(Vec::new(), voting_ms());
    let p = proposal(&chain, 1);
    (chain, p, before)
}

#[test]
fn a_passed_proposal_runs_its_messages_as_the_gov_account_and_refunds_the_deposit() {
    let (chain, p, before) = decided(Some(gov::VoteOption::Yes), vec![staking_params(3, "ucsp")]);
    assert_eq!(
        status(&p),
        gov::ProposalStatus::Passed,
        "{}",
        p.failed_reason
    );
    assert_eq!(max_entries(&chain), 3);
    assert_eq!(chain.balance(&addr(2)), before, "deposit refunded");
    assert_eq!(chain.balance(&gov_address()), 0);
    assert_eq!(
        p.final_tally_result.unwrap().yes_count,
        GENESIS_SELF.to_string()
    );
}

#[test]
fn a_proposal_without_quorum_is_rejected_and_refunded() {
    let (chain, p, before) = decided(None, vec![staking_params(3, "ucsp")]);
    assert_eq!(status(&p), gov::ProposalStatus::Rejected);
    assert_eq!(max_entries(&chain), 7);
    assert_eq!(chain.balance(&addr(2)), before);
}

#[test]
fn a_proposal_voted_down_is_rejected_and_refunded() {
    let (chain, p, before) = decided(Some(gov::VoteOption::No), vec![staking_params(3, "ucsp")]);
    assert_eq!(status(&p), gov::ProposalStatus::Rejected);
    assert_eq!(max_entries(&chain), 7);
    assert_eq!(chain.balance(&addr(2)), before);
}

#[test]
fn a_vetoed_proposal_burns_its_deposit() {
    let (chain, p, before) = decided(
        Some(gov::VoteOption::NoWithVeto),
        vec![staking_params(3, "ucsp")],
    );
    assert_eq!(status(&p), gov::ProposalStatus::Rejected);
    assert_eq!(chain.balance(&addr(2)), before - DEPOSIT);
    assert_eq!(chain.supply(), 4 * FUNDS - DEPOSIT, "burned, not moved");
}

#[test]
fn an_invalid_update_fails_the_proposal_with_a_reason_and_changes_nothing() {
    // Valid on its own, refused at execution: the staked denom cannot change on a live chain.
    let (chain, p, before) = decided(
        Some(gov::VoteOption::Yes),
        vec![staking_params(3, "uother")],
    );
    assert_eq!(status(&p), gov::ProposalStatus::Failed);
    assert_eq!(
        p.failed_reason,
        "message 0 failed: sdk code 18: invalid request"
    );
    assert_eq!(max_entries(&chain), 7);
    assert_eq!(
        chain.balance(&addr(2)),
        before,
        "a passed proposal's deposit is refunded"
    );
    // And an update no chain could take is refused at submission.
    let mut chain = chain;
    let r = chain.run(
        2,
        submit(2, vec![staking_params(0, "ucsp")], DEPOSIT, false),
    );
    assert_ne!(r.code, 0);
    assert!(r.log.contains("max_entries"), "{}", r.log);
}

#[test]
fn proposal_messages_must_be_signed_by_the_gov_account() {
    let mut chain = Chain::new(Default::default());
    let r = chain.run(2, submit(2, vec![delegate(2, 1, 1_000)], DEPOSIT, false));
    assert_ne!(r.code, 0);
    assert!(r.log.contains("gov module account"), "{}", r.log);
}

#[test]
fn an_expedited_proposal_missing_its_threshold_becomes_regular_and_can_still_pass() {
    let mut chain = Chain::new(Default::default());
    // Key 2 delegates 8,000 CSP to the genesis validator (10,000 CSP) and votes no; the
    // operator's yes counts for its own 10,000: 55.6 % yes, under 66.7 %, over 50 %.
    chain.ok(2, delegate(2, 1, 8_000_000_000));
    let expedited_deposit = 50_000_000;
    chain.ok(
        3,
        submit(3, vec![staking_params(4, "ucsp")], expedited_deposit, true),
    );
    chain.ok(1, vote(1, 1, gov::VoteOption::Yes));
    chain.ok(2, vote(2, 1, gov::VoteOption::No));
    chain.block(
        Vec::new(),
        GovParams::default().expedited_voting_period_secs * 1000,
    );
    let p = proposal(&chain, 1);
    assert_eq!(status(&p), gov::ProposalStatus::VotingPeriod);
    assert!(!p.expedited, "converted to a regular proposal");
    assert_eq!(max_entries(&chain), 7);
    chain.block(Vec::new(), voting_ms());
    let p = proposal(&chain, 1);
    assert_eq!(
        status(&p),
        gov::ProposalStatus::Passed,
        "{}",
        p.failed_reason
    );
    let tally = p.final_tally_result.unwrap();
    assert_eq!(tally.yes_count, GENESIS_SELF.to_string());
    assert_eq!(tally.no_count, "8000000000");
    assert_eq!(max_entries(&chain), 4);
}

#[test]
fn deposits_below_the_minimum_wait_and_a_type_may_demand_more() {
    let own_minimum = 100_000_000u128;
    let mut chain = Chain::configured(|g| {
        g.gov.params.message_min_deposits = vec![MessageMinDeposit {
            type_url: "/cosmos.staking.v1beta1.MsgUpdateParams".into(),
            min_deposit: vec![GenesisCoin {
                denom: "ucsp".into(),
                amount: own_minimum.to_string(),
            }],
        }];
    });
    chain.ok(
        2,
        submit(2, vec![staking_params(3, "ucsp")], DEPOSIT, false),
    );
    assert_eq!(
        status(&proposal(&chain, 1)),
        gov::ProposalStatus::DepositPeriod
    );
    let top_up = to_any(
        "/cosmos.gov.v1.MsgDeposit",
        &gov::MsgDeposit {
            proposal_id: 1,
            depositor: addr(3).to_string(),
            amount: vec![caspur_types::Coin::new("ucsp", own_minimum - DEPOSIT).to_proto()],
        },
    );
    chain.ok(3, top_up);
    assert_eq!(
        status(&proposal(&chain, 1)),
        gov::ProposalStatus::VotingPeriod
    );
    let mut expected = vec![addr(2), addr(3)];
    expected.sort();
    assert_eq!(
        chain.read(async |kv| gs::depositors(kv, 1).await.unwrap()),
        expected
    );
    // A second proposal never reaches its minimum: dropped after the deposit period, refunded.
    let before = chain.balance(&addr(4));
    chain.ok(
        4,
        submit(4, vec![staking_params(3, "ucsp")], DEPOSIT, false),
    );
    assert_eq!(chain.balance(&addr(4)), before - DEPOSIT);
    chain.block(
        Vec::new(),
        GovParams::default().max_deposit_period_secs * 1000,
    );
    assert!(chain
        .read(async |kv| gs::get_proposal(kv, 2).await.unwrap())
        .is_none());
    assert_eq!(chain.balance(&addr(4)), before);
}

#[test]
fn votes_are_refused_outside_the_voting_period_and_for_bad_options() {
    let mut chain = Chain::new(Default::default());
    let r = chain.run(1, vote(1, 9, gov::VoteOption::Yes));
    assert!(r.log.contains("does not exist"), "{}", r.log);
    let weighted = to_any(
        "/cosmos.gov.v1.MsgVoteWeighted",
        &gov::MsgVoteWeighted {
            proposal_id: 1,
            voter: addr(1).to_string(),
            options: vec![
                gov::WeightedVoteOption {
                    option: 1,
                    weight: "0.5".into(),
                },
                gov::WeightedVoteOption {
                    option: 3,
                    weight: "0.4".into(),
                },
            ],
            metadata: String::new(),
        },
    );
    let r = chain.run(1, weighted);
    assert!(r.log.contains("sum to 1"), "{}", r.log);
}

#[test]
#[allow(deprecated)]
fn governance_can_switch_off_transfers_and_nothing_else_can() {
    let disable = to_any(
        "/cosmos.bank.v1beta1.MsgUpdateParams",
        &cosmos_sdk_proto::cosmos::bank::v1beta1::MsgUpdateParams {
            authority: gov_address().to_string(),
            params: Some(cosmos_sdk_proto::cosmos::bank::v1beta1::Params {
                send_enabled: Vec::new(),
                default_send_enabled: false,
            }),
        },
    );
    // Sent directly, the gov account's signature is missing: refused.
    let mut chain = Chain::new(Default::default());
    let r = chain.run(2, disable.clone());
    assert_ne!(r.code, 0);
    let (mut chain, p, _) = decided(Some(gov::VoteOption::Yes), vec![disable]);
    assert_eq!(
        status(&p),
        gov::ProposalStatus::Passed,
        "{}",
        p.failed_reason
    );
    let send = to_any(
        "/cosmos.bank.v1beta1.MsgSend",
        &cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend {
            from_address: addr(3).to_string(),
            to_address: addr(4).to_string(),
            amount: vec![caspur_types::Coin::new("ucsp", 1).to_proto()],
        },
    );
    let r = chain.run(3, send);
    assert!(r.log.contains("transfers are disabled"), "{}", r.log);
}

#[test]
fn governance_changes_slashing_parameters() {
    let update = to_any(
        "/cosmos.slashing.v1beta1.MsgUpdateParams",
        &cosmos_sdk_proto::cosmos::slashing::v1beta1::MsgUpdateParams {
            authority: gov_address().to_string(),
            params: Some(cosmos_sdk_proto::cosmos::slashing::v1beta1::Params {
                signed_blocks_window: 200,
                min_signed_per_window: b"600000000000000000".to_vec(),
                downtime_jail_duration: Some(Duration {
                    seconds: 3600,
                    nanos: 0,
                }),
                slash_fraction_double_sign: b"50000000000000000".to_vec(),
                slash_fraction_downtime: b"100000000000000".to_vec(),
            }),
        },
    );
    let (chain, p, _) = decided(Some(gov::VoteOption::Yes), vec![update]);
    assert_eq!(
        status(&p),
        gov::ProposalStatus::Passed,
        "{}",
        p.failed_reason
    );
    let params = chain.read(async |kv| {
        caspur_app::modules::slashing::state::get_params(kv)
            .await
            .unwrap()
    });
    assert_eq!(params.signed_blocks_window, 200);
    assert_eq!(params.min_signed_per_window, "0.600000000000000000");
    assert_eq!(params.downtime_jail_duration_secs, 3600);
}
