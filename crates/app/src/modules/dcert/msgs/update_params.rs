//! `MsgUpdateParams` of `dcert` (only through a passed governance proposal). Re-enabling
//! elections after a dissolution goes through it too.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::dcert::params::DcertParams;
use crate::modules::dcert::state;
use crate::modules::staking;
use caspur_store::StateRead;
use caspur_types::proto::dcert::v1 as pb;

/// The message.
pub type Msg = pb::MsgUpdateParams;
/// Its type URL.
pub const TYPE_URL: &str = "/caspur.dcert.v1.MsgUpdateParams";

fn params_in(msg: &Msg, denom: &str) -> Result<DcertParams, ExecError> {
    let p = msg
        .params
        .as_ref()
        .ok_or_else(|| ExecError::invalid_request("params are required"))?;
    Ok(DcertParams::from_proto(p, denom)?)
}

fn params_of(msg: &Msg) -> Result<DcertParams, ExecError> {
    let denom = msg
        .params
        .as_ref()
        .and_then(|p| p.stipend_per_member.as_ref())
        .map(|c| c.denom.clone())
        .unwrap_or_default();
    params_in(msg, &denom)
}

crate::modules::gov::governed_params!(
    Msg,
    pb::MsgUpdateParamsResponse,
    check = params_of,
    apply = apply
);

async fn apply<B: StateRead>(msg: &Msg, ctx: &mut Ctx<'_, B>) -> Result<(), ExecError> {
    let denom = staking::state::get_params(ctx).await?.bond_denom;
    state::set_params(ctx, &params_in(msg, &denom)?)
}
