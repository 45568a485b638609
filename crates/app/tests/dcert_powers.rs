//! dCERT member powers and governance (SPEC §2.3–2.6): suspension by quorum freeing the seat
//! and freezing the bond; a governance slash burning bonded and unbonding tokens of a member
//! that started unbonding; a review that ends without a decision letting the unbonding finish;
//! circuit-break authorization; dissolution (own deposit, pending power suspension, pass,
//! reject); stipends paid pro rata from the community pool without minting.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::circuit::state as circuit;
use caspur_app::modules::dcert::state as dc;
use caspur_app::modules::dcert::DcertParams;
use caspur_app::modules::gov::state::gov_address;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::sign::to_any;
use common::*;
use cosmos_sdk_proto::cosmos::gov::v1 as gov;

const DAY_SECS: u64 = 86_400;
const DISSOLUTION_DEPOSIT: u128 = 50_000_000;

fn params() -> DcertParams {
    DcertParams {
        max_members: 3,
        min_member_stake: MIN_BOND.to_string(),
        stabilization_period_secs: 0,
        circuit_break_enabled: true,
        suspension_review_period_secs: 4 * DAY_SECS,
        dissolution_deposit: DISSOLUTION_DEPOSIT.to_string(),
        ..DcertParams::default()
    }
}

/// Members 5, 6, 7 seated; unbonding takes one day.
fn group(params: DcertParams) -> Chain {
    let mut chain = dcert_chain_with(params, |g| g.staking.params.unbonding_time_secs = DAY_SECS);
    candidates(&mut chain, &[5, 6, 7]);
    assert_eq!(member_ids(&chain), vec![5, 6, 7]);
    chain
}

fn suspend(member: u8, target: u8) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.dcert.v1.MsgVoteSuspend",
        &pb::MsgVoteSuspend {
            member: addr(member).to_string(),
            target: addr(target).to_string(),
        },
    )
}

fn unbond(staker: u8, candidate: u8, amount: u128) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.dcert.v1.MsgUnbondDcert",
        &pb::MsgUnbondDcert {
            staker: addr(staker).to_string(),
            candidate: addr(candidate).to_string(),
            amount: coin(amount),
        },
    )
}

fn slash(member: u8, fraction: &str) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.dcert.v1.MsgSlashDcertMember",
        &pb::MsgSlashDcertMember {
            authority: gov_address().to_string(),
            member: addr(member).to_string(),
            fraction: fraction.into(),
            reason: "leaked a report".into(),
        },
    )
}

fn dissolve(fraction: &str) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.dcert.v1.MsgDissolveDcert",
        &pb::MsgDissolveDcert {
            authority: gov_address().to_string(),
            slash_fraction: fraction.into(),
            reason: "the group is compromised".into(),
        },
    )
}

const SEND: &str = "/cosmos.bank.v1beta1.MsgSend";

fn candidate(chain: &Chain, n: u8) -> dc::Candidate {
    chain.read(async |kv| dc::candidate(kv, &addr(n)).await.unwrap())
}

#[test]
fn a_quorum_suspends_a_member_frees_its_seat_and_a_governance_slash_reaches_its_unbonding() {
    let mut chain = group(params());
    candidates(&mut chain, &[8]);
    // 2/3 of the two others: one vote is not enough, two are.
    let r = chain.ok(5, suspend(5, 7));
    assert!(!r.events.iter().any(|e| e.kind == "dcert_member_suspended"));
    chain.ok(6, suspend(6, 7));
    assert!(candidate(&chain, 7).is_suspended());
    assert_eq!(member_ids(&chain), vec![5, 6, 8], "the seat was filled");
    // A suspended member has no powers.
    let r = chain.run(7, suspend(7, 5));
    assert!(r.log.contains("not an active dCERT member"), "{}", r.log);
    // It starts unbonding to escape; governance slashes half while the review is open.
    chain.ok(7, unbond(7, 7, MIN_BOND));
    let supply = chain.supply();
    let before = chain.balance(&addr(7));
    let id = decide(&mut chain, vec![slash(7, "0.5")], 10_000_000, true);
    assert_eq!(
        status(&proposal(&chain, id)),
        gov::ProposalStatus::Passed,
        "{}",
        proposal(&chain, id).failed_reason
    );
    assert_eq!(
        chain.supply(),
        supply - MIN_BOND / 2,
        "half the unbonding tokens burned"
    );
    assert!(
        !candidate(&chain, 7).is_suspended(),
        "the decision closed the review"
    );
    chain.block(Vec::new(), DAY_SECS * 1000);
    assert_eq!(chain.balance(&addr(7)), before + MIN_BOND / 2);
}

#[test]
fn a_review_without_a_decision_freezes_the_unbonding_until_it_ends() {
    let mut chain = group(params());
    chain.ok(5, suspend(5, 7));
    chain.ok(6, suspend(6, 7));
    chain.ok(7, unbond(7, 7, MIN_BOND));
    let before = chain.balance(&addr(7));
    // The unbonding time (1 day) passes, but the review (4 days) is open: frozen.
    chain.block(Vec::new(), 2 * DAY_SECS * 1000);
    assert_eq!(chain.balance(&addr(7)), before);
    let r = chain.read(async |kv| dc::suspended(kv).await.unwrap());
    assert_eq!(r, vec![addr(7)]);
    chain.block(Vec::new(), 2 * DAY_SECS * 1000);
    assert!(!candidate(&chain, 7).is_suspended());
    assert_eq!(
        chain.balance(&addr(7)),
        before + MIN_BOND,
        "paid once the review ended"
    );
}

