//! `MsgUpdateParams` of `staking` (only through a passed governance proposal). A smaller
//! `max_validators` takes effect at the end of the block.

use crate::context::Ctx;
use crate::modules::staking::params::StakingParams;
use crate::modules::staking::state;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Dec, TxError};
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgUpdateParams;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.staking.v1beta1.MsgUpdateParams";

fn params_of(msg: &Msg) -> Result<StakingParams, TxError> {
    let p = msg
        .params
        .as_ref()
        .ok_or_else(|| TxError::invalid_request("params are required"))?;
    let unbonding = p
        .unbonding_time
        .as_ref()
        .and_then(|d| u64::try_from(d.seconds).ok())
        .ok_or_else(|| TxError::invalid_request("unbonding_time is required"))?;
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

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgUpdateParamsResponse;

    fn signers(&self) -> Result<Vec<Address>, TxError> {
        Ok(vec![Address::parse_account(&self.authority)?])
    }

    fn check_stateless(&self) -> Result<(), TxError> {
        crate::modules::gov::require_authority(&self.authority)?;
        params_of(self).map(|_| ())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, TxError> {
        let params = params_of(self)?;
        let current = state::get_params(ctx).await?;
        if params.bond_denom != current.bond_denom {
            return Err(TxError::invalid_request(
                "bond_denom cannot change on a live chain",
            ));
        }
        state::set_params(ctx, &params)?;
        state::mark_changed(ctx)?;
        Ok(pb::MsgUpdateParamsResponse {})
    }
}
