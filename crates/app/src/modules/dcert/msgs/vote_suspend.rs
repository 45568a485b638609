//! `MsgVoteSuspend`: an active member votes to suspend another (see `members::vote_suspend`).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::members;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::Address;

/// The message.
pub type Msg = pb::MsgVoteSuspend;

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/caspur.dcert.v1.MsgVoteSuspend";
    type Response = pb::MsgVoteSuspendResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.member)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.member)?;
        Address::parse_account(&self.target)?;
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let member = Address::parse_account(&self.member)?;
        let target = Address::parse_account(&self.target)?;
        let suspended = members::vote_suspend(ctx, &member, &target).await?;
        Ok(pb::MsgVoteSuspendResponse { suspended })
    }
}
