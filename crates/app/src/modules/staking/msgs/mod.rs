//! `staking` messages, one file each.

pub mod cancel_unbonding;
pub mod create_validator;
pub mod delegate;
pub mod edit_validator;
pub mod redelegate;
pub mod undelegate;
pub mod update_params;

use crate::error::ExecError;
use caspur_types::Coin;
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::staking::v1beta1::Description;

/// A required, positive amount of a valid denom.
pub(crate) fn positive_amount(coin: &Option<ProtoCoin>) -> Result<Coin, ExecError> {
    let coin = coin
        .as_ref()
        .ok_or_else(|| ExecError::invalid_coins("an amount is required"))?;
    caspur_types::coin::validate_denom(&coin.denom)?;
    let amount = caspur_types::coin::parse_amount(&coin.amount)?;
    if amount == 0 {
        return Err(ExecError::invalid_coins("the amount must be positive"));
    }
    Ok(Coin::new(coin.denom.clone(), amount))
}

/// The Cosmos SDK's description limits.
pub(crate) fn check_description(d: &Description) -> Result<(), ExecError> {
    for (field, value, max) in [
        ("moniker", &d.moniker, 70),
        ("identity", &d.identity, 3000),
        ("website", &d.website, 140),
        ("security_contact", &d.security_contact, 140),
        ("details", &d.details, 280),
    ] {
        if value.len() > max {
            return Err(ExecError::invalid_request(format!(
                "description {field} is longer than {max} bytes"
            )));
        }
    }
    Ok(())
}

/// The bond denom check every staking amount passes.
pub(crate) fn require_bond_denom(coin: &Coin, bond_denom: &str) -> Result<(), ExecError> {
    if coin.denom != bond_denom {
        return Err(ExecError::invalid_coins(format!(
            "invalid coin denomination: got {}, expected {bond_denom}",
            coin.denom
        )));
    }
    Ok(())
}
