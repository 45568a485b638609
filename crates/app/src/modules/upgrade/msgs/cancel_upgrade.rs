//! `MsgCancelUpgrade`: governance cancels the scheduled plan, whoever scheduled it.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::upgrade::cancel;
use caspur_store::StateRead;
use caspur_types::proto::upgrade::v1 as pb;

/// The message.
pub type Msg = pb::MsgCancelUpgrade;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.upgrade.v1.MsgCancelUpgrade";

fn check(_: &Msg) -> Result<(), ExecError> {
    Ok(())
}

crate::modules::gov::governed_params!(
    Msg,
    pb::MsgCancelUpgradeResponse,
    check = check,
    apply = apply
);

async fn apply<B: StateRead>(_: &Msg, ctx: &mut Ctx<'_, B>) -> Result<(), ExecError> {
    if !cancel(ctx, "cancelled by governance").await? {
        return Err(ExecError::invalid_request("no upgrade plan is scheduled"));
    }
    Ok(())
}
