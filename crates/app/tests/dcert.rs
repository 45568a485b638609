//! The dCERT electionator (SPEC §2.2), one test per rule: filling an empty group, the strictly
//! greater challenger, the incumbent keeping its seat on a tie, tied lowest members resolved by
//! sequence number, a new sequence on re-entry, the stabilization queue (one entry per target,
//! dropped when the challenger no longer outranks at maturity), split preferences tallied
//! exactly, and tallies following a delegation change in the same block.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::dcert::state as dc;
use caspur_app::modules::dcert::DcertParams;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::sign::to_any;
use common::*;

/// Keys 1–12 funded; validator 1 at genesis; three seats; `stabilization` seconds.
fn chain(stabilization_secs: u64) -> Chain {
    dcert_chain(DcertParams {
        max_members: 3,
        min_member_stake: MIN_BOND.to_string(),
        stabilization_period_secs: stabilization_secs,
        ..DcertParams::default()
    })
}

/// Candidates 5–8 accept and bond; 5, 6 and 7 are backed with 400, 300 and 200 and seated.
fn seat_three(chain: &mut Chain) {
    candidates(chain, &[5, 6, 7, 8]);
    back(chain, 9, 5, 400);
    back(chain, 10, 6, 300);
    back(chain, 11, 7, 200);
    chain.block(Vec::new(), 1000);
    assert_eq!(member_ids(chain), vec![5, 6, 7]);
}

/// Voter `v` stakes `tokens` with validator 1 and gives all of it to `candidate`.
fn back(chain: &mut Chain, v: u8, candidate: u8, tokens: u128) {
    chain.ok(v, delegate(v, 1, tokens));
    chain.ok(v, dcert_vote(v, &[(candidate, "1")]));
}

fn tally(chain: &Chain, n: u8) -> u128 {
    chain.read(async |kv| dc::candidate(kv, &addr(n)).await.unwrap().tally)
}

#[test]
fn an_empty_group_fills_with_the_best_eligible_candidates() {
    let mut chain = chain(0);
    // Support first, then four candidates accept in one block: the three best are seated.
    back(&mut chain, 9, 8, 400);
    back(&mut chain, 10, 7, 300);
    back(&mut chain, 11, 6, 200);
    back(&mut chain, 12, 5, 100);
    // A candidate with votes but no acceptance is never seated.
    chain.ok(2, delegate(2, 1, 10_000));
    chain.ok(2, dcert_vote(2, &[(3, "1")]));
    let txs = [5u8, 6, 7, 8]
        .iter()
        .map(|&n| chain.tx(n, vec![accept(n), bond(n, n, MIN_BOND)]))
        .collect();
    chain.block(txs, 1000);
    assert_eq!(member_ids(&chain), vec![6, 7, 8]);
}

#[test]
fn a_challenger_must_be_strictly_greater_and_a_tie_keeps_the_incumbent() {
    let mut chain = chain(0);
    seat_three(&mut chain);
    assert_eq!(member_ids(&chain), vec![5, 6, 7]);
    back(&mut chain, 12, 8, 200);
    chain.block(Vec::new(), 1000);
    assert_eq!(
        member_ids(&chain),
        vec![5, 6, 7],
        "a tie keeps the incumbent"
    );
    chain.ok(12, delegate(12, 1, 1));
    assert_eq!(
        tally(&chain, 8),
        201,
        "the tally followed the delegation in its block"
    );
    chain.block(Vec::new(), 1000);
    assert_eq!(member_ids(&chain), vec![5, 6, 8]);
}

#[test]
fn among_tied_lowest_members_the_smaller_sequence_keeps_its_seat() {
    let mut chain = chain(0);
    candidates(&mut chain, &[5, 6, 7, 8]);
    back(&mut chain, 9, 5, 400);
    chain.block(Vec::new(), 1000);
    back(&mut chain, 10, 6, 100);
    chain.block(Vec::new(), 1000);
    back(&mut chain, 11, 7, 100);
    chain.block(Vec::new(), 1000);
    let seqs = members(&chain);
    assert!(seqs[1].1 < seqs[2].1, "6 was admitted before 7: {seqs:?}");
    back(&mut chain, 12, 8, 150);
    chain.block(Vec::new(), 1000);
    assert_eq!(
        member_ids(&chain),
        vec![5, 6, 8],
        "7, the later admission, left"
    );
}

