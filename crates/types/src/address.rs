//! Account addresses: `RIPEMD160(SHA256(compressed secp256k1 pubkey))`, shown as bech32.

use bech32::{Bech32, Hrp};
use ripemd::Ripemd160;
use sha2::{Digest, Sha256};
use std::fmt;

use crate::error::TxError;

/// A 20-byte account address.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Address(pub [u8; 20]);

/// Why a bech32 string is not a valid address.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AddressError {
    /// The string is not bech32 at all.
    #[error("invalid bech32 address {0:?}: {1}")]
    Bech32(String, String),
    /// The human-readable part is not the expected one.
    #[error("address {addr:?} has prefix {found:?}, expected {expected:?}")]
    WrongPrefix {
        /// The offending address.
        addr: String,
        /// Prefix found.
        found: String,
        /// Prefix expected.
        expected: String,
    },
    /// The payload is not 20 bytes.
    #[error("address {0:?} must carry 20 bytes, found {1}")]
    WrongLength(String, usize),
}

impl Address {
    /// Derives the address of a compressed (33-byte) secp256k1 public key.
    pub fn from_pubkey(compressed: &[u8]) -> Self {
        let sha = Sha256::digest(compressed);
        let rip = Ripemd160::digest(sha);
        let mut out = [0u8; 20];
        out.copy_from_slice(&rip);
        Address(out)
    }

    /// Encodes with the given human-readable prefix.
    #[allow(
        clippy::expect_used,
        reason = "every caller passes one of our prefix constants, all valid and short"
    )]
    pub fn to_bech32(&self, prefix: &str) -> String {
        // The prefix is a compile-time constant of ours; an invalid one is a programming error.
        let hrp = Hrp::parse(prefix).expect("valid bech32 prefix");
        bech32::encode::<Bech32>(hrp, &self.0).expect("20 bytes always encode")
    }

    /// Decodes a bech32 string, requiring the given prefix.
    pub fn from_bech32(s: &str, prefix: &str) -> Result<Self, AddressError> {
        let (hrp, data) =
            bech32::decode(s).map_err(|e| AddressError::Bech32(s.to_string(), e.to_string()))?;
        if hrp.as_str() != prefix {
            return Err(AddressError::WrongPrefix {
                addr: s.to_string(),
                found: hrp.to_string(),
                expected: prefix.to_string(),
            });
        }
        let bytes: [u8; 20] = data
            .as_slice()
            .try_into()
            .map_err(|_| AddressError::WrongLength(s.to_string(), data.len()))?;
        Ok(Address(bytes))
    }

    /// Parses an account address (`caspur1…`), mapping failure to a tx error.
    pub fn parse_account(s: &str) -> Result<Self, TxError> {
        Self::from_bech32(s, crate::ACCOUNT_PREFIX)
            .map_err(|e| TxError::invalid_address(e.to_string()))
    }

    /// The account bech32 form (`caspur1…`).
    pub fn to_account_string(&self) -> String {
        self.to_bech32(crate::ACCOUNT_PREFIX)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_account_string())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.to_account_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_cosmos_vector() {
        // CosmJS's faucet test mnemonic ("economy stock theory …"), derived by
        // @cosmjs/proto-signing's DirectSecp256k1HdWallet at m/44'/118'/0'/0/0.
        let pk = hex::decode("034f04181eeba35391b858633a765c4a0c189697b40d216354d50890d350c70290")
            .unwrap();
        let addr = Address::from_pubkey(&pk);
        assert_eq!(
            addr.to_bech32("cosmos"),
            "cosmos1pkptre7fdkl6gfrzlesjjvhxhlc3r4gmmk8rs6"
        );
        let caspur = addr.to_account_string();
        assert_eq!(caspur, "caspur1pkptre7fdkl6gfrzlesjjvhxhlc3r4gm7hng47");
        assert_eq!(Address::parse_account(&caspur).unwrap(), addr);
    }

    #[test]
    fn rejects_wrong_prefix_and_garbage() {
        let addr = Address([7; 20]);
        assert!(matches!(
            Address::from_bech32(&addr.to_bech32("cosmos"), "caspur"),
            Err(AddressError::WrongPrefix { .. })
        ));
        assert!(Address::parse_account("caspur1notanaddress").is_err());
        assert!(Address::parse_account("").is_err());
    }
}
