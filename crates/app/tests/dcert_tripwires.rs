//! Tripwires (docs/dcert.md, "Tripwires") through signed txs and blocks: governance registers
//! an invariant bound to exact routes; when it trips at the end of a block its routes break in
//! that block, an incident opens with the evidence, and the dCERT releases the break (the
//! routes reopen), confirms it (it becomes the member's ratifiable break) or lets it lapse
//! after `tripwire_blocks`. One test per kind of invariant.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::bank::state as bank;
use caspur_app::modules::circuit::state as circuit;
use caspur_app::modules::dcert::{tripwire_state, DcertParams};
use caspur_app::modules::gov::state::gov_address;
use caspur_app::modules::incident::{query as incident_query, state as incidents};
use caspur_types::proto::dcert::v1::{self as pb, Ratification, TripwireAnswer, TripwireKind};
use caspur_types::sign::to_any;
use common::*;

const SEND: &str = "/cosmos.bank.v1beta1.MsgSend";
const BANK: &str = "/cosmos.bank.v1beta1.";
const DEPOSIT: u128 = 10_000_000;

fn register(t: pb::Tripwire) -> cosmos_sdk_proto::Any {
    to_any(
        "/caspur.dcert.v1.MsgRegisterTripwire",
        &pb::MsgRegisterTripwire {
            authority: gov_address().to_string(),
            tripwire: Some(t),
        },
    )
}

/// A tripwire of `kind` breaking `MsgSend`, the rest of its fields from `edit`.
fn tripwire(kind: TripwireKind, edit: impl FnOnce(&mut pb::Tripwire)) -> pb::Tripwire {
    let mut t = pb::Tripwire {
        kind: kind as i32,
        routes: vec![SEND.into()],
        description: "test invariant".into(),
        ..Default::default()
    };
    edit(&mut t);
    t
}

/// Governance registers `t`; then one more block, so it is checked from the next.
fn registered(chain: &mut Chain, t: pb::Tripwire) {
    decide(chain, vec![register(t)], DEPOSIT, true);
    chain.block(Vec::new(), 1000);
    assert_eq!(tripwires(chain).len(), 1, "registered");
}

fn tripwires(chain: &Chain) -> Vec<pb::Tripwire> {
    chain.read(async |kv| tripwire_state::all(kv).await.unwrap())
}

fn answer(url: &str, member: u8, break_id: u64) -> cosmos_sdk_proto::Any {
    let (member, reason) = (addr(member).to_string(), "looked at it".to_string());
    if url.ends_with("MsgConfirmTripwire") {
        let m = pb::MsgConfirmTripwire {
            member,
            break_id,
            reason,
        };
        to_any(url, &m)
    } else {
        let m = pb::MsgReleaseTripwire {
            member,
            break_id,
            reason,
        };
        to_any(url, &m)
    }
}

const CONFIRM: &str = "/caspur.dcert.v1.MsgConfirmTripwire";
const RELEASE: &str = "/caspur.dcert.v1.MsgReleaseTripwire";

/// The attribute `key` of the last block's end-block event `kind`, if it emitted one.
fn end_attr(chain: &Chain, kind: &str, key: &str) -> Option<String> {
    let events = futures::executor::block_on(caspur_app::read_block_events(&chain.state)).unwrap();
    events
        .iter()
        .filter(|e| e.kind == kind)
        .flat_map(|e| e.attributes.iter())
        .find(|a| a.key == key)
        .map(|a| a.value.clone())
}

/// The tripwire fired in the last block: its (break id, incident id).
fn fired(chain: &Chain) -> (u64, u64) {
    let get = |key| {
        end_attr(chain, "dcert_tripwire", key)
            .unwrap_or_else(|| panic!("no dcert_tripwire event at height {}", chain.height))
            .parse()
            .unwrap()
    };
    (get("break_id"), get("incident_id"))
}

/// Incident `id` and its timeline's actions.
fn incident(
    chain: &Chain,
    id: u64,
) -> (
    caspur_types::proto::incident::v1::Incident,
    Vec<(String, String)>,
) {
    chain.read(async |kv| {
        let i = incidents::require(kv, id).await.unwrap();
        let timeline = incident_query::timeline(kv, &i).await.unwrap();
        let steps = timeline.into_iter().map(|e| (e.action, e.text)).collect();
        (i, steps)
    })
}

fn refused(chain: &mut Chain) -> bool {
    let r = chain.run(2, send(2, 3));
    r.log.contains("disabled by the circuit breaker")
}

