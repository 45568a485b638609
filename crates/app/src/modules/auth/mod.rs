//! `auth`: accounts (number, public key, sequence) and the tx-wide parameters the ante handler
//! enforces.

pub mod msgs;
pub mod params;
pub mod query;
pub mod state;

use crate::context::KvWrite;
use crate::error::ExecError;
use caspur_types::Address;
use serde::{Deserialize, Serialize};

pub use params::AuthParams;
pub use state::Account;

/// Genesis state of `auth`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthGenesis {
    /// Parameters.
    pub params: AuthParams,
    /// Accounts, in account-number order.
    pub accounts: Vec<GenesisAccount>,
}

/// An account as genesis lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisAccount {
    /// Bech32 address.
    pub address: String,
    /// Hex of the compressed secp256k1 key, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pub_key: Option<String>,
    /// Account number.
    pub account_number: u64,
    /// Sequence.
    pub sequence: u64,
}

/// Writes `auth`'s genesis state.
pub async fn init_genesis(kv: &mut impl KvWrite, g: &AuthGenesis) -> Result<(), ExecError> {
    g.params.validate()?;
    state::set_params(kv, &g.params)?;
    let mut next = 0u64;
    for a in &g.accounts {
        let address = Address::parse_account(&a.address)?;
        let pubkey = match &a.pub_key {
            None => None,
            Some(h) => {
                let bytes = hex::decode(h).map_err(|e| ExecError::invalid_pubkey(e.to_string()))?;
                Some(
                    bytes
                        .as_slice()
                        .try_into()
                        .map_err(|_| ExecError::invalid_pubkey("pubkey must be 33 bytes"))?,
                )
            }
        };
        if state::get_account(kv, &address).await?.is_some() {
            return Err(ExecError::invalid_request(format!(
                "duplicate genesis account {}",
                a.address
            )));
        }
        state::set_account(
            kv,
            &Account {
                address,
                pubkey,
                account_number: a.account_number,
                sequence: a.sequence,
            },
        )?;
        next = next.max(a.account_number + 1);
    }
    state::set_next_account_number(kv, next)
}
