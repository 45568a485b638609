//! `MsgWithdrawValidatorCommission`: pay a validator operator its accumulated commission.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::bank;
use crate::modules::distribution::state;
use crate::modules::staking::delegation::coins;
use crate::modules::staking::state as staking;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Event};
use cosmos_sdk_proto::cosmos::distribution::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgWithdrawValidatorCommission;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.distribution.v1beta1.MsgWithdrawValidatorCommission";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgWithdrawValidatorCommissionResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![staking::parse_valoper(&self.validator_address)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        staking::parse_valoper(&self.validator_address)?;
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let op = staking::parse_valoper(&self.validator_address)?;
        let amount = state::commission(ctx, &op).await?;
        if amount == 0 {
            return Err(ExecError::invalid_request(
                "no validator commission to withdraw",
            ));
        }
        state::set_commission(ctx, &op, 0)?;
        let denom = staking::get_params(ctx).await?.bond_denom;
        let paid = coins(&denom, amount)?;
        bank::state::send_coins(ctx, &state::distribution_address(), &op, &paid).await?;
        ctx.emit(
            Event::new("withdraw_commission")
                .attr("amount", paid.to_string())
                .attr("validator", self.validator_address.clone()),
        );
        Ok(pb::MsgWithdrawValidatorCommissionResponse {
            amount: paid.to_proto(),
        })
    }
}
