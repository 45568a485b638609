//! `MsgConfirmResolution`: a team member confirms the fix works on the upgraded chain (with
//! the hash of the checks run).

use super::{check_id, incident_msg};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::incident::{check_hash, lifecycle, state};
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::{self as pb, State};

/// The message.
pub type Msg = pb::MsgConfirmResolution;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgConfirmResolution";

fn check(msg: &Msg) -> Result<(), ExecError> {
    check_id(msg.id)?;
    check_hash("checks_hash", &msg.checks_hash, false)
}

async fn execute<B: StateRead>(
    msg: &Msg,
    ctx: &mut Ctx<'_, B>,
) -> Result<pb::MsgConfirmResolutionResponse, ExecError> {
    let mut i = state::require(ctx, msg.id).await?;
    lifecycle::require_team(ctx, &i, &msg.member).await?;
    lifecycle::require_state(&i, &[State::Executing], "confirming the resolution")?;
    i.checks_hash = msg.checks_hash.clone();
    lifecycle::record(
        ctx,
        &mut i,
        Some(State::FixVerified),
        "fix_verified",
        &msg.member,
        &msg.checks_hash,
    )
    .await?;
    Ok(pb::MsgConfirmResolutionResponse {})
}

incident_msg!(Msg, pb::MsgConfirmResolutionResponse, signer = member);
