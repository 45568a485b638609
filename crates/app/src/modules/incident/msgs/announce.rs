//! `MsgAnnounce`: a team member publishes the announcement of an approved plan: what is
//! happening, temporary measures, the plan and advice to users.

use super::{check_id, incident_msg, require_text};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::incident::{check_text, lifecycle, state, MAX_TEXT};
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::{self as pb, State};

/// The message.
pub type Msg = pb::MsgAnnounce;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgAnnounce";

fn check(msg: &Msg) -> Result<(), ExecError> {
    check_id(msg.id)?;
    require_text("description", &msg.description, MAX_TEXT)?;
    check_text("temporary_measures", &msg.temporary_measures, MAX_TEXT)?;
    check_text("plan", &msg.plan, MAX_TEXT)?;
    check_text("user_advice", &msg.user_advice, MAX_TEXT)
}

async fn execute<B: StateRead>(
    msg: &Msg,
    ctx: &mut Ctx<'_, B>,
) -> Result<pb::MsgAnnounceResponse, ExecError> {
    let mut i = state::require(ctx, msg.id).await?;
    lifecycle::require_team(ctx, &i, &msg.member).await?;
    lifecycle::require_state(&i, &[State::PlanApproved], "announcing")?;
    i.announcement = Some(pb::Announcement {
        description: msg.description.clone(),
        temporary_measures: msg.temporary_measures.clone(),
        plan: msg.plan.clone(),
        user_advice: msg.user_advice.clone(),
    });
    lifecycle::record(
        ctx,
        &mut i,
        Some(State::Announced),
        "announced",
        &msg.member,
        &msg.description,
    )
    .await?;
    Ok(pb::MsgAnnounceResponse {})
}

incident_msg!(Msg, pb::MsgAnnounceResponse, signer = member);
