//! Allocating each block's fees and inflation, and paying rewards: the community pool takes
//! `community_tax`, the bonded validators share the rest by power, each keeps its commission
//! and its delegators share the remainder by shares.

use super::state::{self, distribution_address};
use crate::ante::fee_collector;
use crate::context::{Ctx, KvRead};
use crate::error::ExecError;
use crate::modules::bank;
use crate::modules::staking::delegation::{coins, mul_div};
use crate::modules::staking::state as staking;
use caspur_store::StateRead;
use caspur_types::{Address, Dec, Event};

/// Accumulator scale: ucsp per share (whose atomics are ×10¹⁸), ×10³⁶.
const SCALE: u128 = 1_000_000_000_000_000_000_000_000_000_000_000_000;
/// A year, for inflation.
const YEAR_MS: u128 = 365 * 24 * 3600 * 1000;

/// End of block: mints the inflation since `since_ms`, collects the block's fees, and
/// allocates both.
pub async fn allocate<B: StateRead>(ctx: &mut Ctx<'_, B>, since_ms: u64) -> Result<(), ExecError> {
    let params = state::get_params(ctx).await?;
    let denom = staking::get_params(ctx).await?.bond_denom;
    let me = distribution_address();
    let rate = params.inflation()?;
    let elapsed = ctx.block.time_ms.saturating_sub(since_ms) as u128;
    let mut total = 0u128;
    if !rate.is_zero() && elapsed > 0 {
        let supply = bank::state::get_supply(ctx, &denom).await?;
        let yearly = mul_div(supply, rate.atomics(), Dec::ONE.atomics())?;
        let minted = mul_div(yearly, elapsed, YEAR_MS)?;
        if minted > 0 {
            bank::state::mint_coins(ctx, &me, &coins(&denom, minted)?).await?;
            total += minted;
        }
    }
    let fees = bank::state::get_balance(ctx, &fee_collector(), &denom).await?;
    if fees > 0 {
        bank::state::send_coins(ctx, &fee_collector(), &me, &coins(&denom, fees)?).await?;
        total += fees;
    }
    if total == 0 {
        return Ok(());
    }
    let tax = mul_div(total, params.tax()?.atomics(), Dec::ONE.atomics())?;
    let to_stakers = total - tax;
    let bonded = staking::bonded_set(ctx).await?;
    let total_power: u128 = bonded.iter().map(|(_, p)| *p as u128).sum();
    let mut handed_out = 0u128;
    if total_power > 0 {
        for (op, power) in &bonded {
            let Some(v) = staking::get_validator(ctx, op).await? else {
                continue;
            };
            let share = mul_div(to_stakers, *power as u128, total_power)?;
            let commission = mul_div(share, v.commission[0].atomics(), Dec::ONE.atomics())?;
            let portion = share - commission;
            if v.shares.is_zero() {
                continue;
            }
            let kept = state::commission(ctx, op).await?;
            state::set_commission(ctx, op, kept + commission)?;
            let acc = state::accumulator(ctx, op).await?;
            let grown = acc
                .checked_add(mul_div(portion, SCALE, v.shares.atomics())?)
                .ok_or_else(|| ExecError::logic("reward accumulator overflow"))?;
            state::set_accumulator(ctx, op, grown)?;
            handed_out += share;
        }
    }
    let pool = state::community_pool(ctx).await?;
    state::set_community_pool(ctx, pool + tax + (to_stakers - handed_out))?;
    Ok(())
}

/// The rewards `delegator`'s delegation to `op` has earned since it was last paid.
pub async fn pending(
    kv: &mut impl KvRead,
    delegator: &Address,
    op: &Address,
) -> Result<u128, ExecError> {
    let shares = staking::get_shares(kv, delegator, op).await?;
    if shares.is_zero() {
        return Ok(0);
    }
    let acc = state::accumulator(kv, op).await?;
    let paid = state::paid_at(kv, delegator, op).await?;
    mul_div(shares.atomics(), acc.saturating_sub(paid), SCALE)
}

/// Pays `delegator` its pending rewards from `op` and marks the delegation paid up to now.
/// Staking calls this before a delegation's shares change, so shares always earn from the
/// moment they exist.
pub async fn settle<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    delegator: &Address,
    op: &Address,
) -> Result<u128, ExecError> {
    let amount = pending(ctx, delegator, op).await?;
    let acc = state::accumulator(ctx, op).await?;
    state::set_paid_at(ctx, delegator, op, acc)?;
    if amount > 0 {
        let denom = staking::get_params(ctx).await?.bond_denom;
        let paid = coins(&denom, amount)?;
        bank::state::send_coins(ctx, &distribution_address(), delegator, &paid).await?;
        ctx.emit(
            Event::new("withdraw_rewards")
                .attr("amount", paid.to_string())
                .attr("validator", staking::valoper(op))
                .attr("delegator", delegator.to_string()),
        );
    }
    Ok(amount)
}

/// Forgets a delegation's payment mark once it has no shares left.
pub async fn forget_if_gone<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    delegator: &Address,
    op: &Address,
) -> Result<(), ExecError> {
    if staking::get_shares(ctx, delegator, op).await?.is_zero() {
        state::set_paid_at(ctx, delegator, op, 0)?;
    }
    Ok(())
}

/// Pays `amount` from the community pool to `to`; fails when the pool holds less. This is the
/// only way out of the pool, and it never mints.
pub async fn pay_from_community_pool<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    to: &Address,
    amount: u128,
) -> Result<(), ExecError> {
    let pool = state::community_pool(ctx).await?;
    let left = pool.checked_sub(amount).ok_or_else(|| {
        ExecError::insufficient_funds(format!(
            "the community pool holds {pool}, less than {amount}"
        ))
    })?;
    state::set_community_pool(ctx, left)?;
    let denom = staking::get_params(ctx).await?.bond_denom;
    bank::state::send_coins(ctx, &distribution_address(), to, &coins(&denom, amount)?).await
}
