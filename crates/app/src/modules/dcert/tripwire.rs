//! Tripwires (docs/dcert.md, "Tripwires"): invariants governance registers, each bound to a
//! narrow set of exact routes. At the end of every block each is checked against the block
//! just executed; one that trips fires ([`super::tripwire_break::fire`]): its routes break for
//! `tripwire_blocks`, an incident opens with the evidence, and the dCERT confirms or releases
//! the break. While its break stands a tripwire does not fire again.
//!
//! The checks read state and the block's own tx results, never the wall clock; amounts are
//! integers and fractions fixed-point ([`Dec`]).

use super::tripwire_state::{self as store, threshold};
use super::{break_state, tripwire_break, DcertParams};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::{bank, staking};
use crate::results::TxResult;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1::{self as pb, TripwireKind};
use caspur_types::{Coins, Dec};
use std::collections::BTreeMap;

/// End of block: checks every registered tripwire against the block just executed (`since_ms`
/// is the previous block's time, `results` the block's tx results) and fires those that trip.
pub async fn end_block<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    params: &DcertParams,
    since_ms: u64,
    results: &[TxResult],
) -> Result<(), ExecError> {
    let mut tripwires = store::all(ctx).await?;
    let mut fired = false;
    for t in &mut tripwires {
        let Some(evidence) = check(ctx, t, since_ms, results).await? else {
            continue;
        };
        // Checked (its samples taken) from the block that registered it; fired from the next.
        if t.registered_height >= ctx.block.height || standing(ctx, t.break_id).await? {
            continue;
        }
        fired |= tripwire_break::fire(ctx, params, t, &evidence).await?;
    }
    if fired {
        store::set_all(ctx, tripwires)?;
    }
    Ok(())
}

async fn standing<B: StateRead>(ctx: &mut Ctx<'_, B>, break_id: u64) -> Result<bool, ExecError> {
    if break_id == 0 {
        return Ok(false);
    }
    Ok(break_state::get(ctx, break_id)
        .await?
        .is_some_and(|r| r.standing))
}

/// The evidence of `t` tripping in this block, if it did.
async fn check<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    t: &pb::Tripwire,
    since_ms: u64,
    results: &[TxResult],
) -> Result<Option<String>, ExecError> {
    match TripwireKind::try_from(t.kind).unwrap_or(TripwireKind::Unspecified) {
        TripwireKind::SupplyChange => supply_change(ctx, t).await,
        TripwireKind::BondedRatioDrop => bonded_ratio_drop(ctx, t).await,
        TripwireKind::BlockInterval => Ok(block_interval(ctx, t, since_ms)),
        TripwireKind::AccountOutflow => account_outflow(ctx, t, results).await,
        // Registration refuses it; a stored one (a corrupt record) never trips.
        TripwireKind::Unspecified => Ok(None),
    }
}

/// The supply of `t.denom` against the one at the end of the previous block.
async fn supply_change<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    t: &pb::Tripwire,
) -> Result<Option<String>, ExecError> {
    let now = bank::state::get_supply(ctx, &t.denom).await?;
    let before = store::samples(ctx, t.id).await?;
    if before.as_slice() != now.to_be_bytes() {
        store::set_samples(ctx, t.id, now.to_be_bytes().to_vec())?;
    }
    // The first block after registration has nothing to compare with.
    let Ok(before) = <[u8; 16]>::try_from(before.as_slice()).map(u128::from_be_bytes) else {
        return Ok(None);
    };
    let limit = limit_of(t, before);
    let change = now.abs_diff(before);
    if before == 0 || change <= limit {
        return Ok(None);
    }
    Ok(Some(format!(
        "the supply of {} went from {before} to {now} in block {}: a change of {change}, more \
         than {} of it",
        t.denom, ctx.block.height, t.threshold
    )))
}

/// `t`'s threshold of `amount` (`u128::MAX`, never exceeded, for a threshold that does not
/// read back: registration refuses one, and the end of a block must not stop on it).
fn limit_of(t: &pb::Tripwire, amount: u128) -> u128 {
    threshold(t)
        .ok()
        .and_then(|max| max.mul_int_floor(amount))
        .unwrap_or(u128::MAX)
}

/// Bonded-ratio samples: (height, ratio) with ratios falling from the window's highest, the
/// window's maximum first (a monotonic queue: at most one entry per block of the window).
const SAMPLE_BYTES: usize = 24;

fn decode_samples(bytes: &[u8]) -> Vec<(u64, Dec)> {
    bytes
        .chunks_exact(SAMPLE_BYTES)
        .map(|c| {
            let (h, r) = c.split_at(8);
            let h = u64::from_be_bytes(h.try_into().unwrap_or_default());
            let r = u128::from_be_bytes(r.try_into().unwrap_or_default());
            (h, Dec::from_atomics(r))
        })
        .collect()
}