#[test]
fn a_returning_member_gets_a_new_sequence_number() {
    let mut chain = chain(0);
    seat_three(&mut chain);
    let first = members(&chain).into_iter().find(|m| m.0 == 7).unwrap().1;
    back(&mut chain, 12, 8, 250);
    chain.block(Vec::new(), 1000);
    assert!(!member_ids(&chain).contains(&7));
    chain.ok(11, delegate(11, 1, 100));
    chain.block(Vec::new(), 1000);
    let again = members(&chain).into_iter().find(|m| m.0 == 7).unwrap().1;
    assert!(again > first, "re-entry sequence {again} after {first}");
}

#[test]
fn split_preferences_tally_exactly() {
    let mut chain = chain(0);
    candidates(&mut chain, &[5, 6, 7]);
    chain.ok(9, delegate(9, 1, 1_000_003));
    chain.ok(9, dcert_vote(9, &[(5, "0.5"), (6, "0.25"), (7, "0.25")]));
    assert_eq!(
        (tally(&chain, 5), tally(&chain, 6), tally(&chain, 7)),
        (500_001, 250_000, 250_000)
    );
    // A new vote replaces the old; an empty one withdraws it.
    chain.ok(9, dcert_vote(9, &[(7, "1")]));
    assert_eq!((tally(&chain, 5), tally(&chain, 7)), (0, 1_000_003));
    chain.ok(9, dcert_vote(9, &[]));
    assert_eq!(tally(&chain, 7), 0);
    // Weights over 1 and duplicate candidates are refused.
    let r = chain.run(9, dcert_vote(9, &[(5, "0.6"), (6, "0.5")]));
    assert!(r.log.contains("more than 1"), "{}", r.log);
    let r = chain.run(9, dcert_vote(9, &[(5, "0.5"), (5, "0.5")]));
    assert!(r.log.contains("twice"), "{}", r.log);
}

#[test]
fn a_member_whose_bond_falls_below_the_minimum_leaves_at_once() {
    let mut chain = chain(0);
    candidates(&mut chain, &[5, 6]);
    back(&mut chain, 9, 5, 400);
    chain.block(Vec::new(), 1000);
    assert_eq!(member_ids(&chain), vec![5, 6]);
    chain.ok(
        5,
        to_any(
            "/caspur.dcert.v1.MsgUnbondDcert",
            &pb::MsgUnbondDcert {
                staker: addr(5).to_string(),
                candidate: addr(5).to_string(),
                amount: coin(1),
            },
        ),
    );
    assert_eq!(member_ids(&chain), vec![6], "removed in the same tx");
}

#[test]
fn stabilization_queues_one_entry_per_member_and_rechecks_at_maturity() {
    let mut chain = chain(86_400);
    candidates(&mut chain, &[5, 6, 7, 8, 2]);
    back(&mut chain, 9, 5, 400);
    back(&mut chain, 10, 6, 300);
    back(&mut chain, 11, 7, 200);
    chain.block(Vec::new(), 1000);
    assert_eq!(member_ids(&chain), vec![5, 6, 7]);
    // 8 outranks 7: an entry, not a replacement.
    back(&mut chain, 12, 8, 250);
    chain.block(Vec::new(), 1000);
    assert_eq!(member_ids(&chain), vec![5, 6, 7]);
    let entry = chain.read(async |kv| dc::stabilization(kv, &addr(7)).await.unwrap());
    assert_eq!(entry.unwrap().challenger, addr(8));
    // 2 outranks 7 too, but 7 is taken: 2 targets the next lowest it outranks (6 at 300? no).
    back(&mut chain, 3, 2, 260);
    chain.block(Vec::new(), 1000);
    let targets = chain.read(async |kv| dc::stabilization_targets(kv).await.unwrap());
    assert_eq!(
        targets,
        vec![addr(7)],
        "one entry per member; 2 does not outrank 6"
    );
    // At maturity 8 still outranks 7: it takes the seat.
    chain.block(Vec::new(), DAY_MS);
    assert_eq!(member_ids(&chain), vec![5, 6, 8]);
}

#[test]
fn a_matured_entry_is_dropped_when_the_challenger_no_longer_outranks() {
    let mut chain = chain(86_400);
    seat_three(&mut chain);
    back(&mut chain, 12, 8, 250);
    chain.block(Vec::new(), 1000);
    assert!(chain
        .read(async |kv| dc::stabilization(kv, &addr(7)).await.unwrap())
        .is_some());
    // Before maturity 7 gains support and 8 loses its lead.
    chain.ok(11, delegate(11, 1, 100));
    chain.block(Vec::new(), DAY_MS);
    assert_eq!(member_ids(&chain), vec![5, 6, 7]);
    assert!(chain
        .read(async |kv| dc::stabilization(kv, &addr(7)).await.unwrap())
        .is_none());
}
