//! `MsgCancelUpgrade`: governance cancels the scheduled plan, whoever scheduled it.

use crate::context::Ctx;
use crate::modules::upgrade::cancel;
use caspur_store::StateRead;
use caspur_types::proto::upgrade::v1 as pb;
use caspur_types::TxError;

/// The message.
pub type Msg = pb::MsgCancelUpgrade;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.upgrade.v1.MsgCancelUpgrade";

fn check(_: &Msg) -> Result<(), TxError> {
    Ok(())
}

crate::modules::gov::governed_params!(
    Msg,
    pb::MsgCancelUpgradeResponse,
    check = check,
    apply = apply
);

async fn apply<B: StateRead>(_: &Msg, ctx: &mut Ctx<'_, B>) -> Result<(), TxError> {
    if !cancel(ctx, "cancelled by governance").await? {
        return Err(TxError::invalid_request("no upgrade plan is scheduled"));
    }
    Ok(())
}
