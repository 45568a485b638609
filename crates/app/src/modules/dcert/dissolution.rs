//! Dissolution (SPEC §2.6) as governance sees it: a proposal carrying `MsgDissolveDcert` must
//! be submitted with at least `dissolution_deposit`; from submission until it is decided the
//! group cannot circuit-break; if it does not pass, its proposer's deposit is burned.

use super::state;
use crate::context::Ctx;
use crate::error::ExecError;
use caspur_store::StateRead;
use caspur_types::Coins;
use cosmos_sdk_proto::Any;

/// The dissolution message's type URL.
pub const DISSOLVE_TYPE_URL: &str = "/caspur.dcert.v1.MsgDissolveDcert";

/// Whether a proposal's messages include a dissolution.
pub fn is_dissolution(messages: &[Any]) -> bool {
    messages.iter().any(|m| m.type_url == DISSOLVE_TYPE_URL)
}

/// Gov hook at submission: a dissolution proposal needs `dissolution_deposit` up front, and
/// from now on the group's circuit-breaking power is suspended.
pub async fn proposal_submitted<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    messages: &[Any],
    initial_deposit: &Coins,
) -> Result<(), ExecError> {
    if !is_dissolution(messages) {
        return Ok(());
    }
    let needed = state::get_params(ctx).await?.dissolution_deposit_amount()?;
    let denom = crate::modules::staking::state::get_params(ctx)
        .await?
        .bond_denom;
    let offered = initial_deposit.amount_of(&denom);
    if offered < needed {
        return Err(ExecError::insufficient_funds(format!(
            "a dCERT dissolution proposal must be submitted with at least {needed}{denom} (offered {offered}{denom})"
        )));
    }
    let pending = state::pending_dissolutions(ctx).await?;
    state::set_pending_dissolutions(ctx, pending + 1)
}

/// Gov hook when a proposal leaves the deposit or voting period for good (passed, rejected,
/// failed or dropped); returns whether it was a dissolution.
pub async fn proposal_closed<B: StateRead>(
    ctx: &mut Ctx<'_, B>,
    messages: &[Any],
) -> Result<bool, ExecError> {
    if !is_dissolution(messages) {
        return Ok(false);
    }
    let pending = state::pending_dissolutions(ctx).await?;
    state::set_pending_dissolutions(ctx, pending.saturating_sub(1))?;
    Ok(true)
}
