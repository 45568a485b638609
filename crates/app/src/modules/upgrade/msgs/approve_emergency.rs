//! `MsgApproveEmergencyUpgrade`: an active dCERT member approves an emergency plan. When
//! approvals of current active members reach `emergency_quorum` of the active members, the
//! plan is scheduled — at its height, but never earlier than `min_notice` blocks ahead. A plan
//! scheduled by governance is not replaced (governance cancels it first).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert;
use crate::modules::upgrade::{check_plan, emergency_quorum, schedule, state};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::proto::upgrade::v1 as pb;
use caspur_types::{Address, Event};

/// The message.
pub type Msg = pb::MsgApproveEmergencyUpgrade;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.upgrade.v1.MsgApproveEmergencyUpgrade";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgApproveEmergencyUpgradeResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.member)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.member)?;
        check_plan(self.plan.as_ref()).map(|_| ())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let member = Address::parse_account(&self.member)?;
        dcert::members::require_active(ctx, &member).await?;
        let plan = check_plan(self.plan.as_ref())?;
        if let Some(s) = state::scheduled(ctx).await? {
            return Err(ExecError::invalid_request(format!(
                "plan {:?} is already scheduled (by {}); it must be cancelled first",
                state::plan_of(&s)?.name,
                s.source
            )));
        }
        let mut approvals = state::approvals(ctx).await?;
        let backs = |a: &pb::EmergencyApproval| a.members.contains(&self.member);
        if approvals
            .iter()
            .any(|a| a.plan.as_ref() == Some(plan) && backs(a))
        {
            return Err(ExecError::invalid_request(format!(
                "{} already approved this plan",
                self.member
            )));
        }
        // A member backs one plan at a time, so the records stay bounded by the group's size:
        // approving another plan withdraws its earlier approval.
        for a in approvals.iter_mut() {
            a.members.retain(|m| m != &self.member);
        }
        approvals.retain(|a| !a.members.is_empty());
        let at = match approvals.iter().position(|a| a.plan.as_ref() == Some(plan)) {
            Some(at) => at,
            None => {
                approvals.push(pb::EmergencyApproval {
                    plan: Some(plan.clone()),
                    members: Vec::new(),
                });
                approvals.len() - 1
            }
        };
        approvals[at].members.push(self.member.clone());
        let (count, reached) = emergency_quorum(ctx, &approvals[at].members).await?;
        ctx.emit(
            Event::new("upgrade_emergency_approval")
                .attr("name", plan.name.clone())
                .attr("member", self.member.clone())
                .attr("approvals", count.to_string()),
        );
        if !reached {
            state::set_approvals(ctx, approvals)?;
            return Ok(pb::MsgApproveEmergencyUpgradeResponse {
                scheduled: false,
                height: 0,
            });
        }
        let min_notice = state::get_params(ctx).await?.min_notice;
        let height = (plan.height as u64).max(ctx.block.height.saturating_add(min_notice));
        schedule(ctx, plan, height, state::SOURCE_EMERGENCY).await?;
        Ok(pb::MsgApproveEmergencyUpgradeResponse {
            scheduled: true,
            height: height as i64,
        })
    }
}
