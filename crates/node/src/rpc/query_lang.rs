//! CometBFT's event query language, one reading for `tx_search`, `block_search` and WebSocket
//! subscriptions: `key op operand` conditions joined by `AND`, with `=`, `<`, `<=`, `>`,
//! `>=`, `CONTAINS` and `EXISTS`, and string, integer, float, `DATE` and `TIME` operands.
//! tendermint-rpc parses it (the parser Hermes uses); this module gives the conditions their
//! meaning: `tm.event`, the height key (`tx.height` or `block.height`) and `tx.hash` narrow
//! the search, every other `type.attr` key tests event attributes.

use super::{parse_hash, RpcError};
use std::cmp::Ordering;
use std::ops::RangeInclusive;
use std::str::FromStr as _;
use tendermint_rpc::query::{EventType, Operand, Operation, Query};

/// Longest query accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;
/// Most conditions in one query.
pub const MAX_CONDITIONS: usize = 16;

/// A parsed query.
#[derive(Debug)]
pub(crate) struct Parsed {
    /// The `tm.event` named, if any.
    pub event: Option<String>,
    /// `tx.hash = 'HEX'`.
    pub hash: Option<[u8; 32]>,
    /// The heights the conditions on the height key allow.
    pub heights: RangeInclusive<u64>,
    /// Conditions on event attributes.
    pub attrs: Vec<Attr>,
}

/// A condition on an event attribute `type.attr`.
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    /// `type.attr`.
    pub key: String,
    /// What its value must satisfy.
    pub op: Operation,
}

impl Attr {
    /// The one value that passes, for `= 'string'`.
    pub fn exact(&self) -> Option<&str> {
        match &self.op {
            Operation::Eq(Operand::String(s)) => Some(s),
            _ => None,
        }
    }

    /// Whether `value` passes.
    pub fn passes(&self, value: &str) -> bool {
        let ordered = |operand: &Operand, want: fn(Ordering) -> bool| {
            compare(value, operand).is_some_and(want)
        };
        match &self.op {
            Operation::Eq(Operand::String(s)) => value == s,
            Operation::Eq(o) => ordered(o, Ordering::is_eq),
            Operation::Lt(o) => ordered(o, Ordering::is_lt),
            Operation::Lte(o) => ordered(o, Ordering::is_le),
            Operation::Gt(o) => ordered(o, Ordering::is_gt),
            Operation::Gte(o) => ordered(o, Ordering::is_ge),
            Operation::Contains(s) => value.contains(s.as_str()),
            Operation::Exists => true,
        }
    }

    /// Whether any of `(key, value)` pairs (`type.attr`, value) passes.
    pub fn passes_any<'a>(&self, mut pairs: impl Iterator<Item = (String, &'a str)>) -> bool {
        pairs.any(|(k, v)| k == self.key && self.passes(v))
    }
}

/// How an attribute value compares with a non-string operand (`None`: not comparable, e.g.
/// a value that is not a number against a number).
fn compare(value: &str, operand: &Operand) -> Option<Ordering> {
    match operand {
        Operand::String(_) => None,
        Operand::Unsigned(u) => compare_number(value, i128::from(*u), *u as f64),
        Operand::Signed(i) => compare_number(value, i128::from(*i), *i as f64),
        Operand::Float(f) => value.trim().parse::<f64>().ok()?.partial_cmp(f),
        Operand::Date(d) => {
            let day = value.get(..10)?;
            let v = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
            let month = u32::from(u8::from(d.month()));
            let want = chrono::NaiveDate::from_ymd_opt(d.year(), month, u32::from(d.day()))?;
            Some(v.cmp(&want))
        }
        Operand::DateTime(t) => {
            let v = chrono::DateTime::parse_from_rfc3339(value.trim()).ok()?;
            let v = i128::from(v.timestamp_nanos_opt()?);
            Some(v.cmp(&t.unix_timestamp_nanos()))
        }
    }
}

