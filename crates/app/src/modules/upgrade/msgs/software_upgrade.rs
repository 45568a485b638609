//! `MsgSoftwareUpgrade`: governance schedules a plan (replacing any scheduled one).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::upgrade::{check_plan, schedule, state};
use caspur_store::StateRead;
use caspur_types::proto::upgrade::v1 as pb;

/// The message.
pub type Msg = pb::MsgSoftwareUpgrade;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.upgrade.v1.MsgSoftwareUpgrade";

fn check(msg: &Msg) -> Result<&pb::Plan, ExecError> {
    check_plan(msg.plan.as_ref())
}

crate::modules::gov::governed_params!(
    Msg,
    pb::MsgSoftwareUpgradeResponse,
    check = check,
    apply = apply
);

async fn apply<B: StateRead>(msg: &Msg, ctx: &mut Ctx<'_, B>) -> Result<(), ExecError> {
    let plan = check(msg)?;
    schedule(ctx, plan, plan.height as u64, state::SOURCE_GOVERNANCE).await
}
