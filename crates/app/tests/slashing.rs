//! Slashing: double-sign evidence slashes the validator's stake, the unbonding entries and
//! redelegations that left it after the infraction, jails and tombstones it; downtime slashes
//! and jails until `MsgUnjail`; either way the bonded set handed to consensus changes.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::consensus_report::{self, ConsensusReport, Fault, Liveness};
use caspur_app::context::Ctx;
use caspur_app::modules::slashing::{self, SlashingParams};
use caspur_app::modules::staking::state::{self as st, Status};
use caspur_app::BlockInfo;
use caspur_store::Overlay;
use caspur_types::sign::to_any;
use common::*;

/// Runs `f` with a block context at the chain's next height, then commits like a block.
fn with_block<F>(chain: &mut Chain, f: F)
where
    F: AsyncFnOnce(&mut Ctx<'_, &caspur_store::MemState>),
{
    chain.height += 1;
    chain.time_ms += 1000;
    let info = BlockInfo {
        height: chain.height,
        time_ms: chain.time_ms,
    };
    let writes = futures::executor::block_on(async {
        let mut o = Overlay::new(&chain.state);
        let mut ctx = Ctx::new(
            &mut o,
            &info,
            CHAIN,
            u64::MAX,
            caspur_app::gas::DEFAULT_COSTS,
        );
        f(&mut ctx).await;
        drop(ctx);
        o.commit_tx();
        o.into_writes()
    });
    chain.state.apply(&writes);
}

fn unjail(n: u8) -> cosmos_sdk_proto::Any {
    to_any(
        "/cosmos.slashing.v1beta1.MsgUnjail",
        &cosmos_sdk_proto::cosmos::slashing::v1beta1::MsgUnjail {
            validator_addr: valoper(n),
        },
    )
}

#[test]
fn double_signing_slashes_stake_unbondings_and_redelegations_then_tombstones() {
    let mut chain = Chain::new(Default::default());
    chain.ok(3, create_validator(3, 4_000_000_000));
    chain.ok(2, delegate(2, 1, 5_000_000_000));
    let infraction = chain.height;
    chain.ok(2, undelegate(2, 1, 1_000_000_000));
    chain.ok(2, redelegate(2, 1, 3, 2_000_000_000));
    let supply = chain.supply();
    let tokens = chain.validator(1).tokens;
    let at_dst = chain.shares_worth(2, 3);
    // Consensus reports the fault by consensus key; the app finds the operator.
    let report = ConsensusReport {
        liveness: None,
        faults: vec![Fault {
            pub_key: [1; 32],
            infraction_height: infraction,
        }],
    };
    with_block(&mut chain, async |ctx| {
        consensus_report::apply(ctx, &report).await.unwrap();
    });
    let fraction = 5; // percent
    let v = chain.validator(1);
    assert_eq!(v.tokens, tokens - tokens * fraction / 100);
    assert!(v.jailed);
    let entry = chain.read(async |kv| st::get_unbonding(kv, &addr(2), &addr(1)).await.unwrap());
    assert_eq!(entry[0].balance, 1_000_000_000 - 50_000_000);
    assert_eq!(chain.shares_worth(2, 3), at_dst - 100_000_000);
    let burned = tokens * fraction / 100 + 50_000_000 + 100_000_000;
    assert_eq!(chain.supply(), supply - burned);
    // The next block drops it from the bonded set; consensus gets the new set for the next epoch.
    chain.block(Vec::new(), 1000);
    assert_eq!(chain.validator(1).status, Status::Unbonding);
    let set = chain.next_set().unwrap();
    assert_eq!(set.len(), 1);
    assert_eq!(set[0].pub_key, [3; 32]);
    // Tombstoned: never back, and a second piece of evidence changes nothing.
    let r = chain.run(1, unjail(1));
    assert!(r.log.contains("tombstoned"), "{}", r.log);
    let after = chain.validator(1).tokens;
    with_block(&mut chain, async |ctx| {
        slashing::handle_double_sign(ctx, &addr(1), infraction)
            .await
            .unwrap();
    });
    assert_eq!(chain.validator(1).tokens, after);
}

#[test]
fn downtime_jails_until_the_jail_time_is_over() {
    let params = SlashingParams {
        signed_blocks_window: 10,
        ..SlashingParams::default()
    };
    let mut chain = Chain::configured(|g| g.slashing.params = params.clone());
    chain.ok(3, create_validator(3, 4_000_000_000));
    let tokens = chain.validator(3).tokens;
    chain.ok(4, create_validator(4, 4_000_000_000));
    // Validator 3 signs nothing for 16 blocks; validator 1 signs all. Validator 4 is bonded
    // but not in the consensus set of these blocks: it is not judged.
    let report = ConsensusReport {
        liveness: Some(Liveness {
            signed: vec![[1; 32]],
            missed: vec![[3; 32]],
        }),
        faults: Vec::new(),
    };
    for n in 0..16 {
        with_block(&mut chain, async |ctx| {
            consensus_report::apply(ctx, &report).await.unwrap();
        });
        // A full window must pass before anyone is judged.
        assert_eq!(chain.validator(3).jailed, n >= 9, "after {} blocks", n + 1);
    }
    assert!(!chain.validator(4).jailed);
    let v = chain.validator(3);
    assert!(v.jailed, "jailed for downtime");
    assert!(!chain.validator(1).jailed);
    assert_eq!(v.tokens, tokens - tokens / 10_000, "0.01 % slashed");
    chain.block(Vec::new(), 1000);
    assert_eq!(chain.next_set().unwrap().len(), 2);
    let early = chain.run(3, unjail(3));
    assert!(early.log.contains("jailed until"), "{}", early.log);
    chain.block(Vec::new(), params.downtime_jail_duration_secs * 1000);
    chain.ok(3, unjail(3));
    assert_eq!(chain.validator(3).status, Status::Bonded);
    assert_eq!(chain.next_set().unwrap().len(), 3);
    // A validator that is not jailed cannot be unjailed.
    let r = chain.run(1, unjail(1));
    assert!(r.log.contains("not jailed"), "{}", r.log);
}
