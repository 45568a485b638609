//! Coin amounts as people type them: the base denomination (`1500000ucsp`) or the display one
//! (`1.5csp`: the bank metadata's 6 decimals), converted before anything is signed or written;
//! any other denomination is refused, since sending it could only fail in the block.

use anyhow::{anyhow, bail, Result};
use caspur_types::{Coins, STAKE_DENOM};

/// The display denomination.
pub const DISPLAY_DENOM: &str = "csp";
/// Decimals of the display denomination over the base one.
pub const DISPLAY_EXPONENT: usize = 6;

/// Parses `1000ucsp`, `1.5csp` or a comma-separated list of them into base-denomination coins.
pub fn parse_coins(s: &str) -> Result<Coins> {
    let mut base = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let split = part
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(part.len());
        let (number, denom) = part.split_at(split);
        let amount = match denom {
            STAKE_DENOM if number.contains('.') => {
                bail!("{part}: {STAKE_DENOM} is indivisible; write {DISPLAY_DENOM} for fractions")
            }
            STAKE_DENOM => number.to_string(),
            DISPLAY_DENOM => to_base(number).ok_or_else(|| {
                anyhow!("{part}: a {DISPLAY_DENOM} amount has at most {DISPLAY_EXPONENT} decimals")
            })?,
            "" => bail!("{part:?} has no denomination: write e.g. 1000000{STAKE_DENOM} or 1{DISPLAY_DENOM}"),
            other => bail!(
                "unknown denomination {other:?}: this chain's coin is {STAKE_DENOM} (1 {DISPLAY_DENOM} = 1,000,000 {STAKE_DENOM})"
            ),
        };
        base.push(format!("{amount}{STAKE_DENOM}"));
    }
    base.join(",")
        .parse()
        .map_err(|e| anyhow!("amount {s:?}: {e}"))
}

/// `1.5` display units as base units (`1500000`); `None` past 6 decimals or on overflow.
fn to_base(number: &str) -> Option<String> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if fraction.len() > DISPLAY_EXPONENT || (whole.is_empty() && fraction.is_empty()) {
        return None;
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction: u128 = format!("{fraction:0<DISPLAY_EXPONENT$}").parse().ok()?;
    whole
        .checked_mul(10u128.pow(DISPLAY_EXPONENT as u32))?
        .checked_add(fraction)
        .map(|v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_amounts_convert_and_others_are_refused_by_name() {
        let c = |s: &str| {
            parse_coins(s)
                .map(|c| c.to_string())
                .map_err(|e| e.to_string())
        };
        assert_eq!(c("1csp").as_deref(), Ok("1000000ucsp"));
        assert_eq!(c("1.5csp").as_deref(), Ok("1500000ucsp"));
        assert_eq!(c(".000001csp").as_deref(), Ok("1ucsp"));
        assert_eq!(c("42ucsp").as_deref(), Ok("42ucsp"));
        for (bad, says) in [
            ("1.0000001csp", "at most 6 decimals"),
            ("1.5ucsp", "indivisible"),
            ("5", "no denomination"),
            ("5uatom", "unknown denomination \"uatom\""),
            ("5CSP", "unknown denomination"),
            (
                "99999999999999999999999999999999999999csp",
                "at most 6 decimals",
            ),
        ] {
            let e = c(bad).err().unwrap_or_default();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
