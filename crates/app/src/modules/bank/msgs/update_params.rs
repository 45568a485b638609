//! `MsgUpdateParams` of `bank` (only through a passed governance proposal): whether transfers
//! are enabled. Per-denom `send_enabled` entries are not supported (one denom moves here).

use crate::context::Ctx;
use crate::modules::bank::params::BankParams;
use crate::modules::bank::state;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, TxError};
use cosmos_sdk_proto::cosmos::bank::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgUpdateParams;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.bank.v1beta1.MsgUpdateParams";

fn params_of(msg: &Msg) -> Result<BankParams, TxError> {
    let p = msg
        .params
        .as_ref()
        .ok_or_else(|| TxError::invalid_request("params are required"))?;
    #[allow(deprecated)]
    if !p.send_enabled.is_empty() {
        return Err(TxError::invalid_request(
            "per-denom send_enabled entries are not supported; set default_send_enabled",
        ));
    }
    Ok(BankParams {
        default_send_enabled: p.default_send_enabled,
    })
}

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgUpdateParamsResponse;

    fn signers(&self) -> Result<Vec<Address>, TxError> {
        Ok(vec![Address::parse_account(&self.authority)?])
    }

    fn check_stateless(&self) -> Result<(), TxError> {
        crate::modules::gov::require_authority(&self.authority)?;
        params_of(self).map(|_| ())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, TxError> {
        state::set_params(ctx, &params_of(self)?)?;
        Ok(pb::MsgUpdateParamsResponse {})
    }
}
