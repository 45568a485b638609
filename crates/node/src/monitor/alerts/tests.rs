//! Each rule driven into its condition and out again through the engine: it fires once and
//! resolves once.

use super::rules::RULES;
use super::*;
use crate::monitor::window::{BlockSample, Windows};
use caspur_app::health::ChainHealth;
use caspur_app::modules::circuit::state::BrokenRoute;
use caspur_app::modules::upgrade::query::PlanHealth;
use caspur_types::proto::incident::v1 as incident_pb;

fn sample(height: u64, time_ms: u64, txs: u64, signed: u64, set: u64) -> BlockSample {
    BlockSample {
        height,
        time_ms,
        txs,
        signed_power: signed,
        set_power: set,
    }
}

/// Blocks `from..to` a second apart with `txs` each, everyone signing.
fn blocks(w: &mut Windows, from: u64, to: u64, txs: u64) {
    for h in from..to {
        w.push(sample(h, h * 1000, txs, 4, 4), Vec::new());
    }
}

fn inputs<'a>(w: &'a Windows, h: Option<&'a ChainHealth>, now_ms: u64) -> Inputs<'a> {
    Inputs {
        now_ms,
        last_block_seen_ms: w.last().map(|b| b.time_ms),
        started_ms: 0,
        windows: w,
        health: h,
    }
}

/// Runs `rules` over two situations and checks that `rule` fires in the first, once, and
/// resolves in the second, once.
fn fires_then_resolves(rule: &str, first: Evaluation, second: Evaluation) {
    let mut engine = Engine::open(None);
    let fired = engine.step(first.clone(), "t1", 1);
    let of_rule = |ts: &[Transition], status: &str| {
        ts.iter()
            .filter(|t| t.alert.rule == rule && t.status == status)
            .count()
    };
    assert_eq!(of_rule(&fired, "firing"), 1, "{rule}: {fired:?}");
    // Still holding: nothing new.
    let again = engine.step(first, "t2", 2);
    assert_eq!(of_rule(&again, "firing"), 0, "{rule} fired twice");
    assert_eq!(engine.firing().iter().filter(|a| a.rule == rule).count(), 1);
    let cleared = engine.step(second.clone(), "t3", 3);
    assert_eq!(of_rule(&cleared, "resolved"), 1, "{rule}: {cleared:?}");
    let after = engine.step(second, "t4", 4);
    assert_eq!(of_rule(&after, "resolved"), 0, "{rule} resolved twice");
}

#[test]
fn a_stall_fires_and_a_new_block_resolves_it() {
    let rules = AlertRules::default();
    let mut w = Windows::default();
    blocks(&mut w, 1, 10, 0);
    let stalled = rules.evaluate(&inputs(&w, None, 9_000 + 31_000));
    assert!(stalled.holding.iter().any(|c| c.rule == "block_stalled"));
    blocks(&mut w, 10, 11, 0);
    let moving = rules.evaluate(&inputs(&w, None, 10_000 + 500));
    fires_then_resolves("block_stalled", stalled, moving);
}

#[test]
fn slow_intervals_fire_and_fast_ones_resolve() {
    let rules = AlertRules::default();
    let mut w = Windows::default();
    for h in 1..=50 {
        w.push(sample(h, h * 12_000, 0, 4, 4), Vec::new());
    }
    let slow = rules.evaluate(&inputs(&w, None, 50 * 12_000));
    let mut fast = Windows::default();
    blocks(&mut fast, 1, 50, 0);
    let ok = rules.evaluate(&inputs(&fast, None, 49_000));
    fires_then_resolves("block_interval_slow", slow, ok);
}

#[test]
fn a_throughput_drop_against_the_hour_fires() {
    let rules = AlertRules::default();
    let mut w = Windows::default();
    // An hour at 10 tx/s, then 100 empty blocks.
    blocks(&mut w, 1, 3_600, 10);
    let steady = rules.evaluate(&inputs(&w, None, 3_599_000));
    blocks(&mut w, 3_600, 3_700, 0);
    let dropped = rules.evaluate(&inputs(&w, None, 3_699_000));
    assert!(!steady.holding.iter().any(|c| c.rule == "throughput_drop"));
    fires_then_resolves("throughput_drop", dropped, steady);
}

