//! dCERT accountability (SPEC §2.7, docs/dcert.md "Accountability") through signed txs and
//! blocks: a break that must be ratified names an open incident and opens an expedited
//! proposal; unratified, it lapses at the period's end and its member's bond is slashed; a
//! ratified break stands past its period and past `max_break_blocks`; an unratified break
//! lapses after `max_break_blocks` without a slash; a lapsed route is not broken again by one
//! member, nor a standing break extended. (The defaults, ADR 008's rules, are what the other
//! dCERT and circuit tests run under, unchanged.)

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::circuit::state as circuit;
use caspur_app::modules::dcert::{state as dc, DcertParams};
use caspur_types::proto::dcert::v1::{self as pb, Ratification};
use caspur_types::sign::to_any;
use common::*;
use cosmos_sdk_proto::cosmos::gov::v1 as gov;

const HOUR_SECS: u64 = 3_600;
const SEND: &str = "/cosmos.bank.v1beta1.MsgSend";
const REPORTER: u8 = 9;

fn ratified_hourly(p: &mut DcertParams) {
    p.break_ratification_period_secs = HOUR_SECS;
    p.unratified_break_slash = "0.5".into();
}

/// Reports an incident sealed to the members; returns its id.
fn incident(chain: &mut Chain) -> u64 {
    let r = chain.ok(
        REPORTER,
        report_incident(REPORTER, &[5, 6, 7], "drain bug").0,
    );
    attr(&r, "incident", "id").parse().unwrap()
}

fn attr(r: &caspur_app::TxResult, kind: &str, key: &str) -> String {
    r.events
        .iter()
        .filter(|e| e.kind == kind)
        .flat_map(|e| e.attributes.iter())
        .find(|a| a.key == key)
        .map(|a| a.value.clone())
        .unwrap_or_else(|| panic!("no {kind}.{key} in {:?}", r.events))
}

fn bond(chain: &Chain, n: u8) -> u128 {
    chain.read(async |kv| dc::candidate(kv, &addr(n)).await.unwrap().bond)
}

/// Breaks `SEND` as member 5 answering `incident_id`; returns the break id.
fn break_send(chain: &mut Chain, incident_id: u64) -> u64 {
    let r = chain.ok(5, member_break(5, &[SEND], incident_id));
    attr(&r, "dcert_break", "break_id").parse().unwrap()
}

#[test]
fn an_unratified_break_lapses_at_the_period_end_and_its_member_is_slashed() {
    let mut chain = breaking_group(ratified_hourly);
    // Ratification on: a break must name the open incident it answers.
    let r = chain.run(5, member_break(5, &[SEND], 0));
    assert!(r.log.contains("name the incident"), "{}", r.log);
    let r = chain.run(5, member_break(5, &[SEND], 77));
    assert!(r.log.contains("incident 77 does not exist"), "{}", r.log);
    let id = incident(&mut chain);
    let break_id = break_send(&mut chain, id);
    let r = break_record(&chain, break_id);
    assert_eq!(r.ratification(), Ratification::Pending);
    assert!(r.standing);
    assert_eq!(broken_route(&chain, SEND).unwrap().break_id, break_id);
    let refused = chain.run(2, send(2, 3));
    assert!(
        refused.log.contains("disabled by the circuit breaker"),
        "{}",
        refused.log
    );
    // The ratification proposal is open, expedited, ending with the period.
    let p = proposal(&chain, r.proposal_id);
    assert_eq!(status(&p), gov::ProposalStatus::VotingPeriod);
    assert!(p.expedited);
    assert_eq!(p.messages[0].type_url, "/caspur.dcert.v1.MsgRatifyBreak");
    // The incident's timeline records the break.
    let timeline = chain.read(async |kv| {
        let i = caspur_app::modules::incident::state::require(kv, id)
            .await
            .unwrap();
        caspur_app::modules::incident::query::timeline(kv, &i)
            .await
            .unwrap()
    });
    assert!(timeline.iter().any(|e| e.action == "circuit_break"));
    // Nobody votes; the period ends: the route reopens and half the bond burns.
    let before = bond(&chain, 5);
    let results = chain.block(Vec::new(), HOUR_SECS * 1000);
    assert!(results.is_empty());
    assert!(broken_route(&chain, SEND).is_none());
    let r = break_record(&chain, break_id);
    assert_eq!(r.ratification(), Ratification::Unratified);
    assert!(!r.standing);
    assert_eq!(r.slashed_unratified, format!("{}ucsp", before / 2));
    assert_eq!(bond(&chain, 5), before - before / 2);
    chain.ok(2, send(2, 3));
    // The lapse is remembered: another member may not revive it with a new break.
    let r = chain.run(6, member_break(6, &[SEND], id));
    assert!(r.log.contains("lapsed at height"), "{}", r.log);
}

