//! `MsgDeclareEmergency`: an active member votes to declare an emergency for a verified
//! report, naming experts for the response team; the declare quorum of active members
//! declares it.

use super::{check_id, incident_msg};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert;
use crate::modules::incident::{lifecycle, state, MAX_EXPERTS};
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::{self as pb, State};
use caspur_types::Address;

/// The message.
pub type Msg = pb::MsgDeclareEmergency;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgDeclareEmergency";

fn check(msg: &Msg) -> Result<(), ExecError> {
    check_id(msg.id)?;
    if msg.experts.len() > MAX_EXPERTS {
        return Err(ExecError::invalid_request(format!(
            "at most {MAX_EXPERTS} experts join a response team"
        )));
    }
    for e in &msg.experts {
        Address::parse_account(e)?;
    }
    Ok(())
}

async fn execute<B: StateRead>(
    msg: &Msg,
    ctx: &mut Ctx<'_, B>,
) -> Result<pb::MsgDeclareEmergencyResponse, ExecError> {
    let mut i = state::require(ctx, msg.id).await?;
    lifecycle::require_member(ctx, &msg.member).await?;
    lifecycle::require_state(&i, &[State::Verified], "declaring an emergency")?;
    if i.declare_votes.contains(&msg.member) {
        return Err(ExecError::invalid_request(format!(
            "{} already voted to declare an emergency for incident {}",
            msg.member, i.id
        )));
    }
    i.declare_votes.push(msg.member.clone());
    for e in &msg.experts {
        if !i.experts.contains(e) {
            i.experts.push(e.clone());
        }
    }
    if i.experts.len() > MAX_EXPERTS {
        return Err(ExecError::invalid_request(format!(
            "incident {} would have more than {MAX_EXPERTS} experts",
            i.id
        )));
    }
    let quorum = state::get_params(ctx).await?.quorum()?;
    let (count, declared) = dcert::members::quorum(ctx, &i.declare_votes, quorum).await?;
    let text = format!("{count} of the active members voted");
    let (to, action) = if declared {
        (Some(State::EmergencyDeclared), "emergency_declared")
    } else {
        (None, "declare_vote")
    };
    lifecycle::record(ctx, &mut i, to, action, &msg.member, &text).await?;
    Ok(pb::MsgDeclareEmergencyResponse { declared })
}

incident_msg!(Msg, pb::MsgDeclareEmergencyResponse, signer = member);