#[test]
fn low_participation_and_a_missing_validator_fire() {
    let rules = AlertRules::default();
    let mut w = Windows::default();
    let absent = [9u8; 32];
    for h in 1..=100 {
        // Half the power signs; one validator is missing from every certificate.
        w.push(sample(h, h * 1000, 0, 2, 4), vec![absent]);
    }
    let bad = rules.evaluate(&inputs(&w, None, 100_000));
    let mut good = Windows::default();
    blocks(&mut good, 1, 101, 0);
    let fine = rules.evaluate(&inputs(&good, None, 100_000));
    fires_then_resolves("participation_low", bad.clone(), fine.clone());
    let missed: Vec<_> = bad
        .holding
        .iter()
        .filter(|c| c.rule == "validator_missed_blocks")
        .collect();
    assert_eq!(missed.len(), 1);
    assert_eq!(missed[0].value, 100.0);
    fires_then_resolves("validator_missed_blocks", bad, fine);
}

fn health() -> ChainHealth {
    let mut h = ChainHealth::default();
    h.pool.bonded = 600;
    h.pool.supply = 1000;
    h
}

#[test]
fn the_emergency_rules_fire_on_a_break_an_overdue_incident_and_an_unready_plan() {
    let rules = AlertRules::default();
    let mut w = Windows::default();
    blocks(&mut w, 1, 100, 0);
    let mut bad = health();
    bad.broken_routes.push(BrokenRoute {
        route: "/cosmos.bank.v1beta1.MsgSend".into(),
        by: "caspur1member".into(),
        height: 7,
        time_ms: 0,
        reason: "drain".into(),
        break_id: 0,
        safe_mode: false,
    });
    bad.incidents.push(incident_pb::Incident {
        id: 3,
        state: incident_pb::State::Reported as i32,
        sla_overdue: true,
        ..Default::default()
    });
    bad.plan = Some(PlanHealth {
        name: "v2".into(),
        height: 150,
        source: "emergency".into(),
        ready_power: 1,
        total_power: 4,
        threshold: caspur_types::Dec::from_atomics(666_666_666_666_666_666),
        readiness_window: 100,
    });
    let now = rules.evaluate(&inputs(&w, Some(&bad), 99_500));
    let fine = rules.evaluate(&inputs(&w, Some(&health()), 99_500));
    for rule in ["circuit_break", "incident_overdue", "upgrade_readiness_low"] {
        fires_then_resolves(rule, now.clone(), fine.clone());
    }
    let broken = now.holding.iter().find(|c| c.rule == "circuit_break");
    assert_eq!(
        broken.map(|c| c.key.as_str()),
        Some("/cosmos.bank.v1beta1.MsgSend")
    );
}

#[test]
fn an_incident_acted_on_is_no_longer_overdue() {
    let rules = AlertRules::default();
    let mut w = Windows::default();
    blocks(&mut w, 1, 10, 0);
    let mut h = health();
    for (id, state, sla, disclosure) in [
        (1, incident_pb::State::Verified, true, false),
        (2, incident_pb::State::Closed, false, true),
        (3, incident_pb::State::Resolved, false, true),
    ] {
        h.incidents.push(incident_pb::Incident {
            id,
            state: state as i32,
            sla_overdue: sla,
            disclosure_overdue: disclosure,
            ..Default::default()
        });
    }
    let now = rules.evaluate(&inputs(&w, Some(&h), 9_500));
    let overdue: Vec<_> = now
        .holding
        .iter()
        .filter(|c| c.rule == "incident_overdue")
        .collect();
    assert_eq!(overdue.len(), 1, "{now:?}");
    assert_eq!(overdue[0].key, "3");
    assert!(overdue[0].summary.contains("disclosure"));
}

#[test]
fn a_bonded_ratio_drop_within_one_minute_fires_and_a_recovery_resolves_it() {
    let rules = AlertRules::default();
    let mut w = Windows::default();
    blocks(&mut w, 1, 200, 0);
    // As the node does: the ratio after each block is recorded before the rules run.
    w.set_bonded_ratio(0.6);
    let before = rules.evaluate(&inputs(&w, Some(&health()), 199_500));
    let mut low = health();
    low.pool.bonded = 500;
    w.set_bonded_ratio(0.5);
    let after = rules.evaluate(&inputs(&w, Some(&low), 199_500));
    w.set_bonded_ratio(0.6);
    let recovered = rules.evaluate(&inputs(&w, Some(&health()), 199_500));
    assert!(!before.holding.iter().any(|c| c.rule == "bonded_ratio_drop"));
    assert!(recovered.holding == before.holding);
    fires_then_resolves("bonded_ratio_drop", after, recovered);
}

#[test]
fn participation_is_judged_over_its_own_window() {
    let rules = AlertRules {
        participation_margin: 0.1,
        participation_window: 10,
        ..AlertRules::default()
    };
    let mut w = Windows::default();
    blocks(&mut w, 1, 91, 0);
    // A quarter of the power misses the last ten blocks: 75 % against 76.7 %.
    let absent = [7u8; 32];
    for h in 91..=100 {
        w.push(sample(h, h * 1000, 0, 3, 4), vec![absent]);
    }
    let low = rules.evaluate(&inputs(&w, None, 100_000));
    assert!(w.participation() > 0.97);
    // One block with everyone again lifts the ten-block share over the line.
    w.push(sample(101, 101_000, 0, 4, 4), Vec::new());
    let back = rules.evaluate(&inputs(&w, None, 101_000));
    fires_then_resolves("participation_low", low, back);
}

