//! `MsgRevoke`: the granter withdraws a grant.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::authz::state;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Event};
use cosmos_sdk_proto::cosmos::authz::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgRevoke;

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = "/cosmos.authz.v1beta1.MsgRevoke";
    type Response = pb::MsgRevokeResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.granter)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.granter)?;
        Address::parse_account(&self.grantee)?;
        if self.msg_type_url.is_empty() {
            return Err(ExecError::invalid_request("msg_type_url is required"));
        }
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let granter = Address::parse_account(&self.granter)?;
        let grantee = Address::parse_account(&self.grantee)?;
        if state::grant(ctx, &granter, &grantee, &self.msg_type_url)
            .await?
            .is_none()
        {
            return Err(ExecError::key_not_found(format!(
                "no grant from {granter} to {grantee} for {}",
                self.msg_type_url
            )));
        }
        state::delete_grant(ctx, &granter, &grantee, &self.msg_type_url)?;
        ctx.emit(
            Event::new("cosmos.authz.v1beta1.EventRevoke")
                .attr("msg_type_url", self.msg_type_url.clone())
                .attr("granter", self.granter.clone())
                .attr("grantee", self.grantee.clone()),
        );
        Ok(pb::MsgRevokeResponse {})
    }
}
