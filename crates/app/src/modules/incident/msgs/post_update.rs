//! `MsgPostUpdate`: a team member posts a public update on an announced incident.

use super::{check_id, incident_msg, require_text};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::incident::{lifecycle, state, MAX_TEXT};
use caspur_store::StateRead;
use caspur_types::proto::incident::v1 as pb;

/// The message.
pub type Msg = pb::MsgPostUpdate;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgPostUpdate";

fn check(msg: &Msg) -> Result<(), ExecError> {
    check_id(msg.id)?;
    require_text("text", &msg.text, MAX_TEXT)
}

async fn execute<B: StateRead>(
    msg: &Msg,
    ctx: &mut Ctx<'_, B>,
) -> Result<pb::MsgPostUpdateResponse, ExecError> {
    let mut i = state::require(ctx, msg.id).await?;
    lifecycle::require_team(ctx, &i, &msg.member).await?;
    lifecycle::require_state(&i, lifecycle::ANNOUNCED, "posting an update")?;
    lifecycle::record(ctx, &mut i, None, "update", &msg.member, &msg.text).await?;
    Ok(pb::MsgPostUpdateResponse {})
}

incident_msg!(Msg, pb::MsgPostUpdateResponse, signer = member);
