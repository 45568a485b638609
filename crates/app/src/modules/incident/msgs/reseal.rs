//! `MsgResealIncident`: an active member who can read a report wraps its content key for
//! active members who cannot (new members, or a member's new key). Removed members' wraps are
//! dropped, and none can be added for them.

use super::{check_id, incident_msg};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::incident::{lifecycle, sealing, state};
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::{self as pb, State};

/// The message.
pub type Msg = pb::MsgResealIncident;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgResealIncident";

fn check(msg: &Msg) -> Result<(), ExecError> {
    check_id(msg.id)?;
    sealing::check_wraps(&msg.keys)
}

async fn execute<B: StateRead>(
    msg: &Msg,
    ctx: &mut Ctx<'_, B>,
) -> Result<pb::MsgResealIncidentResponse, ExecError> {
    let mut i = state::require(ctx, msg.id).await?;
    lifecycle::require_member(ctx, &msg.member).await?;
    let open: Vec<State> = lifecycle::ACTIVE
        .iter()
        .copied()
        .chain([State::Reported, State::Resolved, State::Aborted])
        .collect();
    lifecycle::require_state(&i, &open, "resealing")?;
    let mut sealed = state::sealed(ctx, i.id).await?;
    sealing::reseal(ctx, &mut sealed, &msg.member, &msg.keys).await?;
    state::set_sealed(ctx, i.id, &sealed)?;
    let to: Vec<&str> = msg.keys.iter().map(|w| w.member.as_str()).collect();
    let text = format!("resealed to {}", to.join(", "));
    lifecycle::record(ctx, &mut i, None, "resealed", &msg.member, &text).await?;
    Ok(pb::MsgResealIncidentResponse {})
}

incident_msg!(Msg, pb::MsgResealIncidentResponse, signer = member);
