//! Slashing fed by consensus, on the full stack in the deterministic simulation: four staked
//! validators whose set comes from the staking module.
//!
//! - A validator that goes silent is missing from the certificates the next blocks carry; after
//!   a full signing window the app slashes and jails it, and from the next epoch on consensus
//!   runs without it.
//! - A validator that signs conflicting votes is caught by the honest validators' simplex
//!   engines; a proposer puts the proof in a block, every validator verifies it, the app slashes,
//!   jails and tombstones the offender, and the next epoch runs without it.
//!
//! After each run the validators agree on every block, result and app hash.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::slashing::SlashingParams;
use caspur_app::modules::staking::state::valoper;
use caspur_consensus::engine::CatchUp;
use common::sim::*;
use commonware_consensus::types::Epoch;
use commonware_glue::simulate::{
    action::{Action, Crash, Schedule},
    engine::EngineDefinition as _,
    exit::ProcessedHeightAtLeast,
    plan::PlanBuilder,
};

/// A short window so that a silent validator is judged within the first epoch or two.
fn slashing() -> SlashingParams {
    SlashingParams {
        signed_blocks_window: 10,
        min_signed_per_window: "0.5".into(),
        downtime_jail_duration_secs: 3600,
        ..SlashingParams::default()
    }
}

fn staked() -> Sim {
    Sim::staked(
        CatchUp {
            probe_timeout: secs(1),
            ..CatchUp::default()
        },
        slashing(),
    )
}

/// Height and `reason` of the first `slash` of validator `i` in validator 0's blocks, with
/// the height of its `jail` event.
fn slash_of(sim: &Sim, i: usize) -> Option<(u64, String, u64)> {
    let who = valoper(&sender(i).address());
    let ledger = sim.ledger(0);
    let events = || {
        ledger
            .blocks
            .iter()
            .flat_map(|(h, (b, _))| b.block_events.iter().map(move |e| (*h, e)))
    };
    let attr = |e: &caspur_types::Event, k: &str| {
        e.attributes
            .iter()
            .find(|a| a.key == k)
            .map(|a| a.value.clone())
    };
    let (slashed_at, reason) = events()
        .find(|(_, e)| e.kind == "slash" && attr(e, "address").as_ref() == Some(&who))
        .map(|(h, e)| (h, attr(e, "reason").unwrap_or_default()))?;
    let jailed_at = events()
        .find(|(_, e)| e.kind == "jail" && attr(e, "validator").as_ref() == Some(&who))
        .map(|(h, _)| h)?;
    Some((slashed_at, reason, jailed_at))
}

/// Validator `i` is in the set of every epoch up to the one it was jailed in and in none
/// after it (as validator 0's consensus learned the sets), and proposes nothing from then on.
fn check_removed_next_epoch(sim: &Sim, i: usize, jailed_at: u64) -> Result<(), String> {
    let key = key(sim, i);
    let sets = sim.sets.lock().unwrap().get(&0).cloned().ok_or("no sets")?;
    let jail_epoch = jailed_at / EPOCH_LENGTH;
    for epoch in 0..=jail_epoch + 2 {
        let set = sets
            .validators(Epoch::new(epoch))
            .ok_or(format!("epoch {epoch}'s set is unknown"))?;
        let member = set.iter().any(|v| v.pub_key == key);
        if member != (epoch <= jail_epoch) {
            return Err(format!(
                "jailed at height {jailed_at}: validator {i} membership in epoch {epoch} is {member}"
            ));
        }
    }
    let first_without = (jail_epoch + 1) * EPOCH_LENGTH;
    let proposers = proposers(sim, 0, first_without, u64::MAX);
    if proposers.is_empty() {
        return Err("no blocks after the set changed".into());
    }
    if proposers.contains(&key) {
        return Err(format!("validator {i} proposed after it left the set"));
    }
    Ok(())
}

#[test]
fn silent_validator_is_jailed_and_leaves_the_set_next_epoch() {
    for_each_seed_of("downtime", staked, |sim, seed| {
        let silent = sim.participants()[3].clone();
        // Down from the start of the chain until well after it was replaced; it then follows
        // the chain without voting.
        let schedule = Schedule::new()
            .at(secs(1), Action::Crash(silent.clone()))
            .at(secs(30), Action::Restart(silent));
        PlanBuilder::new(sim.clone())
            .seed(seed)
            .crash(Crash::Schedule(schedule))
            .exit_condition(ProcessedHeightAtLeast::new(125))
            .timeout(secs(900))
            .run()?;
        check_agreement(sim)?;
        let (_, reason, jailed_at) =
            slash_of(sim, 3).ok_or("the silent validator was not slashed")?;
        if reason != "missing_signature" {
            return Err(format!("slashed for {reason}"));
        }
        for i in 0..3 {
            if slash_of(sim, i).is_some() {
                return Err(format!("live validator {i} was slashed"));
            }
        }
        check_removed_next_epoch(sim, 3, jailed_at)
    });
}

#[test]
fn double_signer_is_tombstoned_and_leaves_the_set_next_epoch() {
    let make = || {
        let mut sim = staked();
        sim.byzantine = Some(3);
        sim
    };
    for_each_seed_of("double sign", make, |sim, seed| {
        PlanBuilder::new(sim.clone())
            .seed(seed)
            .exit_condition(ProcessedHeightAtLeast::new(100))
            .timeout(secs(900))
            .run()?;
        check_agreement(sim)?;
        let (slashed_at, reason, jailed_at) =
            slash_of(sim, 3).ok_or("the double signer was not slashed")?;
        if reason != "double_sign" {
            return Err(format!("slashed for {reason}"));
        }
        // Once tombstoned, the proof is not applied again (a second slash would show).
        let repeats = sim
            .ledger(0)
            .blocks
            .values()
            .flat_map(|(b, _)| b.block_events.iter())
            .filter(|e| e.kind == "slash")
            .count();
        if repeats != 1 {
            return Err(format!("{repeats} slashes for one offence"));
        }
        if slashed_at != jailed_at {
            return Err("slashed and jailed in different blocks".into());
        }
        check_removed_next_epoch(sim, 3, jailed_at)
    });
}
