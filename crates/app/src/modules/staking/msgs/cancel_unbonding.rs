//! `MsgCancelUnbondingDelegation`: put (part of) an immature unbonding entry back into the
//! delegation it came from.

use super::{positive_amount, require_bond_denom};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::staking::delegation::{self, Source};
use crate::modules::staking::state::{self, Status};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Event};
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgCancelUnbondingDelegation;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.staking.v1beta1.MsgCancelUnbondingDelegation";

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgCancelUnbondingDelegationResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![Address::parse_account(&self.delegator_address)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        Address::parse_account(&self.delegator_address)?;
        state::parse_valoper(&self.validator_address)?;
        positive_amount(&self.amount)?;
        if self.creation_height <= 0 {
            return Err(ExecError::invalid_request(
                "creation_height must be positive",
            ));
        }
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
        if v.jailed {
            return Err(ExecError::invalid_request(
                "the validator is jailed: its unbondings cannot be cancelled",
            ));
        }
        let mut entries = state::get_unbonding(ctx, &delegator, &operator).await?;
        let now = ctx.block.time_ms;
        let height = self.creation_height as u64;
        let at = entries
            .iter()
            .position(|e| e.creation_height == height && e.completion_ms > now)
            .ok_or_else(|| {
                ExecError::invalid_request(format!(
                    "no immature unbonding entry created at height {height}"
                ))
            })?;
        if amount.amount > entries[at].balance {
            return Err(ExecError::invalid_request(format!(
                "amount {} exceeds the entry's balance {}",
                amount.amount, entries[at].balance
            )));
        }
        entries[at].balance -= amount.amount;
        if entries[at].balance == 0 {
            // Its queue entry finds nothing to pay when it comes due.
            entries.remove(at);
        }
        state::set_unbonding(ctx, &delegator, &operator, &entries).await?;
        delegation::delegate(
            ctx,
            &delegator,
            &mut v,
            amount.amount,
            Source::Pool(Status::Unbonded),
        )
        .await?;
        ctx.emit(
            Event::new("cancel_unbonding_delegation")
                .attr("validator", self.validator_address.clone())
                .attr("delegator", self.delegator_address.clone())
                .attr("amount", amount.to_string())
                .attr("creation_height", height.to_string()),
        );
        Ok(pb::MsgCancelUnbondingDelegationResponse {})
    }
}
