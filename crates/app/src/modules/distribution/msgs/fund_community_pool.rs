//! `MsgFundCommunityPool`: anyone adds to the community pool.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::bank;
use crate::modules::distribution::state;
use crate::modules::staking::state as staking;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Coins};
use cosmos_sdk_proto::cosmos::distribution::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgFundCommunityPool;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.distribution.v1beta1.MsgFundCommunityPool";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgFundCommunityPoolResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.depositor)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.depositor)?;
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
        let depositor = Address::parse_account(&self.depositor)?;
        let amount = Coins::from_proto(&self.amount)?;
        let denom = staking::get_params(ctx).await?.bond_denom;
        if amount.as_slice().iter().any(|c| c.denom != denom) {
            return Err(ExecError::invalid_coins(format!(
                "the community pool holds {denom} only"
            )));
        }
        bank::state::send_coins(ctx, &depositor, &state::distribution_address(), &amount).await?;
        let pool = state::community_pool(ctx).await?;
        state::set_community_pool(ctx, pool + amount.amount_of(&denom))?;
        Ok(pb::MsgFundCommunityPoolResponse {})
    }
}
