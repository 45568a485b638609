//! `MsgProposeResponsePlan`: a team member proposes the response plan (its summary and the
//! hash of the full document); a new plan replaces the last one and clears its reviews.

use super::{check_id, incident_msg, require_text};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::incident::{check_hash, lifecycle, state, MAX_PLAN_REVISIONS, MAX_TEXT};
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::{self as pb, State};

/// The message.
pub type Msg = pb::MsgProposeResponsePlan;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgProposeResponsePlan";

fn check(msg: &Msg) -> Result<(), ExecError> {
    check_id(msg.id)?;
    require_text("summary", &msg.summary, MAX_TEXT)?;
    check_hash("plan_hash", &msg.plan_hash, false)?;
    if !msg.upgrade.is_empty() {
        caspur_types::upgrade_info::check_name(&msg.upgrade).map_err(ExecError::invalid_request)?;
    }
    Ok(())
}

async fn execute<B: StateRead>(
    msg: &Msg,
    ctx: &mut Ctx<'_, B>,
) -> Result<pb::MsgProposeResponsePlanResponse, ExecError> {
    let mut i = state::require(ctx, msg.id).await?;
    lifecycle::require_team(ctx, &i, &msg.member).await?;
    lifecycle::require_state(
        &i,
        &[State::EmergencyDeclared, State::PlanProposed],
        "proposing a response plan",
    )?;
    let revision = i.plan.as_ref().map_or(0, |p| p.revision) + 1;
    if revision > MAX_PLAN_REVISIONS {
        return Err(ExecError::invalid_request(format!(
            "incident {} already had {MAX_PLAN_REVISIONS} plans",
            i.id
        )));
    }
    i.plan = Some(pb::ResponsePlan {
        summary: msg.summary.clone(),
        plan_hash: msg.plan_hash.clone(),
        upgrade: msg.upgrade.clone(),
        proposer: msg.member.clone(),
        revision,
    });
    i.reviews.clear();
    let text = format!("revision {revision}: {}", msg.summary);
    lifecycle::record(
        ctx,
        &mut i,
        Some(State::PlanProposed),
        "plan_proposed",
        &msg.member,
        &text,
    )
    .await?;
    Ok(pb::MsgProposeResponsePlanResponse { revision })
}

incident_msg!(Msg, pb::MsgProposeResponsePlanResponse, signer = member);
