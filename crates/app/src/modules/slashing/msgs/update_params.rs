//! `MsgUpdateParams` of `slashing` (only through a passed governance proposal).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::slashing::params::SlashingParams;
use crate::modules::slashing::state;
use caspur_store::StateRead;
use caspur_types::Dec;
use cosmos_sdk_proto::cosmos::slashing::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgUpdateParams;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.slashing.v1beta1.MsgUpdateParams";

/// A LegacyDec carried as the bytes of its atomic form (how the SDK's slashing params travel).
fn dec(bytes: &[u8], name: &str) -> Result<String, ExecError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ExecError::invalid_request(format!("{name} is not a decimal")))?;
    Ok(Dec::parse_atomics(text)?.to_string())
}

fn params_of(msg: &Msg) -> Result<SlashingParams, ExecError> {
    let p = msg
        .params
        .as_ref()
        .ok_or_else(|| ExecError::invalid_request("params are required"))?;
    let params = SlashingParams {
        signed_blocks_window: u64::try_from(p.signed_blocks_window)
            .map_err(|_| ExecError::invalid_request("signed_blocks_window must be positive"))?,
        min_signed_per_window: dec(&p.min_signed_per_window, "min_signed_per_window")?,
        downtime_jail_duration_secs: p
            .downtime_jail_duration
            .as_ref()
            .and_then(|d| u64::try_from(d.seconds).ok())
            .ok_or_else(|| ExecError::invalid_request("downtime_jail_duration is required"))?,
        slash_fraction_double_sign: dec(
            &p.slash_fraction_double_sign,
            "slash_fraction_double_sign",
        )?,
        slash_fraction_downtime: dec(&p.slash_fraction_downtime, "slash_fraction_downtime")?,
    };
    params.validate()?;
    Ok(params)
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
