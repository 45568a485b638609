//! What staking tells other modules, in the same block as it happens: a delegation changed, a
//! validator was slashed, an unbonding matured. Subscribers are called from here (the dCERT
//! election's tallies follow delegations through `delegation_changed`); a subscriber's error
//! fails the staking operation that triggered it.

use crate::context::Ctx;
use caspur_store::StateRead;
use caspur_types::{Address, TxError};

/// `delegator`'s delegation to `operator` changed (created, grown, shrunk or removed).
pub async fn delegation_changed<B: StateRead>(
    _ctx: &mut Ctx<'_, B>,
    _delegator: &Address,
    _operator: &Address,
) -> Result<(), TxError> {
    Ok(())
}

/// An unbonding of `delegator` from `operator` paid out `amount`.
pub async fn unbonding_matured<B: StateRead>(
    _ctx: &mut Ctx<'_, B>,
    _delegator: &Address,
    _operator: &Address,
    _amount: u128,
) -> Result<(), TxError> {
    Ok(())
}
