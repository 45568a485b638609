//! `MsgLinkUpgrade`: a team member links the scheduled upgrade plan that ships the fix. The
//! link is checked (the plan is the one scheduled, and no other incident holds it); from then
//! on the upgrade module moves the incident: executing when the plan runs, aborted when it is
//! cancelled or skipped.

use super::{check_id, incident_msg};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::incident::{lifecycle, state};
use crate::modules::upgrade;
use caspur_store::StateRead;
use caspur_types::proto::incident::v1::{self as pb, State};

/// The message.
pub type Msg = pb::MsgLinkUpgrade;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgLinkUpgrade";

fn check(msg: &Msg) -> Result<(), ExecError> {
    check_id(msg.id)?;
    caspur_types::upgrade_info::check_name(&msg.plan_name).map_err(ExecError::invalid_request)
}

async fn execute<B: StateRead>(
    msg: &Msg,
    ctx: &mut Ctx<'_, B>,
) -> Result<pb::MsgLinkUpgradeResponse, ExecError> {
    let mut i = state::require(ctx, msg.id).await?;
    lifecycle::require_team(ctx, &i, &msg.member).await?;
    lifecycle::require_state(&i, &[State::Announced], "linking an upgrade")?;
    let scheduled = upgrade::state::scheduled(ctx).await?;
    let plan = match &scheduled {
        Some(s) => upgrade::state::plan_of(s)?,
        None => {
            return Err(ExecError::invalid_request(format!(
                "no upgrade plan is scheduled; schedule {:?} first (emergency track or governance)",
                msg.plan_name
            )))
        }
    };
    if plan.name != msg.plan_name {
        return Err(ExecError::invalid_request(format!(
            "the scheduled upgrade plan is {:?}, not {:?}",
            plan.name, msg.plan_name
        )));
    }
    if let Some(other) = state::linked(ctx, &msg.plan_name).await? {
        return Err(ExecError::invalid_request(format!(
            "upgrade plan {:?} is already linked to incident {other}",
            msg.plan_name
        )));
    }
    let text = format!("upgrade plan {:?} at height {}", plan.name, plan.height);
    state::set_link(ctx, &msg.plan_name, i.id)?;
    i.upgrade_name = msg.plan_name.clone();
    lifecycle::record(
        ctx,
        &mut i,
        Some(State::UpgradeScheduled),
        "upgrade_linked",
        &msg.member,
        &text,
    )
    .await?;
    Ok(pb::MsgLinkUpgradeResponse {})
}

incident_msg!(Msg, pb::MsgLinkUpgradeResponse, signer = member);
