//! `MsgResolveIncident`: a team member announces completion; the disclosure deadline starts.

use super::{check_id, incident_msg, require_text};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::incident::{lifecycle, schedule_deadline, state, MAX_TEXT};
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::{self as pb, State};

/// The message.
pub type Msg = pb::MsgResolveIncident;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgResolveIncident";

fn check(msg: &Msg) -> Result<(), ExecError> {
    check_id(msg.id)?;
    require_text("summary", &msg.summary, MAX_TEXT)
}

async fn execute<B: StateRead>(
    msg: &Msg,
    ctx: &mut Ctx<'_, B>,
) -> Result<pb::MsgResolveIncidentResponse, ExecError> {
    let mut i = state::require(ctx, msg.id).await?;
    lifecycle::require_team(ctx, &i, &msg.member).await?;
    lifecycle::require_state(&i, &[State::FixVerified], "resolving")?;
    i.resolution = msg.summary.clone();
    i.resolved_time_ms = ctx.block.time_ms;
    let deadline = state::get_params(ctx).await?.disclosure_deadline_secs;
    schedule_deadline(ctx, state::DISCLOSURE_QUEUE, i.id, deadline).await?;
    lifecycle::record(
        ctx,
        &mut i,
        Some(State::Resolved),
        "resolved",
        &msg.member,
        &msg.summary,
    )
    .await?;
    Ok(pb::MsgResolveIncidentResponse {})
}

incident_msg!(Msg, pb::MsgResolveIncidentResponse, signer = member);
