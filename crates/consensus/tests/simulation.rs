//! Four validators on the full stack (simplex + marshal + glue + QMDB + our state machine and
//! state sync) under Commonware's deterministic runtime and simulated network, driven by glue's
//! simulation harness, with txs flowing through every run.
//!
//! Scenarios: a validator crashes and restarts from its own storage; a 2|2 partition stalls the
//! chain until it heals; links drop 30 % of messages with jittered latency; a validator joins
//! so late (blocks pruned) that only state sync can bring it up. After each: every validator
//! reports the same block hash (the harness's fork check) and the same block, results and app
//! hash at every height it executed, its executed heights are contiguous, and the chain made
//! progress whenever three of four could talk.
//!
//! `CASPUR_SIM_SEEDS=N` runs N seeds per scenario (default 20); `CASPUR_SIM_SEED=S` replays one.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_consensus::engine::CatchUp;
use common::sim::*;
use commonware_consensus::types::{Epoch, Round, View};
use commonware_glue::simulate::{
    action::{Action, Crash, Schedule},
    engine::EngineDefinition as _,
    exit::ProcessedHeightAtLeast,
    plan::PlanBuilder,
};
use commonware_p2p::simulated::Link;
use commonware_utils::probability;
use std::collections::BTreeMap;
use std::time::Duration;

#[test]
fn crash_and_restart_from_own_storage() {
    for_each_seed(
        "crash",
        CatchUp {
            probe_timeout: secs(1),
            ..CatchUp::default()
        },
        None,
        |sim, seed| {
            let down = sim.participants()[3].clone();
            let schedule = Schedule::new()
                .at(secs(5), Action::Crash(down.clone()))
                .at(secs(12), Action::Restart(down));
            run_schedule(sim, seed, schedule)?;
            if finalized_between(sim, 0, secs(6), secs(12)) < 10 {
                return Err("three validators made no progress while one was down".into());
            }
            check_agreement(sim)
        },
    );
}

#[test]
fn partition_two_two_stalls_then_heals() {
    for_each_seed(
        "partition",
        CatchUp {
            probe_timeout: secs(1),
            ..CatchUp::default()
        },
        None,
        |sim, seed| {
            let p = sim.participants();
            let dead = Link {
                success_rate: probability!(0.0),
                ..good_link()
            };
            let mut schedule = Schedule::new();
            for a in 0..2 {
                for b in 2..4 {
                    for (from, to) in [(a, b), (b, a)] {
                        let action = Action::UpdateLink {
                            from: p[from].clone(),
                            to: p[to].clone(),
                            link: dead.clone(),
                        };
                        schedule = schedule.at(secs(5), action);
                    }
                }
            }
            let schedule = schedule.at(secs(12), Action::Heal(good_link()));
            run_schedule(sim, seed, schedule)?;
            for v in 0..VALIDATORS {
                // Blocks certified just before the cut may still arrive; after that, nothing.
                let during = finalized_between(sim, v, secs(7), secs(12));
                if during > 0 {
                    return Err(format!(
                        "validator {v} finalized {during} blocks while split 2|2"
                    ));
                }
                if finalized_between(sim, v, secs(12), secs(600)) == 0 {
                    return Err(format!("validator {v} made no progress after the heal"));
                }
            }
            check_agreement(sim)
        },
    );
}

#[test]
fn lossy_jittery_links() {
    for_each_seed(
        "lossy",
        CatchUp {
            probe_timeout: secs(1),
            ..CatchUp::default()
        },
        None,
        |sim, seed| {
            PlanBuilder::new(sim.clone())
                .seed(seed)
                .link(Link {
                    latency: Duration::from_millis(40),
                    jitter: Duration::from_millis(30),
                    success_rate: probability!(0.7),
                })
                .exit_condition(ProcessedHeightAtLeast::new(80))
                .timeout(secs(900))
                .run()?;
            check_agreement(sim)
        },
    );
}

/// Catching up needs state sync here: peers keep only 10 finalized blocks.
fn pruning_network() -> CatchUp {
    CatchUp {
        state_sync: true,
        min_distance_views: 50,
        probe_timeout: secs(1),
        retained_blocks: Some(10),
    }
}