#[test]
fn an_injected_supply_anomaly_fires_breaks_its_route_opens_an_incident_and_lapses_on_release() {
    let mut chain = breaking_group(|_| {});
    registered(
        &mut chain,
        tripwire(TripwireKind::SupplyChange, |t| {
            t.denom = "ucsp".into();
            t.threshold = "0.01".into();
        }),
    );
    // Ordinary blocks (inflation) stay under 1 % a block.
    chain.ok(2, send(2, 3));
    assert!(end_attr(&chain, "dcert_tripwire", "break_id").is_none());
    // A mint bug: key 4 gets a tenth of the supply out of nothing.
    let supply = chain.supply();
    let minted = supply / 10;
    let balance = chain.balance(&addr(4));
    let state = &mut chain.state.0;
    state.insert(
        bank::balance_key(&addr(4), "ucsp"),
        (balance + minted).to_be_bytes().to_vec(),
    );
    state.insert(
        caspur_store::keys::key(&bank::SUPPLY, &[b"ucsp"]),
        (supply + minted).to_be_bytes().to_vec(),
    );
    // The next block's end sees it: the route breaks in that block.
    chain.block(Vec::new(), 1000);
    let (break_id, incident_id) = fired(&chain);
    let b = broken_route(&chain, SEND).expect("MsgSend broken in the anomaly's block");
    assert_eq!((b.by.as_str(), b.break_id), ("tripwire 1", break_id));
    let r = break_record(&chain, break_id);
    assert_eq!(r.tripwire_answer(), TripwireAnswer::Awaiting);
    assert_eq!(r.tripwire_id, 1);
    assert_eq!(
        r.expires_height,
        chain.height + DcertParams::default().tripwire_blocks
    );
    assert!(r.members.is_empty(), "no member made it");
    // The incident holds the evidence: no sealed report, no commitment.
    let (i, steps) = incident(&chain, incident_id);
    assert_eq!(i.tripwire_id, 1);
    assert!(i.commitment.is_empty());
    assert!(i.public_title.contains("Tripwire 1 (supply_change)"));
    assert_eq!(steps[0].0, "reported");
    assert!(
        steps[0].1.contains(&format!("went from {supply} to")),
        "{steps:?}"
    );
    assert_eq!(steps[1].0, "circuit_break");
    assert!(refused(&mut chain), "sends are refused while it stands");
    assert_eq!(tripwires(&chain)[0].fired, 1);
    // An active member releases it: the route reopens, nothing is remembered against it.
    let r = chain.run(8, answer(RELEASE, 8, break_id));
    assert!(r.log.contains("not an active dCERT member"), "{}", r.log);
    chain.ok(6, answer(RELEASE, 6, break_id));
    assert!(broken_route(&chain, SEND).is_none());
    let r = break_record(&chain, break_id);
    assert_eq!(r.tripwire_answer(), TripwireAnswer::Released);
    assert!(!r.standing);
    assert!(
        r.lapse_reason.starts_with("released by"),
        "{}",
        r.lapse_reason
    );
    assert!(chain
        .read(async |kv| circuit::lapsed(kv, SEND).await.unwrap())
        .is_none());
    let (_, steps) = incident(&chain, incident_id);
    assert_eq!(steps.last().unwrap().0, "break_lapsed");
    chain.ok(2, send(2, 3));
    // Answered once: neither answer applies again.
    let r = chain.run(5, answer(CONFIRM, 5, break_id));
    assert!(r.log.contains("not awaiting an answer"), "{}", r.log);
}

#[test]
fn an_unanswered_break_lapses_after_tripwire_blocks_and_a_standing_one_does_not_fire_again() {
    let mut chain = breaking_group(|p| p.tripwire_blocks = 3);
    registered(
        &mut chain,
        tripwire(TripwireKind::BlockInterval, |t| t.max_interval_secs = 60),
    );
    chain.block(Vec::new(), 60_000);
    assert!(end_attr(&chain, "dcert_tripwire", "break_id").is_none());
    chain.block(Vec::new(), 61_000);
    let (break_id, incident_id) = fired(&chain);
    let (_, steps) = incident(&chain, incident_id);
    assert!(steps[0].1.contains("61.000 s of block time"), "{steps:?}");
    // Another stall while it stands: no second break, no second incident.
    chain.block(Vec::new(), 120_000);
    assert!(end_attr(&chain, "dcert_tripwire", "break_id").is_none());
    assert!(broken_route(&chain, SEND).is_some());
    chain.block(Vec::new(), 1000);
    assert!(
        broken_route(&chain, SEND).is_some(),
        "two blocks after firing"
    );
    chain.block(Vec::new(), 1000);
    assert!(
        broken_route(&chain, SEND).is_none(),
        "lapsed after 3 blocks"
    );
    let r = break_record(&chain, break_id);
    assert!(
        r.lapse_reason.contains("tripwire_blocks reached"),
        "{}",
        r.lapse_reason
    );
    assert_eq!(r.tripwire_answer(), TripwireAnswer::Awaiting);
    // Lapsed, it fires on the next stall again.
    chain.block(Vec::new(), 90_000);
    let (second, _) = fired(&chain);
    assert!(second > break_id);
    assert_eq!(tripwires(&chain)[0].fired, 2);
}

