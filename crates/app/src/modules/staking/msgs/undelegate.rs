//! `MsgUndelegate`: give up shares for tokens that pay out after the unbonding time (at once
//! from a validator that is not bonded and not unbonding). Until then they stay slashable.

use super::{positive_amount, require_bond_denom};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::staking::delegation;
use crate::modules::staking::state::{self, Status, UnbondingEntry, UNBONDING_QUEUE};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Coin, Event};
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgUndelegate;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.staking.v1beta1.MsgUndelegate";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgUndelegateResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.delegator_address)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.delegator_address)?;
        state::parse_valoper(&self.validator_address)?;
        positive_amount(&self.amount)?;
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let params = state::get_params(ctx).await?;
        let delegator = Address::parse_account(&self.delegator_address)?;
        let operator = state::parse_valoper(&self.validator_address)?;
        let amount = positive_amount(&self.amount)?;
        require_bond_denom(&amount, &params.bond_denom)?;
        let mut v = state::require_validator(ctx, &operator).await?;
        let mut entries = state::get_unbonding(ctx, &delegator, &operator).await?;
        if entries.len() >= params.max_entries as usize {
            return Err(ExecError::invalid_request(format!(
                "too many unbonding delegation entries for this pair (max {})",
                params.max_entries
            )));
        }
        let shares = delegation::shares_to_unbond(ctx, &delegator, &v, amount.amount).await?;
        let status = v.status;
        let tokens = delegation::unbond(ctx, &delegator, &mut v, shares).await?;
        if tokens == 0 {
            return Err(ExecError::invalid_request(
                "the amount is too small to unbond",
            ));
        }
        delegation::move_between_pools(ctx, status, Status::Unbonded, tokens).await?;
        let now = ctx.block.time_ms;
        let completion = if status == Status::Unbonded {
            now
        } else {
            now.saturating_add(params.unbonding_time_ms())
        };
        entries.push(UnbondingEntry {
            creation_height: ctx.block.height,
            completion_ms: completion,
            initial_balance: tokens,
            balance: tokens,
        });
        state::set_unbonding(ctx, &delegator, &operator, &entries).await?;
        let payload = state::payload(&[&delegator, &operator]);
        UNBONDING_QUEUE.push(ctx, now, completion, payload).await?;
        let paid = Coin::new(params.bond_denom.clone(), tokens);
        ctx.emit(
            Event::new("unbond")
                .attr("validator", self.validator_address.clone())
                .attr("delegator", self.delegator_address.clone())
                .attr("amount", paid.to_string())
                .attr(
                    "completion_time",
                    crate::modules::staking::rfc3339(completion),
                ),
        );
        Ok(pb::MsgUndelegateResponse {
            completion_time: Some(state::timestamp(completion)),
            amount: Some(paid.to_proto()),
        })
    }
}
