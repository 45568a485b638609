//! End of block: the bonded set (the `max_validators` unjailed validators with the most
//! power) and the unbondings, redelegations and validator unbondings that matured.

use super::delegation::{self, pool_of};
use super::hooks;
use super::state::{self, Status, REDELEGATION_QUEUE, UNBONDING_QUEUE, VALIDATOR_QUEUE};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::bank;
use crate::validators::Validator as SetMember;
use caspur_store::StateRead;
use caspur_types::{Address, Event};

/// Runs staking's end of block; returns the consensus set for the next epoch when the bonded
/// set changed (membership or power). `since_ms` is the previous block's time.
pub async fn end_block<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    since_ms: u64,
) -> Result<Option<Vec<SetMember>>, ExecError> {
    let set = if state::take_changed(ctx).await? {
        update_bonded_set(ctx).await?
    } else {
        None
    };
    mature_validators(ctx, since_ms).await?;
    mature_unbondings(ctx, since_ms).await?;
    mature_redelegations(ctx, since_ms).await?;
    Ok(set)
}

/// Recomputes the bonded set; validators entering it move their tokens to the bonded pool,
/// validators leaving it start unbonding.
pub async fn update_bonded_set<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
) -> Result<Option<Vec<SetMember>>, ExecError> {
    let params = state::get_params(ctx).await?;
    let mut ranked = Vec::new();
    for op in state::operators(ctx).await? {
        let v = state::require_validator(ctx, &op).await?;
        if !v.jailed && v.power() > 0 {
            ranked.push(v);
        }
    }
    // Most power first; among equals the smaller operator address (deterministic).
    ranked.sort_by(|a, b| b.power().cmp(&a.power()).then(a.operator.cmp(&b.operator)));
    ranked.truncate(params.max_validators as usize);
    let old = state::bonded_set(ctx).await?;
    let now = ctx.block.time_ms;
    for v in &mut ranked {
        if v.status != Status::Bonded {
            if v.status == Status::Unbonding {
                VALIDATOR_QUEUE
                    .remove(ctx, v.unbonding_time_ms, &v.operator.0)
                    .await?;
            }
            delegation::move_between_pools(ctx, v.status, Status::Bonded, v.tokens).await?;
            v.status = Status::Bonded;
            state::store_validator(ctx, v)?;
        }
    }
    let mut new: Vec<(Address, u64)> = ranked.iter().map(|v| (v.operator, v.power())).collect();
    new.sort();
    for (op, _) in &old {
        if new.binary_search_by(|(o, _)| o.cmp(op)).is_ok() {
            continue;
        }
        let Some(mut v) = state::get_validator(ctx, op).await? else {
            continue;
        };
        if v.status == Status::Bonded {
            delegation::move_between_pools(ctx, Status::Bonded, Status::Unbonding, v.tokens)
                .await?;
            v.status = Status::Unbonding;
            v.unbonding_height = ctx.block.height;
            v.unbonding_time_ms = now.saturating_add(params.unbonding_time_ms());
            VALIDATOR_QUEUE
                .push(ctx, now, v.unbonding_time_ms, op.0.to_vec())
                .await?;
            state::store_validator(ctx, &v)?;
        }
    }
    if new == old {
        return Ok(None);
    }
    state::set_bonded_set(ctx, &new)?;
    if ranked.is_empty() {
        // An empty set would halt the chain: consensus keeps the set it has.
        return Ok(None);
    }
    Ok(Some(
        ranked
            .iter()
            .map(|v| SetMember {
                pub_key: v.consensus_key,
                power: v.power(),
            })
            .collect(),
    ))
}

async fn mature_validators<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    since_ms: u64,
) -> Result<(), ExecError> {
    let now = ctx.block.time_ms;
    for due in VALIDATOR_QUEUE.pop_due(ctx, since_ms, now).await? {
        let [op] = state::payload_addresses(&due.payload)?[..] else {
            return Err(ExecError::logic("corrupt validator queue entry"));
        };
        let Some(mut v) = state::get_validator(ctx, &op).await? else {
            continue;
        };
        if v.status != Status::Unbonding || v.unbonding_time_ms > now {
            continue;
        }
        v.status = Status::Unbonded;
        if v.shares.is_zero() {
            state::remove_validator(ctx, &v).await?;
        } else {
            state::store_validator(ctx, &v)?;
        }
        ctx.emit(Event::new("complete_unbonding_validator").attr("validator", state::valoper(&op)));
    }
    Ok(())
}

async fn mature_unbondings<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    since_ms: u64,
) -> Result<(), ExecError> {
    let now = ctx.block.time_ms;
    let denom = state::get_params(ctx).await?.bond_denom;
    for due in UNBONDING_QUEUE.pop_due(ctx, since_ms, now).await? {
        let [delegator, op] = state::payload_addresses(&due.payload)?[..] else {
            return Err(ExecError::logic("corrupt unbonding queue entry"));
        };
        let entries = state::get_unbonding(ctx, &delegator, &op).await?;
        let (matured, pending): (Vec<_>, Vec<_>) =
            entries.into_iter().partition(|e| e.completion_ms <= now);
        if matured.is_empty() {
            continue;
        }
        state::set_unbonding(ctx, &delegator, &op, &pending).await?;
        let amount: u128 = matured.iter().map(|e| e.balance).sum();
        if amount > 0 {
            let coins = delegation::coins(&denom, amount)?;
            bank::state::send_coins(ctx, &pool_of(Status::Unbonded), &delegator, &coins).await?;
        }
        ctx.emit(
            Event::new("complete_unbonding")
                .attr("amount", format!("{amount}{denom}"))
                .attr("validator", state::valoper(&op))
                .attr("delegator", delegator.to_string()),
        );
        hooks::unbonding_matured(ctx, &delegator, &op, amount).await?;
    }
    Ok(())
}

async fn mature_redelegations<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    since_ms: u64,
) -> Result<(), ExecError> {
    let now = ctx.block.time_ms;
    for due in REDELEGATION_QUEUE.pop_due(ctx, since_ms, now).await? {
        let [delegator, src, dst] = state::payload_addresses(&due.payload)?[..] else {
            return Err(ExecError::logic("corrupt redelegation queue entry"));
        };
        let entries = state::get_redelegation(ctx, &delegator, &src, &dst).await?;
        let before = entries.len();
        let pending: Vec<_> = entries
            .into_iter()
            .filter(|e| e.completion_ms > now)
            .collect();
        let matured = before - pending.len();
        if matured == 0 {
            continue;
        }
        state::set_redelegation(ctx, &delegator, &src, &dst, &pending).await?;
        state::add_incoming_redelegations(ctx, &delegator, &dst, -(matured as i64)).await?;
        ctx.emit(
            Event::new("complete_redelegation")
                .attr("source_validator", state::valoper(&src))
                .attr("destination_validator", state::valoper(&dst))
                .attr("delegator", delegator.to_string()),
        );
    }
    Ok(())
}
