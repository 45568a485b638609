//! Caspur's shared vocabulary: addresses, coins, fixed-point decimals, error codes, events and
//! the decoding and signature verification of Cosmos transactions.
//!
//! Nothing here does I/O or touches state; everything is deterministic and usable from any layer.

pub mod address;
pub mod address_memo;
pub mod canonical;
pub mod coin;
pub mod dec;
pub mod error;
pub mod event;
pub mod json_int;
pub mod proto;
pub mod seal;
pub mod sign;
pub mod sigverify;
pub mod tx;
pub mod upgrade_info;

pub use address::Address;
pub use coin::{Coin, Coins};
pub use dec::Dec;
pub use error::{ErrorCode, TxError};
pub use event::{Attribute, Event};

/// The bech32 prefix of account addresses.
pub const ACCOUNT_PREFIX: &str = "caspur";
/// The staking and fee denomination: 1 CSP = 10^6 ucsp.
pub const STAKE_DENOM: &str = "ucsp";
