//! `MsgDelegate`: stake tokens with a validator for shares of it.

use super::{positive_amount, require_bond_denom};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::staking::delegation::{self, Source};
use crate::modules::staking::state;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Event};
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgDelegate;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.staking.v1beta1.MsgDelegate";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgDelegateResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.delegator_address)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.delegator_address)?;
        state::parse_valoper(&self.validator_address)?;
        positive_amount(&self.amount)?;
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let params = state::get_params(ctx).await?;
        let delegator = Address::parse_account(&self.delegator_address)?;
        let operator = state::parse_valoper(&self.validator_address)?;
        let amount = positive_amount(&self.amount)?;
        require_bond_denom(&amount, &params.bond_denom)?;
        let mut v = state::require_validator(ctx, &operator).await?;
        let shares =
            delegation::delegate(ctx, &delegator, &mut v, amount.amount, Source::Account).await?;
        ctx.emit(
            Event::new("delegate")
                .attr("validator", self.validator_address.clone())
                .attr("delegator", self.delegator_address.clone())
                .attr("amount", amount.to_string())
                .attr("new_shares", shares.to_string()),
        );
        Ok(pb::MsgDelegateResponse {})
    }
}
