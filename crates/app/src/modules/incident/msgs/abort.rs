//! `MsgAbortIncident`: a team member aborts an active incident, with the reason. A linked
//! upgrade plan is unlinked, not cancelled: cancelling it is governance's or the dCERT
//! quorum's own decision.

use super::{check_id, incident_msg, require_text};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::incident::{lifecycle, state, MAX_TEXT};
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::{self as pb, State};

/// The message.
pub type Msg = pb::MsgAbortIncident;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgAbortIncident";

fn check(msg: &Msg) -> Result<(), ExecError> {
    check_id(msg.id)?;
    require_text("reason", &msg.reason, MAX_TEXT)
}

async fn execute<B: StateRead>(
    msg: &Msg,
    ctx: &mut Ctx<'_, B>,
) -> Result<pb::MsgAbortIncidentResponse, ExecError> {
    let mut i = state::require(ctx, msg.id).await?;
    lifecycle::require_team(ctx, &i, &msg.member).await?;
    lifecycle::require_state(&i, lifecycle::ACTIVE, "aborting")?;
    if !i.upgrade_name.is_empty() && state::linked(ctx, &i.upgrade_name).await? == Some(i.id) {
        state::remove_link(ctx, &i.upgrade_name)?;
    }
    i.abort_reason = msg.reason.clone();
    lifecycle::record(
        ctx,
        &mut i,
        Some(State::Aborted),
        "aborted",
        &msg.member,
        &msg.reason,
    )
    .await?;
    Ok(pb::MsgAbortIncidentResponse {})
}

incident_msg!(Msg, pb::MsgAbortIncidentResponse, signer = member);
