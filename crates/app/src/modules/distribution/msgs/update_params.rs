//! `MsgUpdateParams` of `distribution` (only through governance): the community tax. The
//! proposer-reward fields are unused here (there is no block proposer bonus) and must be 0;
//! `inflation_rate`, which the SDK message has no field for, keeps its value.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::distribution::state;
use caspur_store::StateRead;
use caspur_types::Dec;
use cosmos_sdk_proto::cosmos::distribution::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgUpdateParams;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.distribution.v1beta1.MsgUpdateParams";

fn tax_of(msg: &Msg) -> Result<Dec, ExecError> {
    let p = msg
        .params
        .as_ref()
        .ok_or_else(|| ExecError::invalid_request("params are required"))?;
    #[allow(deprecated)]
    let bonuses = [&p.base_proposer_reward, &p.bonus_proposer_reward];
    for b in bonuses {
        if !b.is_empty() && !Dec::parse_atomics(b)?.is_zero() {
            return Err(ExecError::invalid_request(
                "proposer rewards are not used on Caspur and must be 0",
            ));
        }
    }
    let tax = Dec::parse_atomics(&p.community_tax)?;
    if tax > Dec::ONE {
        return Err(ExecError::invalid_request(
            "community_tax must be at most 1",
        ));
    }
    Ok(tax)
}

crate::modules::gov::governed_params!(
    Msg,
    pb::MsgUpdateParamsResponse,
    check = tax_of,
    apply = apply
);

async fn apply<B: StateRead>(msg: &Msg, ctx: &mut Ctx<'_, B>) -> Result<(), ExecError> {
    let mut params = state::get_params(ctx).await?;
    params.community_tax = tax_of(msg)?.to_string();
    params.validate()?;
    state::set_params(ctx, &params)
}
