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

    /// Decodes a bech32 string, requiring the given prefix. Bech32 and bech32m checksums are
    /// both accepted (as `bech32::decode` does, which this matches exactly).
    pub fn from_bech32(s: &str, prefix: &str) -> Result<Self, AddressError> {
        Self::from_bech32_fast(s, prefix).map_or_else(|| Self::from_bech32_slow(s, prefix), Ok)
    }

    /// The common case without allocating: a bech32 checksum (tried before bech32m, unlike
    /// `bech32::decode`, since that is what addresses use), the prefix and 20 bytes. `None`
    /// when anything is off; the slow path then names the fault.
    fn from_bech32_fast(s: &str, prefix: &str) -> Option<Self> {
        use bech32::primitives::decode::UncheckedHrpstring;
        let unchecked = UncheckedHrpstring::new(s).ok()?;
        if !(unchecked.has_valid_checksum::<Bech32>()
            || unchecked.has_valid_checksum::<bech32::Bech32m>())
        {
            return None;
        }
        let checked = unchecked.remove_checksum::<Bech32>();
        if checked.hrp().as_str() != prefix {
            return None;
        }
        let mut bytes = [0u8; 20];
        let mut n = 0;
        for b in checked.byte_iter() {
            *bytes.get_mut(n)? = b;
            n += 1;
        }
        (n == 20).then_some(Address(bytes))
    }

    fn from_bech32_slow(s: &str, prefix: &str) -> Result<Self, AddressError> {
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
        crate::address_memo::parse(s, |s| Self::from_bech32(s, crate::ACCOUNT_PREFIX))
            .map_err(|e| TxError::invalid_address(e.to_string()))
    }

    /// The account bech32 form (`caspur1…`).
    pub fn to_account_string(&self) -> String {
        crate::address_memo::text(self, |a| a.to_bech32(crate::ACCOUNT_PREFIX))
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

    #[test]
    fn the_fast_decoder_accepts_exactly_what_bech32_decode_accepts() {
        use bech32::{Bech32m, Hrp, NoChecksum};
        let hrp = Hrp::parse(crate::ACCOUNT_PREFIX).unwrap();
        let other = Hrp::parse("cosmos").unwrap();
        let bytes = [7u8; 20];
        let mut inputs = vec![
            bech32::encode::<Bech32>(hrp, &bytes).unwrap(),
            bech32::encode::<Bech32m>(hrp, &bytes).unwrap(),
            bech32::encode::<Bech32>(hrp, &bytes)
                .unwrap()
                .to_uppercase(),
            bech32::encode::<Bech32>(other, &bytes).unwrap(),
            bech32::encode::<Bech32>(hrp, &bytes[..19]).unwrap(),
            bech32::encode::<Bech32>(hrp, &[1u8; 32]).unwrap(),
            bech32::encode::<NoChecksum>(hrp, &bytes).unwrap(),
            bech32::encode::<Bech32>(hrp, &[]).unwrap(),
            String::new(),
            "caspur1".into(),
            "Caspur1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq".into(),
        ];
        // Every single-character corruption of a valid address.
        let valid = bech32::encode::<Bech32>(hrp, &bytes).unwrap();
        for i in 0..valid.len() {
            for c in ['q', 'p', 'z', '1', 'b', 'Q'] {
                let mut s: Vec<char> = valid.chars().collect();
                s[i] = c;
                inputs.push(s.into_iter().collect());
            }
        }
        for s in &inputs {
            let slow = Address::from_bech32_slow(s, crate::ACCOUNT_PREFIX);
            let fast = Address::from_bech32_fast(s, crate::ACCOUNT_PREFIX);
            assert_eq!(fast, slow.as_ref().ok().copied(), "{s:?}");
            assert_eq!(
                Address::from_bech32(s, crate::ACCOUNT_PREFIX),
                slow,
                "{s:?}"
            );
        }
    }
}
