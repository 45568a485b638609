//! Slashing a validator for an infraction committed at `infraction_height`: the fraction is
//! taken from its tokens (so from every delegation, by shares), from unbonding entries that
//! left it after the infraction, and from delegations redelegated away from it after the
//! infraction (at their destination). The slashed tokens are burned.

use super::delegation::{self, coins, mul_div, pool_of};
use super::hooks;
use super::state::{self, Status};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::bank;
use caspur_store::StateRead;
use caspur_types::{Address, Dec, Event};

fn part(amount: u128, fraction: Dec) -> Result<u128, ExecError> {
    mul_div(amount, fraction.atomics(), Dec::ONE.atomics())
}

/// Slashes `fraction` of `op`'s stake for an infraction at `infraction_height`; returns the
/// tokens burned.
pub async fn slash<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    op: &Address,
    infraction_height: u64,
    fraction: Dec,
    reason: &str,
) -> Result<u128, ExecError> {
    if fraction.is_zero() || fraction > Dec::ONE {
        return Err(ExecError::invalid_request(
            "slash fraction must be in (0, 1]",
        ));
    }
    let now = ctx.block.time_ms;
    let denom = state::get_params(ctx).await?.bond_denom;
    let reaches = |created: u64, completes: u64| created >= infraction_height && completes > now;

    let mut from_unbondings = 0u128;
    for delegator in state::unbonding_delegators(ctx, op).await? {
        let mut entries = state::get_unbonding(ctx, &delegator, op).await?;
        let mut cut_any = false;
        for e in entries
            .iter_mut()
            .filter(|e| reaches(e.creation_height, e.completion_ms))
        {
            let cut = part(e.initial_balance, fraction)?.min(e.balance);
            e.balance -= cut;
            from_unbondings += cut;
            cut_any |= cut > 0;
        }
        if cut_any {
            state::set_unbonding(ctx, &delegator, op, &entries).await?;
        }
    }
    if from_unbondings > 0 {
        let pool = pool_of(Status::Unbonded);
        bank::state::burn_coins(ctx, &pool, &coins(&denom, from_unbondings)?).await?;
    }

    let mut from_redelegations = 0u128;
    for (delegator, dst) in state::redelegations_from(ctx, op).await? {
        for e in state::get_redelegation(ctx, &delegator, op, &dst).await? {
            if !reaches(e.creation_height, e.completion_ms) {
                continue;
            }
            let held = state::get_shares(ctx, &delegator, &dst).await?;
            let cut = Dec::from_atomics(part(e.shares_dst.atomics(), fraction)?).min(held);
            let Some(mut dst_v) = state::get_validator(ctx, &dst).await? else {
                continue;
            };
            if cut.is_zero() {
                continue;
            }
            let status = dst_v.status;
            let tokens = delegation::unbond(ctx, &delegator, &mut dst_v, cut).await?;
            if tokens > 0 {
                bank::state::burn_coins(ctx, &pool_of(status), &coins(&denom, tokens)?).await?;
                from_redelegations += tokens;
            }
        }
    }

    let mut v = state::require_validator(ctx, op).await?;
    let from_validator = part(v.tokens, fraction)?;
    if from_validator > 0 {
        v.tokens -= from_validator;
        state::set_validator(ctx, &v)?;
        bank::state::burn_coins(ctx, &pool_of(v.status), &coins(&denom, from_validator)?).await?;
    }
    let burned = from_unbondings + from_redelegations + from_validator;
    ctx.emit(
        Event::new("slash")
            .attr("address", state::valoper(op))
            .attr("reason", reason)
            .attr("burned_coins", format!("{burned}{denom}")),
    );
    hooks::validator_slashed(ctx, op, fraction).await?;
    Ok(burned)
}

/// Jails `op`: it leaves the bonded set at the end of the block.
pub async fn jail<B: StateRead>(ctx: &mut Ctx<'_, B>, op: &Address) -> Result<(), ExecError> {
    let mut v = state::require_validator(ctx, op).await?;
    if !v.jailed {
        v.jailed = true;
        state::set_validator(ctx, &v)?;
        ctx.emit(Event::new("jail").attr("validator", state::valoper(op)));
    }
    Ok(())
}
