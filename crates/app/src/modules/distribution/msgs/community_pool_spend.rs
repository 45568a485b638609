//! `MsgCommunityPoolSpend`: governance pays from the community pool (never more than it holds).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::distribution::rewards;
use crate::modules::staking::state as staking;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Coins};
use cosmos_sdk_proto::cosmos::distribution::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgCommunityPoolSpend;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.distribution.v1beta1.MsgCommunityPoolSpend";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgCommunityPoolSpendResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.authority)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        crate::modules::gov::require_authority(&self.authority)?;
        Address::parse_account(&self.recipient)?;
        if Coins::from_proto(&self.amount)?.is_empty() {
            return Err(ExecError::invalid_coins("the amount must not be empty"));
        }
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let recipient = Address::parse_account(&self.recipient)?;
        let amount = Coins::from_proto(&self.amount)?;
        let denom = staking::get_params(ctx).await?.bond_denom;
        if amount.as_slice().iter().any(|c| c.denom != denom) {
            return Err(ExecError::invalid_coins(format!(
                "the community pool holds {denom} only"
            )));
        }
        rewards::pay_from_community_pool(ctx, &recipient, amount.amount_of(&denom)).await?;
        Ok(pb::MsgCommunityPoolSpendResponse {})
    }
}