fn encode_samples(samples: &[(u64, Dec)]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|(h, r)| h.to_be_bytes().into_iter().chain(r.atomics().to_be_bytes()))
        .collect()
}

/// The bonded ratio against its highest value within the last `t.window_blocks` blocks; a
/// drop that trips starts the window afresh (the next firing needs a new drop).
async fn bonded_ratio_drop<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    t: &pb::Tripwire,
) -> Result<Option<String>, ExecError> {
    let denom = staking::state::get_params(ctx).await?.bond_denom;
    let bonded = bank::state::get_balance(ctx, &staking::delegation::bonded_pool(), &denom).await?;
    let supply = bank::state::get_supply(ctx, &denom).await?;
    let ratio = Dec::ratio(bonded, supply).unwrap_or(Dec::ZERO);
    let height = ctx.block.height;
    let mut samples = decode_samples(&store::samples(ctx, t.id).await?);
    samples.retain(|(h, _)| h.saturating_add(t.window_blocks) > height);
    while samples.last().is_some_and(|(_, r)| *r <= ratio) {
        samples.pop();
    }
    samples.push((height, ratio));
    let (since, highest) = samples.first().copied().unwrap_or((height, ratio));
    let drop = if highest > ratio {
        Dec::ratio(highest.atomics() - ratio.atomics(), highest.atomics()).unwrap_or(Dec::ONE)
    } else {
        Dec::ZERO
    };
    // A threshold registration accepted always reads back; one that did not never trips.
    let tripped = threshold(t).is_ok_and(|max| drop > max);
    if tripped {
        samples = vec![(height, ratio)];
    }
    store::set_samples(ctx, t.id, encode_samples(&samples))?;
    Ok(tripped.then(|| {
        format!(
            "the bonded ratio fell from {highest} (height {since}) to {ratio} at height \
             {height}: a drop of {drop} of it within {} blocks, more than {}",
            t.window_blocks, t.threshold
        )
    }))
}

/// The block time since the previous block.
fn block_interval<B: StateRead>(
    ctx: &Ctx<'_, B>,
    t: &pb::Tripwire,
    since_ms: u64,
) -> Option<String> {
    let gap = ctx.block.time_ms.saturating_sub(since_ms);
    (gap > t.max_interval_secs.saturating_mul(1000)).then(|| {
        format!(
            "{}.{:03} s of block time passed between blocks {} and {}, more than {} s",
            gap / 1000,
            gap % 1000,
            ctx.block.height.saturating_sub(1),
            ctx.block.height,
            t.max_interval_secs
        )
    })
}

/// The account that spent the most of `t.denom` in the block's txs (their `coin_spent`
/// events), against the supply.
async fn account_outflow<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    t: &pb::Tripwire,
    results: &[TxResult],
) -> Result<Option<String>, ExecError> {
    let Some((account, spent)) = largest_spender(results, &t.denom) else {
        return Ok(None);
    };
    let supply = bank::state::get_supply(ctx, &t.denom).await?;
    let limit = limit_of(t, supply);
    if spent <= limit {
        return Ok(None);
    }
    Ok(Some(format!(
        "account {account} spent {spent}{} in block {}, more than {} of the supply of {supply}",
        t.denom, ctx.block.height, t.threshold
    )))
}

/// Sums each spender's `coin_spent` of `denom` over `results`; returns the largest (the
/// first in address order on a tie).
fn largest_spender(results: &[TxResult], denom: &str) -> Option<(String, u128)> {
    let mut spent: BTreeMap<&str, u128> = BTreeMap::new();
    for event in results.iter().flat_map(|r| &r.events) {
        if event.kind != "coin_spent" {
            continue;
        }
        let attr = |k: &str| event.attributes.iter().find(|a| a.key == k);
        let (Some(spender), Some(amount)) = (attr("spender"), attr("amount")) else {
            continue;
        };
        // Our own bank module wrote it; a value that does not parse counts as nothing.
        let amount = amount
            .value
            .parse::<Coins>()
            .map_or(0, |c| c.amount_of(denom));
        let total = spent.entry(spender.value.as_str()).or_default();
        *total = total.saturating_add(amount);
    }
    let mut best: Option<(&str, u128)> = None;
    for (account, amount) in spent {
        if best.is_none_or(|(_, b)| amount > b) {
            best = Some((account, amount));
        }
    }
    best.filter(|(_, a)| *a > 0)
        .map(|(account, amount)| (account.to_string(), amount))
}
