//! `slashing` parameters (the Cosmos SDK's defaults).

use caspur_types::{Dec, TxError};
use serde::{Deserialize, Serialize};

/// Slashing parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlashingParams {
    /// Blocks over which liveness is judged.
    pub signed_blocks_window: u64,
    /// Share of the window a validator must sign.
    pub min_signed_per_window: String,
    /// How long a validator jailed for downtime stays jailed, in seconds.
    pub downtime_jail_duration_secs: u64,
    /// Share of stake slashed for double-signing.
    pub slash_fraction_double_sign: String,
    /// Share of stake slashed for downtime.
    pub slash_fraction_downtime: String,
}

impl Default for SlashingParams {
    fn default() -> Self {
        SlashingParams {
            signed_blocks_window: 100,
            min_signed_per_window: "0.5".into(),
            downtime_jail_duration_secs: 600,
            slash_fraction_double_sign: "0.05".into(),
            slash_fraction_downtime: "0.0001".into(),
        }
    }
}

impl SlashingParams {
    /// Checks every value.
    pub fn validate(&self) -> Result<(), TxError> {
        if self.signed_blocks_window == 0 {
            return Err(TxError::invalid_request(
                "signed_blocks_window must be positive",
            ));
        }
        for (name, d) in [
            ("min_signed_per_window", self.min_signed()?),
            ("slash_fraction_double_sign", self.double_sign_fraction()?),
            ("slash_fraction_downtime", self.downtime_fraction()?),
        ] {
            if d > Dec::ONE {
                return Err(TxError::invalid_request(format!(
                    "{name} must be at most 1"
                )));
            }
        }
        Ok(())
    }

    /// `min_signed_per_window`.
    pub fn min_signed(&self) -> Result<Dec, TxError> {
        self.min_signed_per_window.parse()
    }

    /// `slash_fraction_double_sign`.
    pub fn double_sign_fraction(&self) -> Result<Dec, TxError> {
        self.slash_fraction_double_sign.parse()
    }

    /// `slash_fraction_downtime`.
    pub fn downtime_fraction(&self) -> Result<Dec, TxError> {
        self.slash_fraction_downtime.parse()
    }
}
