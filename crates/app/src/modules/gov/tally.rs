//! The tally: votes weighted by bonded stake. A delegator's vote counts with the tokens its
//! delegations to bonded validators are worth; a bonded validator's operator vote counts for
//! the rest of its tokens — the delegators who did not vote inherit it.

use super::params::GovParams;
use super::state;
use crate::context::KvRead;
use crate::error::ExecError;
use crate::modules::staking::delegation::mul_div;
use crate::modules::staking::state::{self as staking, Status};
use caspur_types::{Address, Dec};
use cosmos_sdk_proto::cosmos::gov::v1 as pb;
use ethnum::U256;
use std::collections::BTreeMap;

/// Votes per option, in tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Yes.
    pub yes: u128,
    /// Abstain.
    pub abstain: u128,
    /// No.
    pub no: u128,
    /// No with veto.
    pub veto: u128,
}

impl Tally {
    fn add(&mut self, option: i32, tokens: u128) -> Result<(), ExecError> {
        let slot = match pb::VoteOption::try_from(option) {
            Ok(pb::VoteOption::Yes) => &mut self.yes,
            Ok(pb::VoteOption::Abstain) => &mut self.abstain,
            Ok(pb::VoteOption::No) => &mut self.no,
            Ok(pb::VoteOption::NoWithVeto) => &mut self.veto,
            _ => return Err(ExecError::logic("stored vote has an invalid option")),
        };
        *slot = slot.saturating_add(tokens);
        Ok(())
    }

    fn total(&self) -> u128 {
        self.yes + self.abstain + self.no + self.veto
    }

    /// As the SDK's `TallyResult`.
    pub fn to_proto(self) -> pb::TallyResult {
        pb::TallyResult {
            yes_count: self.yes.to_string(),
            abstain_count: self.abstain.to_string(),
            no_count: self.no.to_string(),
            no_with_veto_count: self.veto.to_string(),
        }
    }
}

/// What the tally decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Whether the proposal passes.
    pub passes: bool,
    /// Whether its deposits are burned rather than refunded.
    pub burn_deposits: bool,
    /// The counts.
    pub tally: Tally,
}

/// `part / whole > fraction`, exactly.
fn exceeds(part: u128, whole: u128, fraction: Dec) -> bool {
    U256::from(part) * U256::from(Dec::ONE.atomics())
        > U256::from(fraction.atomics()) * U256::from(whole)
}

fn weighted(tokens: u128, weight: &str) -> Result<u128, ExecError> {
    let w: Dec = weight.parse()?;
    mul_div(tokens, w.atomics(), Dec::ONE.atomics())
}

struct Bonded {
    tokens: u128,
    shares: Dec,
    deducted: Dec,
    vote: Option<Vec<pb::WeightedVoteOption>>,
}

/// Tallies proposal `id` (votes by current bonded stake).
pub async fn tally(
    kv: &mut impl KvRead,
    id: u64,
    expedited: bool,
    params: &GovParams,
) -> Result<Outcome, ExecError> {
    let mut bonded: BTreeMap<Address, Bonded> = BTreeMap::new();
    let mut total_bonded: u128 = 0;
    for (op, _) in staking::bonded_set(kv).await? {
        let Some(v) = staking::get_validator(kv, &op).await? else {
            continue;
        };
        if v.status != Status::Bonded {
            continue;
        }
        total_bonded = total_bonded.saturating_add(v.tokens);
        bonded.insert(
            op,
            Bonded {
                tokens: v.tokens,
                shares: v.shares,
                deducted: Dec::ZERO,
                vote: None,
            },
        );
    }
    let mut tally = Tally::default();
    for voter in state::voters(kv, id).await? {
        let Some(vote) = state::get_vote(kv, id, &voter).await? else {
            continue;
        };
        if let Some(b) = bonded.get_mut(&voter) {
            b.vote = Some(vote.options.clone());
        }
        for op in staking::delegated_to(kv, &voter).await? {
            let Some(b) = bonded.get_mut(&op) else {
                continue;
            };
            let shares = staking::get_shares(kv, &voter, &op).await?;
            b.deducted = b.deducted.checked_add(shares).unwrap_or(b.shares);
            let power = mul_div(shares.atomics(), b.tokens, b.shares.atomics().max(1))?;
            for o in &vote.options {
                tally.add(o.option, weighted(power, &o.weight)?)?;
            }
        }
    }
    for b in bonded.values() {
        let Some(options) = &b.vote else { continue };
        let left = b.shares.checked_sub(b.deducted).unwrap_or(Dec::ZERO);
        let power = mul_div(left.atomics(), b.tokens, b.shares.atomics().max(1))?;
        for o in options {
            tally.add(o.option, weighted(power, &o.weight)?)?;
        }
    }
    let voted = tally.total();
    let fail = |burn: bool| Outcome {
        passes: false,
        burn_deposits: burn,
        tally,
    };
    if total_bonded == 0 {
        return Ok(fail(false));
    }
    let quorum = params.quorum()?;
    if !exceeds(voted, total_bonded, quorum) && !equals(voted, total_bonded, quorum) {
        return Ok(fail(params.burn_vote_quorum));
    }
    if voted == tally.abstain {
        return Ok(fail(false));
    }
    if exceeds(tally.veto, voted, params.veto()?) {
        return Ok(fail(params.burn_vote_veto));
    }
    let threshold = params.yes_threshold(expedited)?;
    Ok(Outcome {
        passes: exceeds(tally.yes, voted - tally.abstain, threshold),
        burn_deposits: false,
        tally,
    })
}

/// `part / whole == fraction`, exactly (quorum is met at equality, as in the SDK).
fn equals(part: u128, whole: u128, fraction: Dec) -> bool {
    U256::from(part) * U256::from(Dec::ONE.atomics())
        == U256::from(fraction.atomics()) * U256::from(whole)
}
