//! `bank` parameters.

use serde::{Deserialize, Serialize};

/// Whether transfers are enabled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankParams {
    /// Whether `MsgSend` and `MsgMultiSend` are accepted.
    pub default_send_enabled: bool,
}

impl Default for BankParams {
    fn default() -> Self {
        BankParams {
            default_send_enabled: true,
        }
    }
}
