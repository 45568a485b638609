//! `MsgUpdateParams` of `staking` (only through a passed governance proposal). A smaller
//! `max_validators` takes effect at the end of the block.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::staking::params::StakingParams;
use crate::modules::staking::state;
use caspur_store::StateRead;
use caspur_types::Dec;
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgUpdateParams;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.staking.v1beta1.MsgUpdateParams";

fn params_of(msg: &Msg) -> Result<StakingParams, ExecError> {
    let p = msg
        .params
        .as_ref()
        .ok_or_else(|| ExecError::invalid_request("params are required"))?;
    let unbonding = p
        .unbonding_time
        .as_ref()
        .and_then(|d| u64::try_from(d.seconds).ok())
        .ok_or_else(|| ExecError::invalid_request("unbonding_time is required"))?;
    let params = StakingParams {
        unbonding_time_secs: unbonding,
        max_validators: p.max_validators,
        max_entries: p.max_entries,
        bond_denom: p.bond_denom.clone(),
        min_commission_rate: Dec::parse_atomics(&p.min_commission_rate)?.to_string(),
    };
    params.validate()?;
    Ok(params)
}

crate::modules::gov::governed_params!(
    Msg,
    pb::MsgUpdateParamsResponse,
    check = params_of,
    apply = apply
);

async fn apply<B: StateRead>(msg: &Msg, ctx: &mut Ctx<'_, B>) -> Result<(), ExecError> {
    let params = params_of(msg)?;
    let current = state::get_params(ctx).await?;
    if params.bond_denom != current.bond_denom {
        return Err(ExecError::invalid_request(
            "bond_denom cannot change on a live chain",
        ));
    }
    state::set_params(ctx, &params)?;
    state::mark_changed(ctx)
}
