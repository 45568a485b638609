//! `MsgUpdateParams` of `auth` (only through a passed governance proposal): the memo and
//! signature limits. Gas costs are a protocol constant here (`gas::DEFAULT_COSTS`), so the
//! cost fields must be left at 0 or carry those same values; `max_tx_bytes`, which the SDK
//! message has no field for, keeps its value.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::gas::DEFAULT_COSTS;
use crate::modules::auth::state;
use caspur_store::StateRead;
use cosmos_sdk_proto::cosmos::auth::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgUpdateParams;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.auth.v1beta1.MsgUpdateParams";

fn checked(msg: &Msg) -> Result<&pb::Params, ExecError> {
    let p = msg
        .params
        .as_ref()
        .ok_or_else(|| ExecError::invalid_request("params are required"))?;
    let fixed = [
        (
            "tx_size_cost_per_byte",
            p.tx_size_cost_per_byte,
            DEFAULT_COSTS.tx_size_per_byte,
        ),
        (
            "sig_verify_cost_secp256k1",
            p.sig_verify_cost_secp256k1,
            DEFAULT_COSTS.sig_verify_secp256k1,
        ),
    ];
    for (name, given, cost) in fixed {
        if given != 0 && given != cost {
            return Err(ExecError::invalid_request(format!(
                "{name} is a protocol constant ({cost}) on Caspur"
            )));
        }
    }
    if p.tx_sig_limit == 0 || p.max_memo_characters == 0 {
        return Err(ExecError::invalid_request(
            "tx_sig_limit and max_memo_characters must be positive",
        ));
    }
    Ok(p)
}

crate::modules::gov::governed_params!(
    Msg,
    pb::MsgUpdateParamsResponse,
    check = checked,
    apply = apply
);

async fn apply<B: StateRead>(msg: &Msg, ctx: &mut Ctx<'_, B>) -> Result<(), ExecError> {
    let p = checked(msg)?;
    let mut params = state::get_params(ctx).await?;
    params.max_memo_characters = p.max_memo_characters;
    params.tx_sig_limit = p.tx_sig_limit;
    params.validate()?;
    state::set_params(ctx, &params)
}