fn compare_number(value: &str, exact: i128, approx: f64) -> Option<Ordering> {
    let value = value.trim();
    match value.parse::<i128>() {
        Ok(v) => Some(v.cmp(&exact)),
        Err(_) => value.parse::<f64>().ok()?.partial_cmp(&approx),
    }
}

/// Parses `query`; `height_key` is `tx.height` or `block.height`, `tx.hash` is allowed with
/// `tx.height` only.
pub(crate) fn parse(query: &str, height_key: &str) -> Result<Parsed, RpcError> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(RpcError::invalid_params(format!(
            "query is {} bytes; at most {MAX_QUERY_BYTES}",
            query.len()
        )));
    }
    let q = Query::from_str(query.trim()).map_err(|e| RpcError::invalid_params(format!("{e}")))?;
    if q.conditions.len() > MAX_CONDITIONS {
        return Err(RpcError::invalid_params(format!(
            "query has {} conditions; at most {MAX_CONDITIONS}",
            q.conditions.len()
        )));
    }
    let mut parsed = Parsed {
        event: q.event_type.map(|e| {
            match e {
                EventType::NewBlock => "NewBlock",
                EventType::Tx => "Tx",
            }
            .to_string()
        }),
        hash: None,
        heights: 0..=u64::MAX,
        attrs: Vec::new(),
    };
    for c in q.conditions {
        match (c.key.as_str(), c.operation) {
            ("tm.event", Operation::Eq(Operand::String(e))) if parsed.event.is_none() => {
                parsed.event = Some(e)
            }
            ("tm.event", _) => {
                return Err(RpcError::invalid_params(
                    "tm.event takes one = 'EventName' condition",
                ))
            }
            ("tx.hash", Operation::Eq(Operand::String(h))) if height_key == "tx.height" => {
                parsed.hash = Some(parse_hash(&h)?)
            }
            (key, op) if key == height_key => parsed.heights = narrow(&parsed.heights, key, &op)?,
            (key, op) if is_attribute(key) => parsed.attrs.push(Attr {
                key: key.to_string(),
                op,
            }),
            (key, _) => {
                return Err(RpcError::invalid_params(format!(
                    "unsupported query key {key:?}: use {height_key}{}, or type.attribute",
                    if height_key == "tx.height" {
                        ", tx.hash"
                    } else {
                        ""
                    }
                )))
            }
        }
    }
    Ok(parsed)
}

/// Keys with a meaning of their own (the others name event attributes: `tx.fee_payer` is
/// an attribute of the SDK's `tx` event).
const RESERVED: &[&str] = &["tx.hash", "tx.height", "block.height"];

fn is_attribute(key: &str) -> bool {
    key.contains('.')
        && !key.starts_with('.')
        && !key.ends_with('.')
        && !key.starts_with("tm.")
        && !RESERVED.contains(&key)
}

/// `heights` narrowed by one condition on the height key.
fn narrow(
    heights: &RangeInclusive<u64>,
    key: &str,
    op: &Operation,
) -> Result<RangeInclusive<u64>, RpcError> {
    let number = |o: &Operand| match o {
        Operand::Unsigned(u) => Ok(*u),
        _ => Err(RpcError::invalid_params(format!(
            "{key} compares with a whole number, e.g. {key} >= 5"
        ))),
    };
    let (lo, hi) = (*heights.start(), *heights.end());
    let (lo, hi) = match op {
        Operation::Eq(o) => {
            let n = number(o)?;
            (lo.max(n), hi.min(n))
        }
        Operation::Gt(o) => (lo.max(number(o)?.saturating_add(1)), hi),
        Operation::Gte(o) => (lo.max(number(o)?), hi),
        Operation::Lt(o) => match number(o)?.checked_sub(1) {
            Some(n) => (lo, hi.min(n)),
            None => (1, 0),
        },
        Operation::Lte(o) => (lo, hi.min(number(o)?)),
        Operation::Contains(_) | Operation::Exists => {
            return Err(RpcError::invalid_params(format!(
                "{key} takes =, <, <=, > or >="
            )))
        }
    };
    // An empty range (lo > hi) matches nothing, as CometBFT answers.
    Ok(lo..=hi)
}

#[cfg(test)]
mod tests;
