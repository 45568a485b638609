//! `MsgUpdateParams` of `incident` (only through a passed governance proposal).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::incident::{params::IncidentParams, state};
use caspur_store::StateRead;
use caspur_types::proto::incident::v1 as pb;

/// The message.
pub type Msg = pb::MsgUpdateParams;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.incident.v1.MsgUpdateParams";

fn check(msg: &Msg) -> Result<IncidentParams, ExecError> {
    let p = msg
        .params
        .as_ref()
        .ok_or_else(|| ExecError::invalid_request("params are required"))?;
    Ok(IncidentParams::from_proto(p)?)
}

crate::modules::gov::governed_params!(
    Msg,
    pb::MsgUpdateParamsResponse,
    check = check,
    apply = apply
);

async fn apply<B: StateRead>(msg: &Msg, ctx: &mut Ctx<'_, B>) -> Result<(), ExecError> {
    state::set_params(ctx, &check(msg)?)
}
