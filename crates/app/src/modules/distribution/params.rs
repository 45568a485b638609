//! `distribution` parameters.

use caspur_types::{Dec, TxError};
use serde::{Deserialize, Serialize};

/// Distribution parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistributionParams {
    /// Share of every block's fees and inflation that goes to the community pool.
    pub community_tax: String,
    /// Yearly inflation of the staked denom's supply, paid to stakers and the pool (`"0"`: none).
    pub inflation_rate: String,
}

impl Default for DistributionParams {
    fn default() -> Self {
        DistributionParams {
            community_tax: "0.02".into(),
            inflation_rate: "0".into(),
        }
    }
}

impl DistributionParams {
    /// Checks every value.
    pub fn validate(&self) -> Result<(), TxError> {
        if self.tax()? > Dec::ONE {
            return Err(TxError::invalid_request("community_tax must be at most 1"));
        }
        if self.inflation()? > Dec::ONE {
            return Err(TxError::invalid_request(
                "inflation_rate must be at most 1 (100 % a year)",
            ));
        }
        Ok(())
    }

    /// The community tax.
    pub fn tax(&self) -> Result<Dec, TxError> {
        self.community_tax.parse()
    }

    /// The yearly inflation rate.
    pub fn inflation(&self) -> Result<Dec, TxError> {
        self.inflation_rate.parse()
    }
}
