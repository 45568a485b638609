//! `MsgCreateValidator`: register a validator and make its first (self-)delegation. It joins
//! the bonded set at the end of the block if its power ranks among `max_validators`.

use super::{check_description, positive_amount, require_bond_denom};
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::staking::delegation::{self, Source};
use crate::modules::staking::state::{self, Status, Validator};
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Dec, Event};
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgCreateValidator;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.staking.v1beta1.MsgCreateValidator";

/// Parses and checks commission rates: `rate ≤ max_rate ≤ 1`, `max_change_rate ≤ max_rate`.
pub fn commission_rates(c: &Option<pb::CommissionRates>) -> Result<[Dec; 3], ExecError> {
    let c = c
        .as_ref()
        .ok_or_else(|| ExecError::invalid_request("commission rates are required"))?;
    let rates = [
        Dec::parse_atomics(&c.rate)?,
        Dec::parse_atomics(&c.max_rate)?,
        Dec::parse_atomics(&c.max_change_rate)?,
    ];
    let [rate, max_rate, max_change] = rates;
    if max_rate > Dec::ONE || rate > max_rate || max_change > max_rate {
        return Err(ExecError::invalid_request(
            "commission rates must satisfy rate ≤ max_rate ≤ 1 and max_change_rate ≤ max_rate",
        ));
    }
    Ok(rates)
}

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgCreateValidatorResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![state::parse_valoper(&self.validator_address)?])
    }

    #[allow(deprecated)]
    fn check_stateless(&self) -> Result<(), ExecError> {
        let operator = state::parse_valoper(&self.validator_address)?;
        if !self.delegator_address.is_empty()
            && Address::parse_account(&self.delegator_address)? != operator
        {
            return Err(ExecError::invalid_address(
                "delegator_address, when given, must be the operator's account",
            ));
        }
        let description = self
            .description
            .as_ref()
            .ok_or_else(|| ExecError::invalid_request("a description is required"))?;
        if description.moniker.trim().is_empty() {
            return Err(ExecError::invalid_request("the moniker must not be empty"));
        }
        check_description(description)?;
        commission_rates(&self.commission)?;
        let min_self: u128 = caspur_types::coin::parse_amount(&self.min_self_delegation)?;
        if min_self == 0 {
            return Err(ExecError::invalid_request(
                "min_self_delegation must be positive",
            ));
        }
        let value = positive_amount(&self.value)?;
        if value.amount < min_self {
            return Err(ExecError::invalid_request(
                "the self-delegation is below min_self_delegation",
            ));
        }
        state::consensus_key_of(self.pubkey.as_ref())?;
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let params = state::get_params(ctx).await?;
        let operator = state::parse_valoper(&self.validator_address)?;
        let value = positive_amount(&self.value)?;
        require_bond_denom(&value, &params.bond_denom)?;
        let commission = commission_rates(&self.commission)?;
        if commission[0] < params.min_commission()? {
            return Err(ExecError::invalid_request(format!(
                "commission rate is below the chain's minimum {}",
                params.min_commission_rate
            )));
        }
        if state::get_validator(ctx, &operator).await?.is_some() {
            return Err(ExecError::invalid_request(format!(
                "validator {} already exists",
                self.validator_address
            )));
        }
        let mut v = Validator {
            operator,
            consensus_key: state::consensus_key_of(self.pubkey.as_ref())?,
            jailed: false,
            status: Status::Unbonded,
            tokens: 0,
            shares: Dec::ZERO,
            description: self.description.clone().unwrap_or_default(),
            unbonding_height: 0,
            unbonding_time_ms: 0,
            commission,
            commission_updated_ms: ctx.block.time_ms,
            min_self_delegation: caspur_types::coin::parse_amount(&self.min_self_delegation)?,
        };
        state::add_validator(ctx, &v).await?;
        delegation::delegate(ctx, &operator, &mut v, value.amount, Source::Account).await?;
        ctx.emit(
            Event::new("create_validator")
                .attr("validator", self.validator_address.clone())
                .attr("amount", value.to_string()),
        );
        Ok(pb::MsgCreateValidatorResponse {})
    }
}
