//! `MsgReviewPlan`: a team member reviews the current plan on one side (technical, risk,
//! legal), once per side; the plan is approved when every side has an approving review.

use super::{check_id, incident_msg};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::incident::{check_hash, lifecycle, state};
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::{self as pb, ReviewKind, State};

/// The message.
pub type Msg = pb::MsgReviewPlan;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgReviewPlan";

/// The sides every plan needs an approving review of.
pub const KINDS: [ReviewKind; 3] = [ReviewKind::Technical, ReviewKind::Risk, ReviewKind::Legal];

/// The side's name (`technical`).
pub fn kind_name(k: ReviewKind) -> &'static str {
    match k {
        ReviewKind::Technical => "technical",
        ReviewKind::Risk => "risk",
        ReviewKind::Legal => "legal",
        ReviewKind::Unspecified => "unspecified",
    }
}

fn check(msg: &Msg) -> Result<(), ExecError> {
    check_id(msg.id)?;
    match ReviewKind::try_from(msg.kind) {
        Ok(k) if KINDS.contains(&k) => {}
        _ => {
            return Err(ExecError::invalid_request(
                "kind must be technical, risk or legal",
            ))
        }
    }
    check_hash("notes_hash", &msg.notes_hash, false)
}

async fn execute<B: StateRead>(
    msg: &Msg,
    ctx: &mut Ctx<'_, B>,
) -> Result<pb::MsgReviewPlanResponse, ExecError> {
    let mut i = state::require(ctx, msg.id).await?;
    lifecycle::require_team(ctx, &i, &msg.member).await?;
    lifecycle::require_state(&i, &[State::PlanProposed], "reviewing the plan")?;
    let kind = ReviewKind::try_from(msg.kind).unwrap_or(ReviewKind::Unspecified);
    let revision = i.plan.as_ref().map_or(0, |p| p.revision);
    if i.reviews
        .iter()
        .any(|r| r.reviewer == msg.member && r.kind == msg.kind)
    {
        return Err(ExecError::invalid_request(format!(
            "{} already reviewed the {} side of plan revision {revision}",
            msg.member,
            kind_name(kind)
        )));
    }
    i.reviews.push(pb::Review {
        reviewer: msg.member.clone(),
        kind: msg.kind,
        approve: msg.approve,
        notes_hash: msg.notes_hash.clone(),
        revision,
    });
    let approved = KINDS
        .iter()
        .all(|k| i.reviews.iter().any(|r| r.kind == *k as i32 && r.approve));
    let verdict = if msg.approve { "approve" } else { "reject" };
    let text = format!("{}: {verdict}", kind_name(kind));
    let to = approved.then_some(State::PlanApproved);
    lifecycle::record(ctx, &mut i, to, "review", &msg.member, &text).await?;
    Ok(pb::MsgReviewPlanResponse { approved })
}

incident_msg!(Msg, pb::MsgReviewPlanResponse, signer = member);
