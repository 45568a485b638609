//! Fixed-point decimals with 18 fractional digits, like Cosmos `sdk.Dec`: deterministic, no floats.

use crate::error::TxError;
use std::fmt;

/// An unsigned decimal with 18 fractional digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dec(u128);

const SCALE: u128 = 1_000_000_000_000_000_000;
const DIGITS: usize = 18;

impl Dec {
    /// Zero.
    pub const ZERO: Dec = Dec(0);
    /// One.
    pub const ONE: Dec = Dec(SCALE);

    /// The decimal equal to an integer.
    pub fn from_int(n: u128) -> Option<Self> {
        n.checked_mul(SCALE).map(Dec)
    }

    /// `num / den`, truncated.
    pub fn ratio(num: u128, den: u128) -> Option<Self> {
        if den == 0 {
            return None;
        }
        num.checked_mul(SCALE).map(|n| Dec(n / den))
    }

    /// `self × n`, rounded up to an integer (what a fee requirement needs).
    pub fn mul_int_ceil(self, n: u128) -> Option<u128> {
        let product = self.0.checked_mul(n)?;
        Some(product.div_ceil(SCALE))
    }

    /// `self × n`, truncated to an integer.
    pub fn mul_int_floor(self, n: u128) -> Option<u128> {
        Some(self.0.checked_mul(n)? / SCALE)
    }

    /// The decimal whose 18-digit fixed-point representation is `atomics` (`1` = 10⁻¹⁸).
    pub const fn from_atomics(atomics: u128) -> Self {
        Dec(atomics)
    }

    /// The fixed-point representation: the value × 10¹⁸ (what Cosmos protobuf fields carry).
    pub const fn atomics(self) -> u128 {
        self.0
    }

    /// Whether this is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Dec) -> Option<Dec> {
        self.0.checked_add(other.0).map(Dec)
    }

    /// `self − other`, or `None` below zero.
    pub fn checked_sub(self, other: Dec) -> Option<Dec> {
        self.0.checked_sub(other.0).map(Dec)
    }

    /// Parses the atomic form Cosmos protobuf uses for `LegacyDec` (`"1500000000000000000"`
    /// for 1.5).
    pub fn parse_atomics(s: &str) -> Result<Self, TxError> {
        if s.is_empty() {
            return Ok(Dec::ZERO);
        }
        s.parse::<u128>()
            .map(Dec)
            .map_err(|_| TxError::invalid_request(format!("invalid decimal atomics {s:?}")))
    }
}

impl std::str::FromStr for Dec {
    type Err = TxError;

    /// Parses `"0.025"`, `"1"`, `"1.5"`; at most 18 fractional digits.
    fn from_str(s: &str) -> Result<Self, TxError> {
        let bad = || TxError::invalid_request(format!("invalid decimal {s:?}"));
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty()
            || frac.len() > DIGITS
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || (s.contains('.') && frac.is_empty())
        {
            return Err(bad());
        }
        let int: u128 = int.parse().map_err(|_| bad())?;
        let mut frac_padded = frac.to_string();
        frac_padded.extend(std::iter::repeat_n('0', DIGITS - frac.len()));
        let frac: u128 = frac_padded.parse().map_err(|_| bad())?;
        int.checked_mul(SCALE)
            .and_then(|i| i.checked_add(frac))
            .map(Dec)
            .ok_or_else(bad)
    }
}

impl fmt::Display for Dec {
    /// Cosmos prints every one of the 18 fractional digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:018}", self.0 / SCALE, self.0 % SCALE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_print_roundtrip() {
        let d: Dec = "0.025".parse().unwrap();
        assert_eq!(d.to_string(), "0.025000000000000000");
        assert_eq!(d.mul_int_ceil(200_000), Some(5_000));
        assert_eq!(d.mul_int_ceil(1), Some(1));
        assert_eq!(d.mul_int_floor(1), Some(0));
        assert_eq!("2".parse::<Dec>().unwrap(), Dec::from_int(2).unwrap());
        for bad in ["", ".", "1.", ".5", "-1", "1e3", "0.0000000000000000001"] {
            assert!(bad.parse::<Dec>().is_err(), "{bad}");
        }
        assert_eq!(
            Dec::ratio(2, 3).unwrap().to_string(),
            "0.666666666666666666"
        );
    }
}
