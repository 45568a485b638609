//! `MsgCancelEmergencyUpgrade`: an active dCERT member votes to cancel the emergency plan the
//! group scheduled; the emergency quorum of active members cancels it. Unbreakable.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert;
use crate::modules::upgrade::{cancel, emergency_quorum, state};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::upgrade::v1 as pb;
use caspur_types::{Address, Event};

/// The message.
pub type Msg = pb::MsgCancelEmergencyUpgrade;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.upgrade.v1.MsgCancelEmergencyUpgrade";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgCancelEmergencyUpgradeResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.member)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.member)?;
        caspur_types::upgrade_info::check_name(&self.name).map_err(ExecError::invalid_request)
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let member = Address::parse_account(&self.member)?;
        dcert::members::require_active(ctx, &member).await?;
        let s = state::scheduled(ctx)
            .await?
            .ok_or_else(|| ExecError::invalid_request("no upgrade plan is scheduled"))?;
        let plan = state::plan_of(&s)?;
        if plan.name != self.name || s.source != state::SOURCE_EMERGENCY {
            return Err(ExecError::unauthorized(format!(
                "the dCERT group cancels only its own emergency plan; {:?} was scheduled by {}",
                plan.name, s.source
            )));
        }
        let mut votes = state::cancel_votes(ctx).await?;
        if votes.contains(&self.member) {
            return Err(ExecError::invalid_request(format!(
                "{} already voted to cancel {:?}",
                self.member, self.name
            )));
        }
        votes.push(self.member.clone());
        let (count, reached) = emergency_quorum(ctx, &votes).await?;
        ctx.emit(
            Event::new("upgrade_emergency_cancel_vote")
                .attr("name", self.name.clone())
                .attr("member", self.member.clone())
                .attr("votes", count.to_string()),
        );
        if !reached {
            state::set_cancel_votes(ctx, votes)?;
            return Ok(pb::MsgCancelEmergencyUpgradeResponse { cancelled: false });
        }
        cancel(ctx, "cancelled by the dCERT emergency quorum").await?;
        Ok(pb::MsgCancelEmergencyUpgradeResponse { cancelled: true })
    }
}
