//! `MsgUnjail`: a jailed validator returns once its jail time is over — unless it double-signed,
//! or its self-delegation is below its minimum.

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::slashing::state;
use crate::modules::staking::{delegation, state as staking};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Event};
use cosmos_sdk_proto::cosmos::slashing::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgUnjail;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.slashing.v1beta1.MsgUnjail";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgUnjailResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![staking::parse_valoper(&self.validator_addr)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        staking::parse_valoper(&self.validator_addr)?;
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let op = staking::parse_valoper(&self.validator_addr)?;
        let mut v = staking::require_validator(ctx, &op).await?;
        if !v.jailed {
            return Err(ExecError::invalid_request("validator is not jailed"));
        }
        let info = state::signing_info(ctx, &op, ctx.block.height).await?;
        if info.tombstoned {
            return Err(ExecError::invalid_request(
                "validator double-signed and is tombstoned: it cannot be unjailed",
            ));
        }
        if ctx.block.time_ms < info.jailed_until_ms {
            return Err(ExecError::invalid_request(format!(
                "validator is jailed until {}",
                crate::modules::staking::rfc3339(info.jailed_until_ms)
            )));
        }
        let own = staking::get_shares(ctx, &op, &op).await?;
        if delegation::tokens_for(&v, own)? < v.min_self_delegation {
            return Err(ExecError::invalid_request(
                "self-delegation is below the validator's minimum: delegate more first",
            ));
        }
        v.jailed = false;
        staking::set_validator(ctx, &v)?;
        ctx.emit(Event::new("unjail").attr("validator", self.validator_addr.clone()));
        Ok(pb::MsgUnjailResponse {})
    }
}
