//! `MsgDissolveDcert` (governance only, in a proposal with at least `dissolution_deposit`):
//! removes every member, optionally slashes their bonds, and stops elections until governance
//! turns them back on.

use super::slash_member::fraction;
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::{bonds, election, state};
use crate::modules::gov::require_authority;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;
use caspur_types::{Address, Dec, Event};

/// The message.
pub type Msg = pb::MsgDissolveDcert;

fn slash_fraction(msg: &Msg) -> Result<Dec, ExecError> {
    match msg.slash_fraction.as_str() {
        "" | "0" => Ok(Dec::ZERO),
        s => fraction(s),
    }
}

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = crate::modules::dcert::dissolution::DISSOLVE_TYPE_URL;
    type Response = pb::MsgDissolveDcertResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.authority)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        require_authority(&self.authority)?;
        slash_fraction(self).map(|_| ())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let fraction = slash_fraction(self)?;
        let mut params = state::get_params(ctx).await?;
        params.elections_enabled = false;
        state::set_params(ctx, &params)?;
        let members = state::members(ctx).await?;
        for (member, _) in &members {
            election::remove_member(ctx, &params, member, "dissolved").await?;
            if !fraction.is_zero() {
                bonds::slash(ctx, member, fraction, "dissolution").await?;
            }
        }
        ctx.emit(
            Event::new("dcert_dissolved")
                .attr("members", members.len().to_string())
                .attr("slash_fraction", fraction.to_string())
                .attr("reason", self.reason.clone()),
        );
        Ok(pb::MsgDissolveDcertResponse {})
    }
}
