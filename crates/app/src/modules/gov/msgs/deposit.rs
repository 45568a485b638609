//! `MsgDeposit`: add to a proposal's deposit; reaching the minimum starts its voting period.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::gov::{deposits, state};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Coins};
use cosmos_sdk_proto::cosmos::gov::v1 as pb;

/// The message.
pub type Msg = pb::MsgDeposit;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.gov.v1.MsgDeposit";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgDepositResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.depositor)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.depositor)?;
        if Coins::from_proto(&self.amount)?.is_empty() {
            return Err(ExecError::invalid_coins("a deposit must not be empty"));
        }
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        state::require_proposal(ctx, self.proposal_id).await?;
        let depositor = Address::parse_account(&self.depositor)?;
        let amount = Coins::from_proto(&self.amount)?;
        deposits::add(ctx, self.proposal_id, &depositor, &amount).await?;
        Ok(pb::MsgDepositResponse {})
    }
}
