//! `MsgMultiSend`: one input, many outputs (the Cosmos SDK ≥ 0.47 rule).

use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::bank::{events, state};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Coins};

/// The message.
pub type Msg = cosmos_sdk_proto::cosmos::bank::v1beta1::MsgMultiSend;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.bank.v1beta1.MsgMultiSend";

/// Most outputs in one message; bounds the work one tx can ask for.
pub const MAX_OUTPUTS: usize = 1000;

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = cosmos_sdk_proto::cosmos::bank::v1beta1::MsgMultiSendResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        let input = self
            .inputs
            .first()
            .ok_or_else(|| ExecError::invalid_request("no inputs"))?;
        Ok(vec![Address::parse_account(&input.address)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        if self.inputs.len() != 1 {
            return Err(ExecError::invalid_request(
                "multi-send must have exactly one input",
            ));
        }
        if self.outputs.is_empty() || self.outputs.len() > MAX_OUTPUTS {
            return Err(ExecError::invalid_request(format!(
                "multi-send needs 1 to {MAX_OUTPUTS} outputs"
            )));
        }
        let input = &self.inputs[0];
        Address::parse_account(&input.address)?;
        let input_coins = Coins::from_proto(&input.coins)?;
        let mut out = Vec::new();
        for o in &self.outputs {
            Address::parse_account(&o.address)?;
            let coins = Coins::from_proto(&o.coins)?;
            if coins.is_empty() {
                return Err(ExecError::invalid_coins(
                    "multi-send output must not be empty",
                ));
            }
            out.extend(coins.as_slice().iter().cloned());
        }
        if input_coins.is_empty() || Coins::normalize(out)? != input_coins {
            return Err(ExecError::invalid_coins(
                "sum of inputs does not equal sum of outputs",
            ));
        }
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        state::require_send_enabled(ctx).await?;
        let from = Address::parse_account(&self.inputs[0].address)?;
        let total = Coins::from_proto(&self.inputs[0].coins)?;
        state::sub_coins(ctx, &from, &total).await?;
        let from_text = from.to_string();
        ctx.emit(events::coin_spent(&from_text, &total));
        for o in &self.outputs {
            let to = Address::parse_account(&o.address)?;
            let coins = Coins::from_proto(&o.coins)?;
            state::add_coins(ctx, &to, &coins).await?;
            let to_text = to.to_string();
            ctx.emit(events::coin_received(&to_text, &coins));
            ctx.emit(events::transfer(&from_text, &to_text, &coins));
        }
        Ok(cosmos_sdk_proto::cosmos::bank::v1beta1::MsgMultiSendResponse {})
    }
}