/// Node `v` state-synced, then executed only blocks after its floor, in agreement.
fn check_state_synced(sim: &Sim, v: usize) -> Result<(), String> {
    let synced = sim.synced_to.lock().unwrap().get(&v).copied();
    let Some(floor) = synced else {
        return Err(format!("node {v} did not state sync"));
    };
    // It adopted state at the floor (or a later anchor) and executed only what followed.
    let first = sim.ledger(v).blocks.keys().next().copied().unwrap_or(0);
    if first <= floor {
        return Err(format!("after syncing to {floor} it executed from {first}"));
    }
    check_agreement(sim)
}

#[test]
fn late_validator_catches_up_by_state_sync() {
    for_each_seed("late joiner", pruning_network(), None, |sim, seed| {
        let late = sim.participants()[3].clone();
        PlanBuilder::new(sim.clone())
            .seed(seed)
            .crash(Crash::DelayRound {
                participants: vec![late],
                // Views restart every epoch: join once epoch 5 (height 125) has begun.
                round: Round::new(Epoch::new(5), View::zero()),
            })
            .exit_condition(ProcessedHeightAtLeast::new(200))
            .timeout(secs(900))
            .run()?;
        check_state_synced(sim, 3)
    });
}

#[test]
fn validator_down_past_retention_catches_up_by_state_sync() {
    for_each_seed("long outage", pruning_network(), Some(3), |sim, seed| {
        let down = sim.participants()[3].clone();
        let schedule = Schedule::new()
            .at(secs(5), Action::Crash(down.clone()))
            .at(secs(25), Action::Restart(down));
        PlanBuilder::new(sim.clone())
            .seed(seed)
            .crash(Crash::Schedule(schedule))
            .exit_condition(ProcessedHeightAtLeast::new(300))
            .timeout(secs(900))
            .run()?;
        check_state_synced(sim, 3)
    });
}

/// Five nodes; the app moves node 0 out and node 4 in for epoch 2 (heights 50–74), then
/// node 0 back in and node 3 out from epoch 4 (heights 100–).
fn rotating(catch_up: CatchUp) -> Sim {
    let changes = BTreeMap::from([(40, vec![1, 2, 3, 4]), (90, vec![0, 1, 2, 4])]);
    Sim::with_nodes(catch_up, 5, changes)
}

#[test]
fn validator_set_changes_at_epoch_boundaries() {
    // Node 4 crashes across the boundary where it becomes a validator, node 0 across the one
    // where it returns.
    let make = || {
        rotating(CatchUp {
            probe_timeout: secs(1),
            ..CatchUp::default()
        })
    };
    for_each_seed_of("set change", make, |sim, seed| {
        let p = sim.participants();
        let schedule = Schedule::new()
            .at(secs(3), Action::Crash(p[4].clone()))
            .at(secs(7), Action::Restart(p[4].clone()))
            .at(secs(9), Action::Crash(p[0].clone()))
            .at(secs(13), Action::Restart(p[0].clone()));
        PlanBuilder::new(sim.clone())
            .seed(seed)
            .crash(Crash::Schedule(schedule))
            .exit_condition(ProcessedHeightAtLeast::new(175))
            .timeout(secs(600))
            .run()?;
        check_agreement(sim)?;
        let key = |i| key(sim, i);
        let (epoch2, epoch4) = (proposers(sim, 1, 50, 74), proposers(sim, 1, 100, 175));
        if epoch2.contains(&key(0)) || epoch4.contains(&key(3)) {
            return Err("a node outside the epoch's set proposed".into());
        }
        if !epoch2.contains(&key(4)) || !epoch4.contains(&key(0)) {
            return Err("a node that joined the set never proposed".into());
        }
        Ok(())
    });
}

#[test]
fn late_node_state_syncs_across_set_changes() {
    // Node 4 (not a genesis validator) first starts in epoch 5, after both changes, with
    // blocks pruned: it must learn each epoch's set from peers' boundary proofs, state-sync,
    // and then vote as the member it has been since epoch 2.
    for_each_seed_of(
        "late node across set changes",
        || rotating(pruning_network()),
        |sim, seed| {
            let late = sim.participants()[4].clone();
            PlanBuilder::new(sim.clone())
                .seed(seed)
                .crash(Crash::DelayRound {
                    participants: vec![late],
                    round: Round::new(Epoch::new(5), View::zero()),
                })
                .exit_condition(ProcessedHeightAtLeast::new(250))
                .timeout(secs(900))
                .run()?;
            check_state_synced(sim, 4)?;
            if !proposers(sim, 1, 175, 250).contains(&key(sim, 4)) {
                return Err("the late node never proposed after syncing".into());
            }
            Ok(())
        },
    );
}
