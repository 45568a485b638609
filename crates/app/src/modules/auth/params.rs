//! `auth` parameters.

use caspur_types::TxError;
use serde::{Deserialize, Serialize};

/// Limits the ante handler enforces on every tx.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthParams {
    /// Longest memo, in characters.
    pub max_memo_characters: u64,
    /// Most signatures in one tx.
    pub tx_sig_limit: u64,
    /// Largest tx, in bytes.
    pub max_tx_bytes: u64,
}

impl Default for AuthParams {
    fn default() -> Self {
        AuthParams {
            max_memo_characters: 256,
            tx_sig_limit: 7,
            max_tx_bytes: 1 << 20,
        }
    }
}

impl AuthParams {
    /// Rejects nonsensical values.
    pub fn validate(&self) -> Result<(), TxError> {
        if self.tx_sig_limit == 0 || self.max_tx_bytes == 0 {
            return Err(TxError::invalid_request(
                "auth params: tx_sig_limit and max_tx_bytes must be positive",
            ));
        }
        Ok(())
    }
}
