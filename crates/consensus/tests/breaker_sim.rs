//! The circuit breaker on the full stack in the deterministic simulation: a dCERT member breaks
//! `MsgSend` while sends keep flowing into every mempool, and validator 3 proposes like a
//! byzantine node, putting refused sends into its blocks. From the block that carries the
//! break, no block on any validator contains a send; the byzantine proposals are rejected by
//! the honest validators (their views time out) and the chain keeps finalizing.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_consensus::engine::CatchUp;
use caspur_types::tx::decode_tx;
use common::sim::*;
use commonware_glue::simulate::{exit::ProcessedHeightAtLeast, plan::PlanBuilder};

const SEND: &str = "/cosmos.bank.v1beta1.MsgSend";
const BREAK: &str = "/caspur.dcert.v1.MsgCircuitBreak";

fn types_of(tx: &[u8]) -> Vec<String> {
    decode_tx(tx, usize::MAX)
        .map(|t| t.body.messages.iter().map(|m| m.type_url.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn no_send_is_committed_after_the_break_even_from_a_byzantine_proposer() {
    let make = || {
        let mut sim = Sim::with_breaker(
            CatchUp {
                probe_timeout: secs(1),
                ..CatchUp::default()
            },
            SEND,
            20,
        );
        sim.byzantine_proposer = Some(3);
        sim
    };
    for_each_seed_of("breaker", make, |sim, seed| {
        PlanBuilder::new(sim.clone())
            .seed(seed)
            .exit_condition(ProcessedHeightAtLeast::new(60))
            .timeout(secs(900))
            .run()?;
        check_agreement(sim)?;
        let blocks = sim.ledger(0).blocks.clone();
        let (&at, _) = blocks
            .iter()
            .find(|(_, (b, _))| {
                b.txs
                    .iter()
                    .any(|t| types_of(t).contains(&BREAK.to_string()))
            })
            .ok_or("the break was never committed")?;
        for v in 0..4 {
            for (h, (b, _)) in sim.ledger(v).blocks.range(at..) {
                let after_break = if *h == at {
                    let i = b
                        .txs
                        .iter()
                        .position(|t| types_of(t).contains(&BREAK.to_string()))
                        .unwrap_or(0);
                    &b.txs[i..]
                } else {
                    &b.txs[..]
                };
                if after_break
                    .iter()
                    .any(|t| types_of(t).contains(&SEND.to_string()))
                {
                    return Err(format!("validator {v} committed a send at height {h}"));
                }
            }
        }
        let sends_before: usize = blocks.range(..at).map(|(_, (b, _))| b.txs.len()).sum();
        if sends_before == 0 {
            return Err("no send before the break: the scenario tested nothing".into());
        }
        let last = *blocks.keys().next_back().unwrap_or(&0);
        if last < at + 20 {
            return Err(format!(
                "the chain stalled after the break at {at} (last {last})"
            ));
        }
        Ok(())
    });
}
