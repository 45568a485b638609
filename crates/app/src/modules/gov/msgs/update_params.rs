//! `MsgUpdateParams` of `gov` itself (only through a passed proposal).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::gov::params::GovParams;
use crate::modules::gov::state;
use caspur_store::StateRead;
use cosmos_sdk_proto::cosmos::gov::v1 as pb;

/// The message.
pub type Msg = pb::MsgUpdateParams;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.gov.v1.MsgUpdateParams";

fn params(msg: &Msg) -> Result<&pb::Params, ExecError> {
    msg.params
        .as_ref()
        .ok_or_else(|| ExecError::invalid_request("params are required"))
}

fn check(msg: &Msg) -> Result<GovParams, ExecError> {
    Ok(GovParams::from_proto(params(msg)?, &GovParams::default())?)
}

crate::modules::gov::governed_params!(
    Msg,
    pb::MsgUpdateParamsResponse,
    check = check,
    apply = apply
);

async fn apply<B: StateRead>(msg: &Msg, ctx: &mut Ctx<'_, B>) -> Result<(), ExecError> {
    let current = state::get_params(ctx).await?;
    state::set_params(ctx, &GovParams::from_proto(params(msg)?, &current)?)
}