#[test]
fn a_ratified_break_stands_past_its_period_and_its_block_limit() {
    let mut chain = breaking_group(|p| {
        ratified_hourly(p);
        p.max_break_blocks = 3;
    });
    let id = incident(&mut chain);
    let break_id = break_send(&mut chain, id);
    let proposal_id = break_record(&chain, break_id).proposal_id;
    // A standing break is not extended by breaking it again.
    let r = chain.run(6, member_break(6, &[SEND], id));
    assert!(r.log.contains("already broken"), "{}", r.log);
    chain.ok(1, vote(1, proposal_id, gov::VoteOption::Yes));
    let before = bond(&chain, 5);
    chain.block(Vec::new(), HOUR_SECS * 1000);
    assert_eq!(
        status(&proposal(&chain, proposal_id)),
        gov::ProposalStatus::Passed
    );
    for _ in 0..5 {
        chain.block(Vec::new(), 1000);
    }
    let r = break_record(&chain, break_id);
    assert_eq!(r.ratification(), Ratification::Ratified);
    assert!(r.standing);
    assert_eq!(broken_route(&chain, SEND).unwrap().break_id, break_id);
    assert_eq!(bond(&chain, 5), before);
}

#[test]
fn an_unratified_break_lapses_after_max_break_blocks_without_a_slash() {
    let mut chain = breaking_group(|p| {
        p.max_break_blocks = 2;
        p.unratified_break_slash = "0.5".into();
    });
    // No ratification rule: no incident needed, no proposal opened.
    let break_id = break_send(&mut chain, 0);
    let r = break_record(&chain, break_id);
    assert_eq!(r.ratification(), Ratification::NotRequired);
    assert_eq!(r.proposal_id, 0);
    assert_eq!(r.expires_height, chain.height + 2);
    let before = bond(&chain, 5);
    chain.block(Vec::new(), 1000);
    assert!(
        broken_route(&chain, SEND).is_some(),
        "one block in: still broken"
    );
    chain.block(Vec::new(), 1000);
    assert!(
        broken_route(&chain, SEND).is_none(),
        "two blocks in: reopened"
    );
    let r = break_record(&chain, break_id);
    assert!(!r.standing);
    assert_eq!(r.lapse_reason, "max_break_blocks reached unratified");
    assert_eq!(bond(&chain, 5), before);
}

#[test]
fn without_accountability_rules_a_break_keeps_adr_008_state() {
    let mut chain = breaking_group(|_| {});
    let r = chain.ok(5, member_break(5, &[SEND], 0));
    assert!(!r.events.iter().any(|e| e.kind == "dcert_break"));
    let b = broken_route(&chain, SEND).unwrap();
    assert_eq!(b.break_id, 0);
    // The stored record is the same JSON as before records existed.
    let key = caspur_store::keys::key(&circuit::broken_prefix(), &[SEND.as_bytes()]);
    let raw = chain.read(async |kv| {
        caspur_app::context::KvRead::get(kv, &key)
            .await
            .unwrap()
            .unwrap()
    });
    assert!(!String::from_utf8(raw).unwrap().contains("break_id"));
    // And a second break of the route overwrites it, as ADR 008's rules have it.
    chain.ok(6, member_break(6, &[SEND], 0));
    assert_eq!(broken_route(&chain, SEND).unwrap().by, addr(6).to_string());
    // Safe mode does not exist under them.
    let r = chain.run(5, member_break(5, &["*"], 0));
    assert!(r.log.contains("safe mode"), "{}", r.log);
}

