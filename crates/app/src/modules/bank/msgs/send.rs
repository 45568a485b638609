//! `MsgSend`: move coins from one account to another.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::bank::state;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Coins};

/// The message.
pub type Msg = cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.bank.v1beta1.MsgSend";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSendResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.from_address)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.from_address)?;
        Address::parse_account(&self.to_address)?;
        if Coins::from_proto(&self.amount)?.is_empty() {
            return Err(ExecError::invalid_coins("send amount must not be empty"));
        }
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        state::require_send_enabled(ctx).await?;
        let from = Address::parse_account(&self.from_address)?;
        let to = Address::parse_account(&self.to_address)?;
        let coins = Coins::from_proto(&self.amount)?;
        state::send_coins(ctx, &from, &to, &coins).await?;
        Ok(cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSendResponse {})
    }
}