#[test]
fn with_every_route_already_broken_a_tripping_tripwire_opens_nothing() {
    let mut chain = breaking_group(|_| {});
    registered(
        &mut chain,
        tripwire(TripwireKind::BlockInterval, |t| t.max_interval_secs = 60),
    );
    // A member's break of the package (ADR 008's rules: it stands) covers the one route.
    chain.ok(5, member_break(5, &[BANK], 0));
    chain.block(Vec::new(), 61_000);
    assert_eq!(fired(&chain), (0, 0), "reported, nothing opened");
    let next_incident = chain.read(async |kv| incidents::next_id(kv).await.unwrap());
    assert_eq!(next_incident, 1, "no incident");
    assert_eq!(tripwires(&chain)[0].fired, 0);
    assert!(
        broken_route(&chain, SEND).is_none(),
        "the exact route is not taken"
    );
    assert_eq!(broken_route(&chain, BANK).unwrap().by, addr(5).to_string());
}

#[test]
fn one_member_cannot_confirm_a_break_of_a_route_whose_break_lapsed() {
    let mut chain = breaking_group(|p| p.max_break_blocks = 2);
    chain.ok(5, member_break(5, &[SEND], 0));
    chain.block(Vec::new(), 1000);
    chain.block(Vec::new(), 1000);
    assert!(
        broken_route(&chain, SEND).is_none(),
        "lapsed after max_break_blocks"
    );
    registered(
        &mut chain,
        tripwire(TripwireKind::BlockInterval, |t| t.max_interval_secs = 60),
    );
    chain.block(Vec::new(), 61_000);
    let (break_id, _) = fired(&chain);
    assert!(
        broken_route(&chain, SEND).is_some(),
        "the rule may break it"
    );
    // Confirming would revive the lapsed break by one member's word.
    let r = chain.run(6, answer(CONFIRM, 6, break_id));
    assert!(r.log.contains("lapsed"), "{}", r.log);
    assert_ne!(r.code, 0);
    assert_eq!(
        break_record(&chain, break_id).tripwire_answer(),
        TripwireAnswer::Awaiting
    );
    chain.ok(6, answer(RELEASE, 6, break_id));
}

#[test]
fn a_confirmed_break_is_the_members_own_ratifiable_break() {
    let mut chain = breaking_group(|p| {
        p.break_ratification_period_secs = 3_600;
        p.unratified_break_slash = "0.5".into();
    });
    registered(
        &mut chain,
        tripwire(TripwireKind::AccountOutflow, |t| {
            t.denom = "ucsp".into();
            t.threshold = "0.01".into();
        }),
    );
    // Key 2 moves more than 1 % of the supply in one block.
    let big = chain.supply() / 50;
    let drain = to_any(
        SEND,
        &cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend {
            from_address: addr(2).to_string(),
            to_address: addr(3).to_string(),
            amount: vec![caspur_types::Coin::new("ucsp", big).to_proto()],
        },
    );
    chain.ok(2, drain);
    let (break_id, incident_id) = fired(&chain);
    let evidence = end_attr(&chain, "dcert_tripwire", "evidence").unwrap();
    assert!(
        evidence.contains(&format!("account {} spent {big}ucsp", addr(2))),
        "{evidence}"
    );
    // Member 5 confirms: the break is its own, with a ratification proposal.
    let r = chain.run(9, answer(CONFIRM, 9, break_id));
    assert_ne!(r.code, 0, "a non-member cannot confirm");
    chain.ok(5, answer(CONFIRM, 5, break_id));
    let r = break_record(&chain, break_id);
    assert_eq!(r.tripwire_answer(), TripwireAnswer::Confirmed);
    assert_eq!(r.members, vec![addr(5).to_string()]);
    assert_eq!(r.ratification(), Ratification::Pending);
    assert_eq!(
        r.expires_height, 0,
        "no max_break_blocks: stands until decided"
    );
    assert!(r.proposal_id > 0);
    let (_, steps) = incident(&chain, incident_id);
    assert!(steps.iter().any(|(a, _)| a == "tripwire_confirmed"));
    // Past tripwire_blocks it still stands: the old lifetime no longer applies.
    for _ in 0..3 {
        chain.block(Vec::new(), 1000);
    }
    assert!(broken_route(&chain, SEND).is_some());
    // Not ratified within the period: it lapses, member 5 is slashed, the lapse is remembered.
    let bond_before = chain.read(async |kv| {
        caspur_app::modules::dcert::state::candidate(kv, &addr(5))
            .await
            .unwrap()
            .bond
    });
    chain.block(Vec::new(), 3_600_000);
    let r = break_record(&chain, break_id);
    assert_eq!(r.ratification(), Ratification::Unratified);
    assert!(!r.standing);
    assert_eq!(r.slashed_unratified, format!("{}ucsp", bond_before / 2));
    assert!(chain
        .read(async |kv| circuit::lapsed(kv, SEND).await.unwrap())
        .is_some());
    // Two nodes replaying these blocks reach the same app hashes and results.
    let (a, b) = (
        replay_into_qmdb(&chain.app, &chain.blocks),
        replay_into_qmdb(&chain.app, &chain.blocks),
    );
    assert_eq!(a.len(), chain.blocks.len());
    for ((hash_a, results_a), (hash_b, results_b)) in a.iter().zip(&b) {
        assert_eq!(hash_a, hash_b);
        assert_eq!(results_a, results_b);
    }
}

