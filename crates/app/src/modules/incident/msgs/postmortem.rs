//! `MsgPublishPostmortem`: a team member publishes the post-mortem of a resolved incident,
//! closing it and ending the embargo. A disclosed report must match the public commitment.

use super::{check_id, incident_msg, require_text};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::incident::{check_hash, lifecycle, state, MAX_URI};
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::{self as pb, State};
use caspur_types::seal;

/// The message.
pub type Msg = pb::MsgPublishPostmortem;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgPublishPostmortem";

fn check(msg: &Msg) -> Result<(), ExecError> {
    check_id(msg.id)?;
    require_text("uri", &msg.uri, MAX_URI)?;
    check_hash("hash", &msg.hash, false)?;
    if let Some(d) = &msg.disclosed_report {
        if d.salt.len() != seal::SALT_LEN {
            return Err(ExecError::invalid_request(format!(
                "a disclosure's salt is {} bytes, got {}",
                seal::SALT_LEN,
                d.salt.len()
            )));
        }
        if d.report.len() > seal::MAX_REPORT_BYTES {
            return Err(ExecError::invalid_request(format!(
                "a disclosed report is at most {} bytes",
                seal::MAX_REPORT_BYTES
            )));
        }
    }
    Ok(())
}

async fn execute<B: StateRead>(
    msg: &Msg,
    ctx: &mut Ctx<'_, B>,
) -> Result<pb::MsgPublishPostmortemResponse, ExecError> {
    let mut i = state::require(ctx, msg.id).await?;
    lifecycle::require_team(ctx, &i, &msg.member).await?;
    lifecycle::require_state(&i, &[State::Resolved], "publishing the post-mortem")?;
    if let Some(d) = &msg.disclosed_report {
        if i.commitment.is_empty() {
            return Err(ExecError::invalid_request(format!(
                "incident {} has no sealed report to disclose (tripwire {} opened it)",
                i.id, i.tripwire_id
            )));
        }
        if seal::commitment(&d.salt, &d.report) != i.commitment {
            return Err(ExecError::invalid_request(format!(
                "the disclosed report does not match incident {}'s commitment {}",
                i.id, i.commitment
            )));
        }
    }
    i.postmortem = Some(pb::Postmortem {
        uri: msg.uri.clone(),
        hash: msg.hash.clone(),
        disclosed_report: msg.disclosed_report.clone(),
    });
    lifecycle::record(
        ctx,
        &mut i,
        Some(State::Closed),
        "postmortem",
        &msg.member,
        &msg.uri,
    )
    .await?;
    if msg.disclosed_report.is_none() && !i.commitment.is_empty() {
        // Closed without the report: it will never be disclosed. (A tripwire's incident has
        // no report: its evidence is public from the start.)
        crate::modules::dcert::breaks::on_undisclosed(ctx, i.id).await?;
    }
    Ok(pb::MsgPublishPostmortemResponse {})
}

incident_msg!(Msg, pb::MsgPublishPostmortemResponse, signer = member);