const STAKING: &str = "/cosmos.staking.v1beta1.";

#[test]
fn a_module_prefix_needs_the_module_quorum_and_safe_mode_the_global_one() {
    let mut chain = breaking_group(|p| {
        p.module_break_quorum = "0.6".into();
        p.global_break_quorum = "1".into();
    });
    // One exact route: one member.
    let first = break_send(&mut chain, 0);
    assert_eq!(break_record(&chain, first).level, 0);
    // A module prefix: two of the three members, sending the same break.
    let r = chain.ok(5, member_break(5, &[STAKING], 0));
    assert_eq!(attr(&r, "dcert_break_vote", "votes"), "1");
    assert!(
        broken_route(&chain, STAKING).is_none(),
        "one vote breaks nothing"
    );
    let r = chain.run(5, member_break(5, &[STAKING], 0));
    assert!(r.log.contains("already voted"), "{}", r.log);
    let r = chain.ok(6, member_break(6, &[STAKING], 0));
    let id: u64 = attr(&r, "dcert_break", "break_id").parse().unwrap();
    let rec = break_record(&chain, id);
    assert_eq!(rec.level, 1);
    assert_eq!(rec.members, vec![addr(5).to_string(), addr(6).to_string()]);
    assert_eq!(broken_route(&chain, STAKING).unwrap().break_id, id);
    // Safe mode: all three. Until then bank's other messages pass.
    let multi = multi_send(2, 3);
    let r = chain.run(5, member_break(5, &["*", "/cosmos.gov.v1.MsgVote"], 0));
    assert!(r.log.contains("broken alone"), "{}", r.log);
    chain.ok(5, member_break(5, &["*"], 0));
    chain.ok(6, member_break(6, &["*"], 0));
    chain.ok(2, multi.clone());
    let r = chain.ok(7, member_break(7, &["*"], 0));
    let id: u64 = attr(&r, "dcert_break", "break_id").parse().unwrap();
    assert_eq!(break_record(&chain, id).level, 2);
    let refused = chain.run(2, multi);
    assert!(refused.log.contains("route /cosmos."), "{}", refused.log);
    // Safe mode spares governance, the dCERT, upgrades and incidents.
    let description = to_any(
        "/caspur.dcert.v1.MsgUpdateGroupDescription",
        &pb::MsgUpdateGroupDescription {
            member: addr(5).to_string(),
            description: "safe mode: call the desk".into(),
        },
    );
    chain.ok(5, description);
    chain.ok(REPORTER, report_incident(REPORTER, &[5, 6, 7], "after").0);
}

#[test]
fn a_lapsed_route_is_broken_again_only_by_a_wider_quorum() {
    let mut chain = breaking_group(|p| {
        p.max_break_blocks = 2;
        p.module_break_quorum = "0.5".into();
        p.global_break_quorum = "1".into();
    });
    break_send(&mut chain, 0);
    chain.block(Vec::new(), 1000);
    chain.block(Vec::new(), 1000);
    assert!(broken_route(&chain, SEND).is_none(), "lapsed");
    // Exact route, but it lapsed at one member's reach: now the module quorum (2 of 3).
    let r = chain.ok(6, member_break(6, &[SEND], 0));
    assert_eq!(attr(&r, "dcert_break_vote", "level"), "1");
    assert!(broken_route(&chain, SEND).is_none());
    let r = chain.ok(7, member_break(7, &[SEND], 0));
    let id: u64 = attr(&r, "dcert_break", "break_id").parse().unwrap();
    assert_eq!(break_record(&chain, id).level, 1);
    chain.block(Vec::new(), 1000);
    chain.block(Vec::new(), 1000);
    assert!(broken_route(&chain, SEND).is_none(), "lapsed again");
    // Lapsed at the module quorum: now every member.
    for n in [5, 6] {
        let r = chain.ok(n, member_break(n, &[SEND], 0));
        assert_eq!(attr(&r, "dcert_break_vote", "level"), "2");
    }
    chain.ok(7, member_break(7, &[SEND], 0));
    assert!(broken_route(&chain, SEND).is_some());
}

