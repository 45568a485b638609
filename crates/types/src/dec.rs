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
