//! `MsgBeginRedelegate`: move a delegation to another validator at once. The moved tokens stay
//! slashable for the source's infractions until the unbonding time passes, and may not move on
//! again before that (no hopping away from a slash).

use super::{positive_amount, require_bond_denom};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::staking::delegation::{self, Source};
use crate::modules::staking::state::{self, RedelegationEntry, Status, REDELEGATION_QUEUE};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Coin, Event};
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgBeginRedelegate;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.staking.v1beta1.MsgBeginRedelegate";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgBeginRedelegateResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.delegator_address)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.delegator_address)?;
        let src = state::parse_valoper(&self.validator_src_address)?;
        let dst = state::parse_valoper(&self.validator_dst_address)?;
        if src == dst {
            return Err(ExecError::invalid_request(
                "cannot redelegate to the same validator",
            ));
        }
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
        let src = state::parse_valoper(&self.validator_src_address)?;
        let dst = state::parse_valoper(&self.validator_dst_address)?;
        let amount = positive_amount(&self.amount)?;
        require_bond_denom(&amount, &params.bond_denom)?;
        if state::incoming_redelegations(ctx, &delegator, &src).await? > 0 {
            return Err(ExecError::invalid_request(
                "redelegation to this validator already in progress; first redelegation to this validator must complete before next redelegation",
            ));
        }
        let mut src_v = state::require_validator(ctx, &src).await?;
        let mut dst_v = state::require_validator(ctx, &dst).await?;
        let mut entries = state::get_redelegation(ctx, &delegator, &src, &dst).await?;
        if entries.len() >= params.max_entries as usize {
            return Err(ExecError::invalid_request(format!(
                "too many redelegation entries for this pair (max {})",
                params.max_entries
            )));
        }
        let shares = delegation::shares_to_unbond(ctx, &delegator, &src_v, amount.amount).await?;
        let src_status = src_v.status;
        let tokens = delegation::unbond(ctx, &delegator, &mut src_v, shares).await?;
        if tokens == 0 {
            return Err(ExecError::invalid_request(
                "the amount is too small to redelegate",
            ));
        }
        let shares_dst = delegation::delegate(
            ctx,
            &delegator,
            &mut dst_v,
            tokens,
            Source::Pool(src_status),
        )
        .await?;
        let now = ctx.block.time_ms;
        // Tokens from a validator that is not bonded were not slashable: nothing to track.
        let completion = if src_status == Status::Unbonded {
            now
        } else {
            let completion = now.saturating_add(params.unbonding_time_ms());
            entries.push(RedelegationEntry {
                creation_height: ctx.block.height,
                completion_ms: completion,
                initial_balance: tokens,
                shares_dst,
            });
            state::set_redelegation(ctx, &delegator, &src, &dst, &entries).await?;
            state::add_incoming_redelegations(ctx, &delegator, &dst, 1).await?;
            let payload = state::payload(&[&delegator, &src, &dst]);
            REDELEGATION_QUEUE
                .push(ctx, now, completion, payload)
                .await?;
            completion
        };
        ctx.emit(
            Event::new("redelegate")
                .attr("source_validator", self.validator_src_address.clone())
                .attr("destination_validator", self.validator_dst_address.clone())
                .attr(
                    "amount",
                    Coin::new(params.bond_denom.clone(), tokens).to_string(),
                )
                .attr(
                    "completion_time",
                    crate::modules::staking::rfc3339(completion),
                ),
        );
        Ok(pb::MsgBeginRedelegateResponse {
            completion_time: Some(state::timestamp(completion)),
        })
    }
}