#[test]
fn a_bonded_ratio_drop_within_the_window_fires() {
    let mut chain = breaking_group(|_| {});
    registered(
        &mut chain,
        tripwire(TripwireKind::BondedRatioDrop, |t| {
            t.threshold = "0.5".into();
            t.window_blocks = 10;
        }),
    );
    // Validator 1 unbonds 40 %, then 20 % more a block later: 60 % gone within the window.
    chain.ok(1, undelegate(1, 1, GENESIS_SELF / 10 * 4));
    assert!(end_attr(&chain, "dcert_tripwire", "break_id").is_none());
    chain.ok(1, undelegate(1, 1, GENESIS_SELF / 10 * 2));
    let (break_id, _) = fired(&chain);
    let evidence = end_attr(&chain, "dcert_tripwire", "evidence").unwrap();
    assert!(evidence.contains("the bonded ratio fell"), "{evidence}");
    assert!(break_record(&chain, break_id).standing);
}

#[test]
fn governance_alone_registers_bounded_tripwires_and_removes_them() {
    let mut chain = breaking_group(|_| {});
    // Not governance: refused before anything runs.
    let mut not_gov = pb::MsgRegisterTripwire {
        authority: addr(2).to_string(),
        tripwire: Some(tripwire(TripwireKind::BlockInterval, |t| {
            t.max_interval_secs = 60
        })),
    };
    let r = chain.run(2, to_any("/caspur.dcert.v1.MsgRegisterTripwire", &not_gov));
    assert_ne!(r.code, 0);
    // Bounds are checked when the proposal is submitted.
    not_gov.authority = gov_address().to_string();
    let bad = [
        (
            tripwire(TripwireKind::BlockInterval, |t| {
                t.max_interval_secs = 60;
                t.routes = vec!["/cosmos.bank.".into()];
            }),
            "exact type URLs only",
        ),
        (
            tripwire(TripwireKind::BlockInterval, |t| {
                t.max_interval_secs = 60;
                t.routes = vec![SEND.into(); 9];
            }),
            "between 1 and 8 routes",
        ),
        (
            tripwire(TripwireKind::SupplyChange, |t| {
                t.denom = "ucsp".into();
                t.threshold = "1.5".into();
            }),
            "within (0, 1]",
        ),
        (
            tripwire(TripwireKind::BondedRatioDrop, |t| {
                t.threshold = "0.1".into();
                t.window_blocks = 1_001;
            }),
            "window_blocks within 1..=1000",
        ),
        (
            tripwire(TripwireKind::BlockInterval, |t| {
                t.max_interval_secs = 60;
                t.routes = vec![SEND.into(), SEND.into()];
            }),
            "named twice",
        ),
        (tripwire(TripwireKind::Unspecified, |_| {}), "tripwire kind"),
    ];
    for (t, why) in bad {
        let r = chain.run(2, submit(2, vec![register(t)], DEPOSIT, false));
        assert!(r.log.contains(why), "{why}: {}", r.log);
    }
    registered(
        &mut chain,
        tripwire(TripwireKind::BlockInterval, |t| t.max_interval_secs = 60),
    );
    let remove = to_any(
        "/caspur.dcert.v1.MsgRemoveTripwire",
        &pb::MsgRemoveTripwire {
            authority: gov_address().to_string(),
            id: 1,
        },
    );
    decide(&mut chain, vec![remove], DEPOSIT, true);
    assert!(tripwires(&chain).is_empty());
    // Nothing left behind: the stall that would have fired it passes quietly.
    chain.block(Vec::new(), 600_000);
    assert!(end_attr(&chain, "dcert_tripwire", "break_id").is_none());
}
