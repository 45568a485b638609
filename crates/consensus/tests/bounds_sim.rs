//! Structural bounds on the full stack in the deterministic simulation (issue 15): validator 3
//! proposes like a byzantine node and puts a tx over a structural bound (a send nested one
//! level deeper than `MAX_NESTING_DEPTH`) into its blocks. The honest validators refuse every
//! such block, no validator ever commits the tx, and the chain keeps finalizing.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_consensus::engine::CatchUp;
use caspur_types::sign::{msg_send, sign_tx, to_any, AccountKey, TxParams};
use common::sim::*;
use commonware_glue::simulate::{exit::ProcessedHeightAtLeast, plan::PlanBuilder};

/// A send wrapped in execs one level deeper than the bound, signed by a funded sender.
fn over_bound_tx() -> Vec<u8> {
    let key: AccountKey = sender(0);
    let one = caspur_types::Coins::normalize([caspur_types::Coin::new("ucsp", 1)]).unwrap();
    let mut msg = msg_send(&key.address(), &sender(1).address(), &one);
    for _ in 0..=caspur_app::limits::MAX_NESTING_DEPTH {
        msg = to_any(
            "/cosmos.authz.v1beta1.MsgExec",
            &cosmos_sdk_proto::cosmos::authz::v1beta1::MsgExec {
                grantee: key.address().to_string(),
                msgs: vec![msg],
            },
        );
    }
    sign_tx(
        &key,
        vec![msg],
        &TxParams {
            chain_id: CHAIN.into(),
            account_number: 0,
            sequence: 0,
            fee: "2000ucsp".parse().unwrap(),
            gas_limit: 200_000,
            memo: String::new(),
            include_pubkey: true,
        },
    )
}

#[test]
fn honest_validators_refuse_a_block_carrying_an_over_bound_tx() {
    let bad = over_bound_tx();
    let make = || {
        let mut sim = Sim::new(CatchUp {
            probe_timeout: secs(1),
            ..CatchUp::default()
        });
        sim.byzantine_proposer = Some(3);
        sim.pool.txs.lock().unwrap().insert(0, bad.clone());
        sim
    };
    for_each_seed_of("bounds", make, |sim, seed| {
        PlanBuilder::new(sim.clone())
            .seed(seed)
            .exit_condition(ProcessedHeightAtLeast::new(40))
            .timeout(secs(900))
            .run()?;
        check_agreement(sim)?;
        for v in 0..4 {
            let ledger = sim.ledger(v);
            if let Some((h, _)) = ledger
                .blocks
                .iter()
                .find(|(_, (b, _))| b.txs.contains(&bad))
            {
                return Err(format!("validator {v} committed the over-bound tx at {h}"));
            }
        }
        let blocks = &sim.ledger(0).blocks;
        let txs: usize = blocks.values().map(|(b, _)| b.txs.len()).sum();
        if txs == 0 {
            return Err("no tx committed: the chain did nothing".into());
        }
        let last = *blocks.keys().next_back().unwrap_or(&0);
        if last < 40 {
            return Err(format!("the chain stalled at {last}"));
        }
        Ok(())
    });
}
