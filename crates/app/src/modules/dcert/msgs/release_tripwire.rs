//! `MsgReleaseTripwire`: an active member releases a fired tripwire's break; its routes reopen
//! (`dcert::tripwire_break`). Unbreakable: a break never stops the way out of it.

use super::confirm_tripwire::check_answer;
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::{members, tripwire_break};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::Address;

/// The message.
pub type Msg = pb::MsgReleaseTripwire;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.dcert.v1.MsgReleaseTripwire";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgReleaseTripwireResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.member)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        check_answer(&self.member, self.break_id, &self.reason)
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        members::require_active(ctx, &Address::parse_account(&self.member)?).await?;
        tripwire_break::release(ctx, &self.member, self.break_id, &self.reason).await?;
        Ok(pb::MsgReleaseTripwireResponse {})
    }
}