#[test]
fn unfinished_quorum_votes_expire_with_their_window() {
    let mut chain = breaking_group(|p| p.module_break_quorum = "1".into());
    chain.ok(5, member_break(5, &[STAKING], 0));
    chain.ok(6, member_break(6, &[STAKING], 0));
    let window = caspur_app::modules::dcert::blast_radius::BREAK_VOTE_WINDOW_SECS * 1000;
    chain.block(Vec::new(), window);
    // The window closed: the third vote opens a new count instead of completing the old one.
    let r = chain.ok(7, member_break(7, &[STAKING], 0));
    assert_eq!(attr(&r, "dcert_break_vote", "votes"), "1");
    assert!(broken_route(&chain, STAKING).is_none());
}

fn heartbeat(member: u8) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.dcert.v1.MsgHeartbeat",
        &pb::MsgHeartbeat {
            member: addr(member).to_string(),
        },
    )
}

#[test]
fn a_member_without_heartbeats_loses_its_stipends_and_then_faces_a_suspension_vote() {
    const PERIOD_MS: u64 = 100_000;
    const STIPEND: u128 = 1_000_000;
    let mut chain = breaking_group(|p| {
        p.heartbeat_misses = 2;
        p.stipend_period_secs = PERIOD_MS / 1000;
        p.stipend_per_member = STIPEND.to_string();
    });
    chain.ok(
        3,
        to_any(
            "/cosmos.distribution.v1beta1.MsgFundCommunityPool",
            &cosmos_sdk_proto::cosmos::distribution::v1beta1::MsgFundCommunityPool {
                amount: vec![caspur_types::Coin::new("ucsp", 100 * STIPEND).to_proto()],
                depositor: addr(3).to_string(),
            },
        ),
    );
    let r = chain.run(REPORTER, heartbeat(REPORTER));
    assert!(r.log.contains("not an active dCERT member"), "{}", r.log);
    let next_period = |chain: &mut Chain| {
        let ms = PERIOD_MS - chain.time_ms % PERIOD_MS;
        chain.block(Vec::new(), ms);
    };
    let balances = |c: &Chain| [5u8, 6, 7].map(|n| c.balance(&addr(n)));
    let liveness = |c: &Chain, n: u8| {
        c.read(async |kv| {
            let params = dc::get_params(kv).await.unwrap();
            let report =
                caspur_app::modules::dcert::heartbeat::report(kv, &params, &[addr(n)], c.time_ms)
                    .await
                    .unwrap();
            report[0].clone()
        })
    };
    // The first period any member is seen in is a grace period: all are paid.
    let before = balances(&chain);
    next_period(&mut chain);
    let after = balances(&chain);
    for i in 0..3 {
        assert_eq!(
            after[i] - before[i],
            STIPEND,
            "grace: member {} paid",
            5 + i
        );
    }
    // Two periods in which 5 and 6 beat and 7 does not.
    for missed in 1..=2u32 {
        chain.ok(5, heartbeat(5));
        chain.ok(6, heartbeat(6));
        let before = balances(&chain);
        next_period(&mut chain);
        let after = balances(&chain);
        assert_eq!(after[0] - before[0], STIPEND);
        assert_eq!(after[1] - before[1], STIPEND);
        assert_eq!(after[2], before[2], "no heartbeat, no stipend");
        let l = liveness(&chain, 7);
        assert_eq!(l.misses, missed);
        assert!(!l.live);
        assert_eq!(
            l.suspension_vote_open,
            missed == 2,
            "opens at heartbeat_misses"
        );
    }
    assert!(liveness(&chain, 5).live);
    // Its next heartbeat closes the count.
    chain.ok(7, heartbeat(7));
    let l = liveness(&chain, 7);
    assert!(l.live && !l.suspension_vote_open && l.misses == 0, "{l:?}");
}
