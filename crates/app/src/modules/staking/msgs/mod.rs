//! `staking` messages, one file each.

pub mod cancel_unbonding;
pub mod create_validator;
pub mod delegate;
pub mod edit_validator;
pub mod redelegate;
pub mod undelegate;
pub mod update_params;

use caspur_types::{Coin, TxError};
use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use cosmos_sdk_proto::cosmos::staking::v1beta1::Description;

/// A required, positive amount of a valid denom.
pub(crate) fn positive_amount(coin: &Option<ProtoCoin>) -> Result<Coin, TxError> {
    let coin = coin
        .as_ref()
        .ok_or_else(|| TxError::invalid_coins("an amount is required"))?;
    caspur_types::coin::validate_denom(&coin.denom)?;
    let amount = caspur_types::coin::parse_amount(&coin.amount)?;
    if amount == 0 {
        return Err(TxError::invalid_coins("the amount must be positive"));
    }
    Ok(Coin::new(coin.denom.clone(), amount))
}

/// The Cosmos SDK's description limits.
pub(crate) fn check_description(d: &Description) -> Result<(), TxError> {
    for (field, value, max) in [
        ("moniker", &d.moniker, 70),
        ("identity", &d.identity, 3000),
        ("website", &d.website, 140),
        ("security_contact", &d.security_contact, 140),
        ("details", &d.details, 280),
    ] {
        if value.len() > max {
            return Err(TxError::invalid_request(format!(
                "description {field} is longer than {max} bytes"
            )));
        }
    }
    Ok(())
}

/// The bond denom check every staking amount passes.
pub(crate) fn require_bond_denom(coin: &Coin, bond_denom: &str) -> Result<(), TxError> {
    if coin.denom != bond_denom {
        return Err(TxError::invalid_coins(format!(
            "invalid coin denomination: got {}, expected {bond_denom}",
            coin.denom
        )));
    }
    Ok(())
}
