//! `staking` parameters. `unbonding_time` is the chain's global unbonding time: delegations,
//! redelegations and (later) dCERT bonds all wait it out.

use caspur_types::{Dec, TxError, STAKE_DENOM};
use serde::{Deserialize, Serialize};

/// Most validators in the bonded set the chain may be configured for (what consensus takes).
pub const MAX_BONDED: u32 = crate::validators::MAX_VALIDATORS as u32;

/// Staking parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakingParams {
    /// How long undelegated and redelegated tokens stay slashable, in seconds.
    pub unbonding_time_secs: u64,
    /// Size of the bonded set (the consensus validator set).
    pub max_validators: u32,
    /// Most unbonding (or redelegation) entries one delegator may have per validator (pair).
    pub max_entries: u32,
    /// The denom that is staked.
    pub bond_denom: String,
    /// Lowest commission rate a validator may charge, as a decimal (`"0.05"`).
    pub min_commission_rate: String,
}

impl Default for StakingParams {
    fn default() -> Self {
        StakingParams {
            unbonding_time_secs: 21 * 24 * 3600,
            max_validators: 100,
            max_entries: 7,
            bond_denom: STAKE_DENOM.into(),
            min_commission_rate: "0".into(),
        }
    }
}

impl StakingParams {
    /// Checks every value; a governance update with a bad one fails without effect.
    pub fn validate(&self) -> Result<(), TxError> {
        if self.unbonding_time_secs == 0 {
            return Err(TxError::invalid_request(
                "unbonding_time_secs must be positive",
            ));
        }
        if self.max_validators == 0 || self.max_validators > MAX_BONDED {
            return Err(TxError::invalid_request(format!(
                "max_validators must be within 1..={MAX_BONDED}"
            )));
        }
        if self.max_entries == 0 {
            return Err(TxError::invalid_request("max_entries must be positive"));
        }
        caspur_types::coin::validate_denom(&self.bond_denom)?;
        if self.min_commission()? > Dec::ONE {
            return Err(TxError::invalid_request(
                "min_commission_rate must be at most 1",
            ));
        }
        Ok(())
    }

    /// The minimum commission rate.
    pub fn min_commission(&self) -> Result<Dec, TxError> {
        self.min_commission_rate.parse()
    }

    /// The unbonding time in milliseconds.
    pub fn unbonding_time_ms(&self) -> u64 {
        self.unbonding_time_secs.saturating_mul(1000)
    }
}