#[test]
fn circuit_breaking_needs_an_active_member_the_privilege_and_no_pending_dissolution() {
    let mut disabled = group(DcertParams {
        circuit_break_enabled: false,
        ..params()
    });
    let r = disabled.run(5, member_break(5, &[SEND], 0));
    assert!(r.log.contains("disabled"), "{}", r.log);

    let mut chain = group(params());
    let r = chain.run(9, member_break(9, &[SEND], 0));
    assert!(r.log.contains("not an active dCERT member"), "{}", r.log);
    chain.ok(5, suspend(5, 7));
    chain.ok(6, suspend(6, 7));
    let r = chain.run(7, member_break(7, &[SEND], 0));
    assert!(
        r.log.contains("not an active dCERT member"),
        "suspended: {}",
        r.log
    );
    // Unknown and unbreakable routes are refused.
    let r = chain.run(5, member_break(5, &["/cosmos.nothing.v1.MsgNothing"], 0));
    assert!(r.log.contains("matches no registered message"), "{}", r.log);
    let r = chain.run(5, member_break(5, &["/caspur.dcert.v1."], 0));
    assert!(r.log.contains("can never be broken"), "{}", r.log);
    // A pending dissolution suspends the power; then an enabled member succeeds.
    chain.ok(
        2,
        submit(2, vec![dissolve("0")], DISSOLUTION_DEPOSIT, false),
    );
    let r = chain.run(5, member_break(5, &[SEND], 0));
    assert!(
        r.log.contains("dissolution proposal is pending"),
        "{}",
        r.log
    );
    chain.ok(1, vote(1, 1, gov::VoteOption::No));
    chain.block(Vec::new(), voting_ms());
    chain.ok(5, member_break(5, &[SEND], 0));
    let broken = chain.read(async |kv| circuit::get_broken(kv, SEND).await.unwrap());
    assert_eq!(broken.unwrap().by, addr(5).to_string());
}

#[test]
fn a_dissolution_needs_its_deposit_and_a_passed_one_removes_and_slashes_every_member() {
    let mut chain = group(params());
    let r = chain.run(
        2,
        submit(2, vec![dissolve("0.1")], DISSOLUTION_DEPOSIT - 1, false),
    );
    assert!(r.log.contains("at least"), "{}", r.log);
    let supply = chain.supply();
    let id = decide(&mut chain, vec![dissolve("0.1")], DISSOLUTION_DEPOSIT, true);
    assert_eq!(
        status(&proposal(&chain, id)),
        gov::ProposalStatus::Passed,
        "{}",
        proposal(&chain, id).failed_reason
    );
    assert!(member_ids(&chain).is_empty());
    assert_eq!(
        chain.supply(),
        supply - 3 * MIN_BOND / 10,
        "10 % of three bonds burned"
    );
    // Elections stay off: eligible candidates are not seated.
    candidates(&mut chain, &[8]);
    chain.ok(8, bond(8, 8, MIN_BOND));
    assert!(member_ids(&chain).is_empty());
}

#[test]
fn a_rejected_dissolution_burns_its_proposers_deposit() {
    let mut chain = group(params());
    let before = chain.balance(&addr(2));
    let supply = chain.supply();
    let id = decide(&mut chain, vec![dissolve("0")], DISSOLUTION_DEPOSIT, false);
    assert_eq!(status(&proposal(&chain, id)), gov::ProposalStatus::Rejected);
    assert_eq!(chain.balance(&addr(2)), before - DISSOLUTION_DEPOSIT);
    assert_eq!(chain.supply(), supply - DISSOLUTION_DEPOSIT);
    assert_eq!(member_ids(&chain), vec![5, 6, 7]);
}

#[test]
fn stipends_go_to_active_members_pro_rata_when_the_pool_is_short_and_mint_nothing() {
    let stipend = 1_000_000u128;
    let mut chain = group(DcertParams {
        stipend_per_member: stipend.to_string(),
        ..params()
    });
    // Suspend 7: only 5 and 6 are active (and the freed seat stays empty: no candidates).
    chain.ok(5, suspend(5, 7));
    chain.ok(6, suspend(6, 7));
    assert_eq!(member_ids(&chain), vec![5, 6]);
    chain.ok(
        3,
        to_any(
            "/cosmos.distribution.v1beta1.MsgFundCommunityPool",
            &cosmos_sdk_proto::cosmos::distribution::v1beta1::MsgFundCommunityPool {
                amount: vec![caspur_types::Coin::new("ucsp", 3 * stipend / 2).to_proto()],
                depositor: addr(3).to_string(),
            },
        ),
    );
    let supply = chain.supply();
    let balances = |c: &Chain| [5u8, 6, 7].map(|n| c.balance(&addr(n)));
    let before = balances(&chain);
    let pool = |c: &Chain| {
        c.read(async |kv| {
            caspur_app::modules::distribution::state::community_pool(kv)
                .await
                .unwrap()
        })
    };
    let pool_before = pool(&chain);
    let results = chain.block(Vec::new(), DAY_SECS * 1000);
    assert!(results.is_empty());
    let after = balances(&chain);
    let each = (pool_before / 2).min(stipend);
    assert_eq!(after[0] - before[0], each);
    assert_eq!(after[1] - before[1], each);
    assert_eq!(after[2], before[2], "a suspended member is not paid");
    assert!(each < stipend, "the pool was short: paid pro rata");
    assert_eq!(chain.supply(), supply, "nothing minted");
}
