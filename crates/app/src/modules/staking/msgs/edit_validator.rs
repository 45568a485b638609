//! `MsgEditValidator`: description, commission rate (within `max_change_rate`, at most once a
//! day) and a higher minimum self-delegation.

use super::check_description;
use crate::context::Ctx;
use crate::error::ExecError;
use crate::modules::staking::state;
use crate::router::MsgHandler;
use caspur_store::StateRead;
use caspur_types::{Address, Dec, Event};
use cosmos_sdk_proto::cosmos::staking::v1beta1 as pb;

/// The message.
pub type Msg = pb::MsgEditValidator;
/// Its type URL.
pub const TYPE_URL: &str = "/cosmos.staking.v1beta1.MsgEditValidator";

/// A description field set to this keeps its value (the SDK's convention).
const DO_NOT_MODIFY: &str = "[do-not-modify]";
/// Least time between two commission changes.
const COMMISSION_CHANGE_INTERVAL_MS: u64 = 24 * 3600 * 1000;

fn merged(old: &pb::Description, new: &pb::Description) -> pb::Description {
    let pick = |o: &String, n: &String| {
        if n == DO_NOT_MODIFY {
            o.clone()
        } else {
            n.clone()
        }
    };
    pb::Description {
        moniker: pick(&old.moniker, &new.moniker),
        identity: pick(&old.identity, &new.identity),
        website: pick(&old.website, &new.website),
        security_contact: pick(&old.security_contact, &new.security_contact),
        details: pick(&old.details, &new.details),
    }
}

impl MsgHandler for Msg {
    const TYPE_URL: &'static str = TYPE_URL;
    type Response = pb::MsgEditValidatorResponse;

    fn signers(&self) -> Result<Vec<Address>, ExecError> {
        Ok(vec![state::parse_valoper(&self.validator_address)?])
    }

    fn check_stateless(&self) -> Result<(), ExecError> {
        state::parse_valoper(&self.validator_address)?;
        if let Some(d) = &self.description {
            check_description(d)?;
        }
        if !self.commission_rate.is_empty() && Dec::parse_atomics(&self.commission_rate)? > Dec::ONE
        {
            return Err(ExecError::invalid_request(
                "commission rate must be at most 1",
            ));
        }
        if !self.min_self_delegation.is_empty()
            && caspur_types::coin::parse_amount(&self.min_self_delegation)? == 0
        {
            return Err(ExecError::invalid_request(
                "min_self_delegation must be positive",
            ));
        }
        Ok(())
    }

    async fn execute<B: StateRead>(
        &self,
        ctx: &mut Ctx<'_, B>,
        _depth: u32,
    ) -> Result<Self::Response, ExecError> {
        let operator = state::parse_valoper(&self.validator_address)?;
        let mut v = state::require_validator(ctx, &operator).await?;
        if let Some(d) = &self.description {
            let d = merged(&v.description, d);
            if d.moniker.trim().is_empty() {
                return Err(ExecError::invalid_request("the moniker must not be empty"));
            }
            v.description = d;
        }
        let mut event = Event::new("edit_validator");
        if !self.commission_rate.is_empty() {
            let rate = Dec::parse_atomics(&self.commission_rate)?;
            let [old, max_rate, max_change] = v.commission;
            let min = state::get_params(ctx).await?.min_commission()?;
            let change = if rate > old {
                rate.checked_sub(old)
            } else {
                old.checked_sub(rate)
            }
            .unwrap_or(Dec::ZERO);
            if rate > max_rate || rate < min || change > max_change {
                return Err(ExecError::invalid_request(format!(
                    "commission rate must stay within [{min}, {max_rate}] and change by at most {max_change}"
                )));
            }
            if ctx.block.time_ms < v.commission_updated_ms + COMMISSION_CHANGE_INTERVAL_MS {
                return Err(ExecError::invalid_request(
                    "commission can be changed at most once every 24 hours",
                ));
            }
            v.commission[0] = rate;
            v.commission_updated_ms = ctx.block.time_ms;
            event = event.attr("commission_rate", rate.to_string());
        }
        if !self.min_self_delegation.is_empty() {
            let min_self = caspur_types::coin::parse_amount(&self.min_self_delegation)?;
            if min_self <= v.min_self_delegation {
                return Err(ExecError::invalid_request(
                    "min_self_delegation can only be raised",
                ));
            }
            if min_self > v.tokens {
                return Err(ExecError::invalid_request(
                    "min_self_delegation cannot exceed the validator's tokens",
                ));
            }
            v.min_self_delegation = min_self;
            event = event.attr("min_self_delegation", min_self.to_string());
        }
        state::set_validator(ctx, &v)?;
        ctx.emit(event);
        Ok(pb::MsgEditValidatorResponse {})
    }
}
