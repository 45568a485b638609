//! `MsgUpdateGroupDescription`: an active member sets the group's public description.

use super::accept_candidacy::MAX_TEXT;
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::{members, state};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::{Address, Event};

/// The message.
pub type Msg = pb::MsgUpdateGroupDescription;

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/caspur.dcert.v1.MsgUpdateGroupDescription";
    type Response = pb::MsgUpdateGroupDescriptionResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.member)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.member)?;
        if self.description.len() > MAX_TEXT {
            return Err(ExecError::invalid_request(format!(
                "the description is limited to {MAX_TEXT} bytes"
            )));
        }
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let member = Address::parse_account(&self.member)?;
        members::require_active(ctx, &member).await?;
        state::set_description(ctx, &self.description)?;
        ctx.emit(Event::new("dcert_group_description").attr("member", self.member.clone()));
        Ok(pb::MsgUpdateGroupDescriptionResponse {})
    }
}