#[test]
fn the_firing_set_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("firing.json");
    let c = Condition {
        rule: "circuit_break",
        key: "/x".into(),
        value: 1.0,
        summary: "s".into(),
    };
    let judged = |holding: Vec<Condition>| Evaluation {
        holding,
        judged: ["circuit_break"].into(),
    };
    let mut e = Engine::open(Some(path.clone()));
    assert_eq!(e.step(judged(vec![c.clone()]), "t1", 1).len(), 1);
    // Restarted while it still holds: no second firing; once it clears, one resolution.
    let mut e = Engine::open(Some(path.clone()));
    assert!(e.step(judged(vec![c]), "t2", 2).is_empty());
    let mut e = Engine::open(Some(path));
    // Before the rule can be judged again (no health read yet), it keeps firing.
    assert!(e.step(Evaluation::default(), "t3", 3).is_empty());
    let resolved = e.step(judged(Vec::new()), "t3", 3);
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].status, "resolved");
}

#[test]
fn out_of_range_thresholds_are_refused_by_name() {
    let mut r = AlertRules::default();
    assert_eq!(r.validate(), Ok(()));
    r.missed_window = 5_000;
    assert!(r.validate().unwrap_err().contains("missed_window"));
    let r = AlertRules {
        throughput_drop_percent: 0.0,
        ..AlertRules::default()
    };
    assert!(r
        .validate()
        .unwrap_err()
        .contains("throughput_drop_percent"));
}

#[test]
fn rules_without_their_data_leave_firing_alerts_alone() {
    let rules = AlertRules::default();
    let mut w = Windows::default();
    blocks(&mut w, 1, 3, 0);
    // Two blocks after a start: intervals exist, the missed-blocks and participation windows
    // are not full, the hour reaches no further back than the recent blocks, no health yet.
    let early = rules.evaluate(&inputs(&w, None, 2_500));
    for rule in [
        "throughput_drop",
        "participation_low",
        "validator_missed_blocks",
        "bonded_ratio_drop",
        "circuit_break",
    ] {
        assert!(!early.judged.contains(rule), "{rule} judged: {early:?}");
    }
    assert!(early.judged.contains("block_stalled"));
    assert!(early.judged.contains("block_interval_slow"));
    let off = AlertRules {
        enable: false,
        ..AlertRules::default()
    };
    let quiet = off.evaluate(&inputs(&w, None, 2_500));
    assert!(quiet.holding.is_empty());
    assert_eq!(
        quiet.judged.len(),
        RULES.len(),
        "switched off, everything resolves"
    );
}

#[test]
fn too_few_live_dcert_members_fire_and_their_heartbeats_resolve_it() {
    use caspur_app::modules::dcert::heartbeat::MemberLiveness;
    let rules = AlertRules::default();
    let mut w = Windows::default();
    blocks(&mut w, 1, 100, 0);
    let member = |n: u8, live: bool| MemberLiveness {
        member: format!("caspur1member{n}"),
        last_period: 9,
        misses: u32::from(!live),
        live,
        suspension_vote_open: false,
    };
    let with = |live: [bool; 3]| {
        let mut h = health();
        h.dcert.heartbeats_required = true;
        h.dcert.suspension_quorum = caspur_types::Dec::from_atomics(666_666_666_666_666_667);
        h.dcert.liveness = (0..3).map(|n| member(n, live[n as usize])).collect();
        h
    };
    // One of three live: below 2/3. Three of three: fine.
    let (low, ok) = (with([true, false, false]), with([true, true, true]));
    let now = rules.evaluate(&inputs(&w, Some(&low), 99_500));
    let fine = rules.evaluate(&inputs(&w, Some(&ok), 99_500));
    fires_then_resolves("dcert_liveness_low", now.clone(), fine);
    let c = now
        .holding
        .iter()
        .find(|c| c.rule == "dcert_liveness_low")
        .unwrap();
    assert!(
        c.summary.contains("1 of 3") && c.summary.contains("caspur1member2"),
        "{}",
        c.summary
    );
    // Not required: silence is not an alert.
    let mut off = with([false, false, false]);
    off.dcert.heartbeats_required = false;
    let quiet = rules.evaluate(&inputs(&w, Some(&off), 99_500));
    assert!(!quiet.holding.iter().any(|c| c.rule == "dcert_liveness_low"));
}
