//! Coins: a denomination and an unsigned integer amount, validated like Cosmos `sdk.Coin`.

use crate::error::TxError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A validated coin. Amounts are `u128`: Cosmos allows 256-bit amounts, but no realistic
/// CASPUR supply comes near 2^128 and the fixed width keeps arithmetic checked and fast.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Coin {
    /// Denomination, e.g. `ucsp`.
    pub denom: String,
    /// Amount in the smallest unit.
    pub amount: u128,
}

impl Coin {
    /// Builds a coin; the denom must be valid.
    pub fn new(denom: impl Into<String>, amount: u128) -> Self {
        Coin {
            denom: denom.into(),
            amount,
        }
    }

    /// Validates and converts a protobuf coin (amount is a decimal string).
    pub fn from_proto(c: &cosmos_sdk_proto::cosmos::base::v1beta1::Coin) -> Result<Self, TxError> {
        validate_denom(&c.denom)?;
        let amount = parse_amount(&c.amount)?;
        Ok(Coin {
            denom: c.denom.clone(),
            amount,
        })
    }

    /// The protobuf form.
    pub fn to_proto(&self) -> cosmos_sdk_proto::cosmos::base::v1beta1::Coin {
        cosmos_sdk_proto::cosmos::base::v1beta1::Coin {
            denom: self.denom.clone(),
            amount: self.amount.to_string(),
        }
    }
}

impl fmt::Display for Coin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.amount, self.denom)
    }
}

/// Parses a non-negative decimal integer amount.
pub fn parse_amount(s: &str) -> Result<u128, TxError> {
    if s.is_empty() || s.len() > 39 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TxError::invalid_coins(format!("invalid coin amount {s:?}")));
    }
    s.parse::<u128>()
        .map_err(|_| TxError::invalid_coins(format!("coin amount {s:?} is out of range")))
}

/// Checks a denomination against the Cosmos rule `[a-zA-Z][a-zA-Z0-9/:._-]{2,127}`.
pub fn validate_denom(denom: &str) -> Result<(), TxError> {
    let bytes = denom.as_bytes();
    let ok = (3..=128).contains(&bytes.len())
        && bytes[0].is_ascii_alphabetic()
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b':' | b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(TxError::invalid_coins(format!("invalid denom {denom:?}")))
    }
}

/// A sorted set of coins with distinct denominations and positive amounts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coins(Vec<Coin>);

impl Coins {
    /// The empty set.
    pub fn empty() -> Self {
        Coins(Vec::new())
    }

    /// Validates protobuf coins: valid denoms, sorted, no duplicates, no zero amounts
    /// (the `sdk.Coins.Validate` rule, so clients' expectations hold).
    pub fn from_proto(
        coins: &[cosmos_sdk_proto::cosmos::base::v1beta1::Coin],
    ) -> Result<Self, TxError> {
        let mut out = Vec::with_capacity(coins.len());
        for c in coins {
            let coin = Coin::from_proto(c)?;
            if coin.amount == 0 {
                return Err(TxError::invalid_coins(format!(
                    "coin {coin} has a zero amount"
                )));
            }
            if let Some(prev) = out.last() {
                let prev: &Coin = prev;
                if prev.denom >= coin.denom {
                    return Err(TxError::invalid_coins(format!(
                        "coins must be sorted with distinct denoms: {} then {}",
                        prev.denom, coin.denom
                    )));
                }
            }
            out.push(coin);
        }
        Ok(Coins(out))
    }

    /// Builds from arbitrary coins: merges duplicates, drops zeros, sorts.
    pub fn normalize(coins: impl IntoIterator<Item = Coin>) -> Result<Self, TxError> {
        let mut map = std::collections::BTreeMap::<String, u128>::new();
        for c in coins {
            let slot = map.entry(c.denom).or_default();
            *slot = slot
                .checked_add(c.amount)
                .ok_or_else(|| TxError::invalid_coins("coin amount overflow"))?;
        }
        Ok(Coins(
            map.into_iter()
                .filter(|(_, a)| *a > 0)
                .map(|(denom, amount)| Coin { denom, amount })
                .collect(),
        ))
    }

    /// The coins, sorted by denom.
    pub fn as_slice(&self) -> &[Coin] {
        &self.0
    }

    /// Whether there are no coins.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `self` holds at least `other`'s amount of every denom.
    pub fn covers(&self, other: &Coins) -> bool {
        other
            .as_slice()
            .iter()
            .all(|c| self.amount_of(&c.denom) >= c.amount)
    }

    /// The sum of both sets.
    pub fn plus(&self, other: &Coins) -> Result<Coins, TxError> {
        Coins::normalize(self.0.iter().chain(other.0.iter()).cloned())
    }

    /// The amount of one denom (0 when absent).
    pub fn amount_of(&self, denom: &str) -> u128 {
        self.0
            .iter()
            .find(|c| c.denom == denom)
            .map_or(0, |c| c.amount)
    }

    /// The protobuf form.
    pub fn to_proto(&self) -> Vec<cosmos_sdk_proto::cosmos::base::v1beta1::Coin> {
        self.0.iter().map(Coin::to_proto).collect()
    }
}

impl fmt::Display for Coins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|c| c.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

impl std::str::FromStr for Coins {
    type Err = TxError;

    /// Parses the CLI form `10ucsp,5uatom`.
    fn from_str(s: &str) -> Result<Self, TxError> {
        let mut coins = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let split = part
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(part.len());
            let (amount, denom) = part.split_at(split);
            validate_denom(denom)?;
            coins.push(Coin {
                denom: denom.to_string(),
                amount: parse_amount(amount)?,
            });
        }
        Coins::normalize(coins)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmos_sdk_proto::cosmos::base::v1beta1::Coin as P;

    fn p(d: &str, a: &str) -> P {
        P {
            denom: d.into(),
            amount: a.into(),
        }
    }

    #[test]
    fn validates_like_cosmos() {
        assert!(Coins::from_proto(&[p("aaa", "1"), p("ucsp", "5")]).is_ok());
        assert!(Coins::from_proto(&[p("ucsp", "5"), p("aaa", "1")]).is_err());
        assert!(Coins::from_proto(&[p("ucsp", "5"), p("ucsp", "1")]).is_err());
        assert!(Coins::from_proto(&[p("ucsp", "0")]).is_err());
        assert!(Coins::from_proto(&[p("ucsp", "-1")]).is_err());
        assert!(Coins::from_proto(&[p("u", "1")]).is_err());
        assert!(
            Coins::from_proto(&[p("ucsp", "999999999999999999999999999999999999999999")]).is_err()
        );
    }

    #[test]
    fn parses_cli_form() {
        let c: Coins = "10ucsp, 5aaa".parse().unwrap();
        assert_eq!(c.to_string(), "5aaa,10ucsp");
        assert!("ucsp".parse::<Coins>().is_err());
        assert!("10".parse::<Coins>().is_err());
    }
}
