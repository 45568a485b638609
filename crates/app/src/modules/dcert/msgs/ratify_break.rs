//! `MsgRatifyBreak` (governance only; the ratification proposal a break opens carries it):
//! the break stands until an upgrade reopens its routes.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::breaks;
use crate::modules::gov::require_authority;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::Address;

/// The message.
pub type Msg = pb::MsgRatifyBreak;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.dcert.v1.MsgRatifyBreak";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgRatifyBreakResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.authority)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        require_authority(&self.authority)?;
        if self.break_id == 0 {
            return Err(ExecError::invalid_request("break_id must be positive"));
        }
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        breaks::ratify(ctx, self.break_id).await?;
        Ok(pb::MsgRatifyBreakResponse {})
    }
}
