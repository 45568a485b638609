//! What staking tells other modules, in the same block as it happens: a delegation is about
//! to change (distribution pays its rewards first), a delegation changed (the dCERT election's
//! tallies follow bonded stake through it), an unbonding matured. A subscriber's error fails
//! the staking operation that triggered it.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::{dcert, distribution};
use caspur_store::StateRead;
use caspur_types::Address;

/// `delegator`'s delegation to `operator` is about to change: rewards earned by the old shares
/// are paid out.
pub async fn before_delegation_changed<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    delegator: &Address,
    operator: &Address,
) -> Result<(), ExecError> {
    distribution::rewards::settle(ctx, delegator, operator).await?;
    Ok(())
}

/// `delegator`'s delegation to `operator` changed (created, grown, shrunk or removed).
pub async fn delegation_changed<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    delegator: &Address,
    operator: &Address,
) -> Result<(), ExecError> {
    distribution::rewards::forget_if_gone(ctx, delegator, operator).await?;
    dcert::election::stake_changed(ctx, delegator).await
}

/// `operator` was slashed by `fraction` (its delegations are worth that much less).
pub async fn validator_slashed<B: StateRead>(
    _ctx: &mut Ctx<'_, B>,
    _operator: &Address,
    _fraction: caspur_types::Dec,
) -> Result<(), ExecError> {
    Ok(())
}

/// An unbonding of `delegator` from `operator` paid out `amount`.
pub async fn unbonding_matured<B: StateRead>(
    _ctx: &mut Ctx<'_, B>,
    _delegator: &Address,
    _operator: &Address,
    _amount: u128,
) -> Result<(), ExecError> {
    Ok(())
}
