//! Property test of the electionator: random sequences of votes, delegations, undelegations,
//! candidacies, bonds, unbonds and time, over several seeds and two stabilization settings.
//! After every block:
//! - never more than `max_members` members;
//! - every member accepted its candidacy and holds at least `min_member_stake`;
//! - with no stabilization period, no eligible non-member outranks the lowest member of a full
//!   group; with one, no free challenger outranks the lowest untargeted member (it has an entry),
//!   and no entry lives past its maturity;
//! - every candidate's running tally equals a recount from the stored votes, and every vote's
//!   stake equals its voter's delegations now.

// Tests fail loudly: the workspace denies these outside tests only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use caspur_app::modules::dcert::election::part;
use caspur_app::modules::dcert::state as dc;
use caspur_app::modules::dcert::DcertParams;
use common::*;

const CANDIDATES: [u8; 6] = [3, 4, 5, 6, 7, 8];
const VOTERS: [u8; 5] = [2, 9, 10, 11, 12];
const MAX: u32 = 3;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }

    fn pick(&mut self, from: &[u8]) -> u8 {
        from[self.below(from.len() as u64) as usize]
    }
}

fn random_op(rng: &mut Rng) -> (u8, cosmos_sdk_proto::Any) {
    let v = rng.pick(&VOTERS);
    let c = rng.pick(&CANDIDATES);
    let amount = 1 + rng.below(3 * MIN_BOND as u64) as u128;
    match rng.below(7) {
        0 => (v, delegate(v, 1, amount)),
        1 => (v, undelegate(v, 1, amount / 2 + 1)),
        2 | 3 => {
            let n = 1 + rng.below(3) as usize;
            let mut prefs: Vec<(u8, &str)> = Vec::new();
            for w in ["0.5", "0.25", "0.25"].iter().take(n) {
                let c = rng.pick(&CANDIDATES);
                if !prefs.iter().any(|(p, _)| *p == c) {
                    prefs.push((c, w));
                }
            }
            (v, dcert_vote(v, &prefs))
        }
        4 => (c, accept(c)),
        5 => {
            let staker = if rng.below(2) == 0 { c } else { v };
            (staker, bond(staker, c, amount))
        }
        _ => (
            c,
            caspur_types::sign::to_any(
                "/caspur.dcert.v1.MsgUnbondDcert",
                &caspur_types::proto::dcert::v1::MsgUnbondDcert {
                    staker: addr(c).to_string(),
                    candidate: addr(c).to_string(),
                    amount: coin(amount / 2 + 1),
                },
            ),
        ),
    }
}

fn check(chain: &Chain, params: &DcertParams) -> Result<(), String> {
    let members = chain.read(async |kv| dc::members(kv).await.unwrap());
    if members.len() > MAX as usize {
        return Err(format!("{} members", members.len()));
    }
    let record = |n: u8| chain.read(async |kv| dc::candidate(kv, &addr(n)).await.unwrap());
    let min = params.min_stake().unwrap();
    for (m, _) in &members {
        let n = CANDIDATES
            .iter()
            .copied()
            .find(|c| addr(*c) == *m)
            .ok_or("a stranger")?;
        let c = record(n);
        if !c.accepted || c.bond < min {
            return Err(format!(
                "member {n} accepted={} bond={}",
                c.accepted, c.bond
            ));
        }
    }
    // Recount.
    let mut recount = std::collections::BTreeMap::new();
    for v in VOTERS {
        let Some(vote) = chain.read(async |kv| dc::vote(kv, &addr(v)).await.unwrap()) else {
            continue;
        };
        let stake = chain.shares_worth(v, 1);
        if vote.stake != stake {
            return Err(format!(
                "voter {v} counted with {} but holds {stake}",
                vote.stake
            ));
        }
        for (c, w) in vote.preferences {
            *recount.entry(c).or_insert(0u128) += part(vote.stake, w).unwrap();
        }
    }
    for c in CANDIDATES {
        let expected = recount.get(&addr(c)).copied().unwrap_or(0);
        if record(c).tally != expected {
            return Err(format!(
                "candidate {c}: tally {} recount {expected}",
                record(c).tally
            ));
        }
    }
    // Rank rule.
    let busy = chain.read(async |kv| dc::queued_challengers(kv).await.unwrap());
    let eligible_outsiders: Vec<(u8, u128, bool)> = CANDIDATES
        .iter()
        .map(|&n| (n, record(n)))
        .filter(|(_, c)| !c.is_member() && c.eligible(params).unwrap())
        .map(|(n, c)| (n, c.tally, busy.contains(&addr(n))))
        .collect();
    if members.len() == MAX as usize {
        let targets = chain.read(async |kv| dc::stabilization_targets(kv).await.unwrap());
        let lowest_untargeted = members
            .iter()
            .filter(|(m, _)| !targets.contains(m))
            .map(|(m, seq)| {
                let n = CANDIDATES.iter().copied().find(|c| addr(*c) == *m).unwrap();
                (record(n).tally, std::cmp::Reverse(*seq))
            })
            .min();
        let best_free = eligible_outsiders
            .iter()
            .filter(|(_, _, challenging)| !challenging)
            .map(|(_, t, _)| *t)
            .max();
        if let (Some(best), Some((lowest, _))) = (best_free, lowest_untargeted) {
            if best > lowest {
                return Err(format!(
                    "a free challenger ({best}) outranks a member ({lowest})"
                ));
            }
        }
        for t in targets {
            let entry = chain.read(async |kv| dc::stabilization(kv, &t).await.unwrap().unwrap());
            if entry.matures_at_ms <= chain.time_ms {
                return Err("an entry outlived its maturity".into());
            }
        }
    }
    Ok(())
}

fn run(seed: u64, stabilization_secs: u64) {
    let params = DcertParams {
        max_members: MAX,
        min_member_stake: MIN_BOND.to_string(),
        stabilization_period_secs: stabilization_secs,
        ..DcertParams::default()
    };
    let mut chain = dcert_chain(params.clone());
    let mut rng = Rng(seed);
    for step in 0..150 {
        let (signer, msg) = random_op(&mut rng);
        let tx = chain.tx(signer, vec![msg]);
        let advance = 1000 * (1 + rng.below(40));
        chain.block(vec![tx], advance);
        if let Err(e) = check(&chain, &params) {
            panic!("seed {seed}, stabilization {stabilization_secs} s, step {step}: {e}");
        }
    }
}

#[test]
fn election_invariants_hold_over_random_operations() {
    for seed in 0..12 {
        run(seed, 0);
        run(seed, 60);
    }
}
