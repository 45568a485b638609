//! `MsgWithdrawDelegatorReward`: pay a delegation's pending rewards.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::distribution::rewards;
use crate::modules::staking::state as staking;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Coin};
use cosmos_sdk_proto::cosmos::distribution::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgWithdrawDelegatorReward;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.distribution.v1beta1.MsgWithdrawDelegatorReward";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgWithdrawDelegatorRewardResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.delegator_address)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.delegator_address)?;
        staking::parse_valoper(&self.validator_address)?;
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let delegator = Address::parse_account(&self.delegator_address)?;
        let op = staking::parse_valoper(&self.validator_address)?;
        if staking::get_shares(ctx, &delegator, &op).await?.is_zero() {
            return Err(ExecError::invalid_request(format!(
                "{} has no delegation to {}",
                self.delegator_address, self.validator_address
            )));
        }
        let amount = rewards::settle(ctx, &delegator, &op).await?;
        let denom = staking::get_params(ctx).await?.bond_denom;
        Ok(pb::MsgWithdrawDelegatorRewardResponse {
            amount: if amount > 0 {
                vec![Coin::new(denom, amount).to_proto()]
            } else {
                Vec::new()
            },
        })
    }
}
