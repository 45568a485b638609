//! `MsgUpdateParams` of `gov` itself (only through a passed proposal).

use crate::context::Ctx;
use crate::modules::gov::params::GovParams;
use crate::modules::gov::state;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, TxError};
use cosmos_sdk_proto::cosmos::gov::v1 as pb;

/// The message.
pub type Msg = pb::MsgUpdateParams;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.gov.v1.MsgUpdateParams";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgUpdateParamsResponse;

    fn signers(&self) -> Result<Vec<Address>, TxError> {
        Ok(vec![Address::parse_account(&self.authority)?])
    }

    fn check_stateless(&self) -> Result<(), TxError> {
        crate::modules::gov::require_authority(&self.authority)?;
        let params = self
            .params
            .as_ref()
            .ok_or_else(|| TxError::invalid_request("params are required"))?;
        GovParams::from_proto(params, &GovParams::default())?;
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, TxError> {
        let params = self
            .params
            .as_ref()
            .ok_or_else(|| TxError::invalid_request("params are required"))?;
        let current = state::get_params(ctx).await?;
        state::set_params(ctx, &GovParams::from_proto(params, &current)?)?;
        Ok(pb::MsgUpdateParamsResponse {})
    }
}
