//! `MsgUpdateParams` of `bank` (only through a passed governance proposal): whether transfers
//! are enabled. Per-denom `send_enabled` entries are not supported (one denom moves here).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::bank::params::BankParams;
use crate::modules::bank::state;
use caspur_store::StateRead;
use cosmos_sdk_proto::cosmos::bank::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgUpdateParams;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.bank.v1beta1.MsgUpdateParams";

fn params_of(msg: &Msg) -> Result<BankParams, ExecError> {
    let p = msg
        .params
        .as_ref()
        .ok_or_else(|| ExecError::invalid_request("params are required"))?;
    #[allow(deprecated)]
    if !p.send_enabled.is_empty() {
        return Err(ExecError::invalid_request(
            "per-denom send_enabled entries are not supported; set default_send_enabled",
        ));
    }
    Ok(BankParams {
        default_send_enabled: p.default_send_enabled,
    })
}

crate::modules::gov::governed_params!(
    Msg,
    pb::MsgUpdateParamsResponse,
    check = params_of,
    apply = apply
);

async fn apply<B: StateRead>(msg: &Msg, ctx: &mut Ctx<'_, B>) -> Result<(), ExecError> {
    state::set_params(ctx, &params_of(msg)?)
}
