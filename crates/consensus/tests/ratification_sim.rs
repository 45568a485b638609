//! dCERT accountability on the full stack in the deterministic simulation (four validators):
//! breaks need ratification within 3 s of block time. A malicious member reports an incident of
//! its own making (sealed to itself) and breaks `MsgSend` naming it while sends flow; governance
//! never ratifies. No send is committed while the break stands; at the end of the first block
//! past the deadline the route reopens, the member's bond is slashed and the incident's
//! timeline records the lapse (all in that block's events, identical on every validator); sends
//! are committed again.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_consensus::engine::CatchUp;
use caspur_consensus::FinalizedBlock;
use caspur_types::proto::incident::v1 as ipb;
use caspur_types::tx::decode_tx;
use caspur_types::Event;
use common::sim::*;
use commonware_glue::simulate::{exit::ProcessedHeightAtLeast, plan::PlanBuilder};

const SEND: &str = "/cosmos.bank.v1beta1.MsgSend";
const BREAK: &str = "/caspur.dcert.v1.MsgCircuitBreak";
const PERIOD_SECS: u64 = 3;

/// The member's own report (incident 1), sealed to itself: nothing behind it.
fn bogus_report() -> cosmos_sdk_proto::Any {
    let member = breaker_member().address().to_string();
    let to = vec![(member.clone(), breaker_sealing_key().public().unwrap())];
    let (sealed, disclosure) = caspur_types::seal::seal(b"nothing", &to).unwrap();
    caspur_types::sign::to_any(
        "/caspur.incident.v1.MsgReportIncident",
        &ipb::MsgReportIncident {
            reporter: member,
            severity_claim: ipb::Severity::Critical as i32,
            public_title: "urgent".into(),
            sealed_report: Some(sealed),
            commitment: caspur_types::seal::commitment(&disclosure.salt, &disclosure.report),
        },
    )
}

fn carries(tx: &[u8], url: &str) -> bool {
    decode_tx(tx, usize::MAX).is_ok_and(|t| t.body.messages.iter().any(|m| m.type_url == url))
}

fn has(events: &[Event], kind: &str, key: &str, value: &str) -> bool {
    events.iter().any(|e| {
        e.kind == kind
            && e.attributes
                .iter()
                .any(|a| a.key == key && a.value == value)
    })
}

/// The height of the block whose end lapsed the break, checked against the ledger.
fn lapse_height(
    blocks: &std::collections::BTreeMap<u64, (FinalizedBlock, std::time::Duration)>,
) -> Result<(u64, u64), String> {
    let (&broken_at, (b, _)) = blocks
        .iter()
        .find(|(_, (b, _))| b.txs.iter().any(|t| carries(t, BREAK)))
        .ok_or("the break was never committed")?;
    let i = b.txs.iter().position(|t| carries(t, BREAK)).unwrap_or(0);
    if b.results[i].code != 0 {
        return Err(format!("the break failed: {}", b.results[i].log));
    }
    if !has(&b.results[i].events, "dcert_break", "incident_id", "1") {
        return Err("the break did not name incident 1".into());
    }
    let deadline = b.time_ms + PERIOD_SECS * 1000;
    let (&lapsed_at, (l, _)) = blocks
        .range(broken_at..)
        .find(|(_, (b, _))| has(&b.block_events, "circuit_lapse", "route", SEND))
        .ok_or("the break never lapsed")?;
    if l.time_ms < deadline
        || blocks
            .get(&(lapsed_at - 1))
            .is_some_and(|(p, _)| p.time_ms >= deadline)
    {
        return Err(format!(
            "lapsed at {lapsed_at} (time {}), deadline {deadline}",
            l.time_ms
        ));
    }
    let member = breaker_member().address().to_string();
    if !has(&l.block_events, "dcert_slash", "member", &member) {
        return Err("the member was not slashed at the lapse".into());
    }
    if !has(&l.block_events, "incident", "action", "break_lapsed") {
        return Err("the incident's timeline does not show the lapse".into());
    }
    Ok((broken_at, lapsed_at))
}

#[test]
fn an_unratified_break_by_a_malicious_member_lapses_and_costs_its_bond() {
    let make = || {
        Sim::with_member_txs(
            CatchUp::default(),
            |g| {
                g.dcert.params.break_ratification_period_secs = PERIOD_SECS;
                g.dcert.params.unratified_break_slash = "0.5".into();
            },
            vec![bogus_report(), circuit_break(SEND, 1)],
            12,
        )
    };
    for_each_seed_of("ratification", make, |sim, seed| {
        PlanBuilder::new(sim.clone())
            .seed(seed)
            .exit_condition(ProcessedHeightAtLeast::new(90))
            .timeout(secs(900))
            .run()?;
        check_agreement(sim)?;
        let blocks = sim.ledger(0).blocks.clone();
        let (broken_at, lapsed_at) = lapse_height(&blocks)?;
        for (h, (b, _)) in blocks.range(broken_at + 1..=lapsed_at) {
            if b.txs.iter().any(|t| carries(t, SEND)) {
                return Err(format!("a send was committed at {h} while the break stood"));
            }
        }
        let resumed = blocks
            .range(lapsed_at + 1..)
            .any(|(_, (b, _))| b.txs.iter().any(|t| carries(t, SEND)));
        if !resumed {
            return Err(format!("no send committed after the lapse at {lapsed_at}"));
        }
        Ok(())
    });
}
