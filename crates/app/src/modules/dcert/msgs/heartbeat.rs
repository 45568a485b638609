//! `MsgHeartbeat`: an active member says it is alive for this stipend period (`heartbeat`).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::heartbeat;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::Address;

/// The message.
pub type Msg = pb::MsgHeartbeat;

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/caspur.dcert.v1.MsgHeartbeat";
    type Response = pb::MsgHeartbeatResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.member)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.member)?;
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        heartbeat::beat(ctx, &Address::parse_account(&self.member)?).await?;
        Ok(pb::MsgHeartbeatResponse {})
    }
}
